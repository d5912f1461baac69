"""A rerun through pytest: unparseable replies replayed, --evalkit-retry-unparseable, the profile,
and a collection that imports none of the heavy libraries.

Whole runs in a subprocess against the fake provider (see test_suite_runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _project import make_project, run_pytest

from evalkit._profile import PHASES
from evalkit.testing import FakeProvider, JudgeParams

N = 20


@pytest.fixture
def fake() -> FakeProvider:
    with FakeProvider(seed=1) as provider:
        # One judge in three replies with no verdict: the rows the cache must keep.
        provider.register_judge("sim-judge-fair", JudgeParams(parse_failure_rate=0.35, seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        yield provider


def _judgments(root: Path) -> list[pd.DataFrame]:
    runs = sorted(p for p in (root / "out" / "reports").iterdir() if p.is_dir())
    return [pd.read_json(r / "judgments.jsonl", lines=True) for r in runs]


@pytest.mark.slow  # three whole runs in subprocesses
def test_a_rerun_replays_unparseable_replies_and_the_flag_asks_them_again(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.8, baseline_q=0.4, n_items=N)
    first = run_pytest(root)
    assert first.returncode in (0, 1), first.stdout[-3000:]
    (table,) = _judgments(root)
    fair = table[table["judge"] == "fair"]
    unparseable = int((fair["status"] == "unparseable").sum())
    assert unparseable >= 3
    made = fake.requests()

    second = run_pytest(root)
    assert second.returncode == first.returncode
    assert fake.requests() == made  # nothing asked again, unparseable replies included
    rerun = _judgments(root)[-1]
    assert rerun["cached"].all()
    assert int((rerun[rerun["judge"] == "fair"]["status"] == "unparseable").sum()) == unparseable

    third = run_pytest(root, "--evalkit-retry-unparseable", "--evalkit-profile")
    assert third.returncode in (0, 1), third.stdout[-3000:]
    # Exactly the unparseable replies were asked again, and only those.
    assert fake.requests() - made == unparseable
    assert fake.requests("sim-judge-fair") - unparseable == len(fair)
    profile = third.stdout[third.stdout.index("evalkit profile: wall time per phase") :]
    names = [line.split()[0] for line in profile.splitlines()[1:]]
    assert names == [*(p.split()[0] for p in PHASES), "other", "total"]


CONFTEST = """
import json, sys

HEAVY = ("litellm", "scipy", "sklearn", "statsmodels", "evalkit.report", "diskcache")


def pytest_collection_finish(session):
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    with open("imported.json", "w") as fh:
        json.dump({"loaded": loaded, "evalkit": "evalkit.plugin" in sys.modules}, fh)
"""


def test_collecting_suites_imports_no_model_statistics_or_report_library(tmp_path: Path) -> None:
    # The bundled local models (the default) need no litellm to be checked; collection, and
    # the preflight that runs with it, must not import the libraries a run needs later.
    (tmp_path / "suites").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.evalkit]\n")
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(5)]
    (tmp_path / "suites" / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "suites" / "test_s.py").write_text(
        "import evalkit\n"
        "suite = evalkit.Suite('s', dataset='data.jsonl',\n"
        "                      gates=[evalkit.gates.WinRate(at_least=0.5)])\n"
        "test_item, test_gate = suite.tests()\n"
    )
    (tmp_path / "conftest.py").write_text(CONFTEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALKIT_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "--collect-only", "-q",
         "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "test_item" in done.stdout
    imported = json.loads((tmp_path / "imported.json").read_text())
    assert imported == {"loaded": [], "evalkit": True}
