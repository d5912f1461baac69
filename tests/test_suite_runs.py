"""Whole suites run by pytest in a subprocess, against the fake provider and simulated models.

The candidate and baseline are simulated writers of known quality; the judges are simulated
judges with known biases, reached through litellm over loopback like any provider. So the
outcome of each run is known in advance, and these tests check that evalkit reports it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _project import N_ITEMS, SECRET, make_project, run_dir, run_pytest

from evalkit.testing import FakeProvider, JudgeParams, ModelBehaviour

# The everyday loop (-m 'not slow') leaves these out: whole suites run by pytest in subprocesses.
pytestmark = pytest.mark.slow

@pytest.fixture
def fake() -> FakeProvider:
    with FakeProvider(seed=1) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(position_bias=0.5, seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        yield provider


def test_better_candidate_passes_and_biased_judge_is_measured(tmp_path: Path, fake: FakeProvider) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3)
    proc = run_pytest(root)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "gate win_rate      PASS" in proc.stdout
    table = pd.read_json(run_dir(root) / "judgments.jsonl", lines=True)
    assert len(table) == N_ITEMS * 2 * 2
    assert table.groupby(["item_id", "judge"])["order"].nunique().eq(2).all()
    # Verdicts are mapped back to the original labels: the fair judge, facing a much better
    # candidate, picks it in both orders almost always.
    fair = table[table["judge"] == "fair"]
    assert (fair["verdict"] == "candidate").mean() > 0.85
    run = json.loads((run_dir(root) / "run.json").read_text())
    position = {p["judge"]: p for p in run["suites"][0]["position"]}
    # The judge with injected first-position preference is seen to prefer the first slot more.
    assert position["first"]["first_position_rate"] > position["fair"]["first_position_rate"]
    assert position["fair"]["consistency"] > 0.85
    assert fake.requests() == N_ITEMS * 2 + N_ITEMS * 2 * 2


def test_worse_candidate_fails_the_gate_with_exit_code_1(tmp_path: Path, fake: FakeProvider) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.2, baseline_q=0.8)
    proc = run_pytest(root)
    assert proc.returncode == 1, proc.stdout[-4000:]
    assert "gate win_rate      FAIL" in proc.stdout
    assert "FAILED suites/test_sim.py::test_gate[win_rate]" in proc.stdout
    # Items are not failures: losing one item is what the gate weighs.
    assert "test_item" not in proc.stdout.split("short test summary")[-1]


def test_rerun_is_served_from_the_cache_and_secrets_are_never_written(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.7, baseline_q=0.5)
    first = run_pytest(root)
    calls = fake.requests()
    assert calls == N_ITEMS * 6
    second = run_pytest(root)
    assert fake.requests() == calls, "a rerun must not reach the provider"
    assert first.returncode == second.returncode
    runs = sorted(p for p in (root / "out" / "reports").iterdir())
    tables = [pd.read_json(r / "judgments.jsonl", lines=True) for r in runs]
    cols = ["item_id", "judge", "order", "verdict", "raw_output"]
    key = ["item_id", "judge", "order"]
    assert tables[0][cols].sort_values(key).reset_index(drop=True).equals(
        tables[1][cols].sort_values(key).reset_index(drop=True)
    )
    assert tables[1]["cached"].all()
    # The provider did receive the key, so the search below is not vacuous.
    assert any(SECRET in str(r.headers) for r in fake.received())
    for path in (root / "out").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in first.stdout + first.stderr


def test_accepted_run_and_regression_gate_with_junit_properties(
    tmp_path: Path, fake: FakeProvider
) -> None:
    gates = "[evalkit.gates.NoRegression(min_items=20)]"
    root = make_project(tmp_path, fake, candidate_q=0.8, baseline_q=0.5, gates=gates)
    first = run_pytest(root, "--evalkit-accept")
    # No accepted run yet: inconclusive, which warns outside CI.
    assert first.returncode == 0, first.stdout[-3000:]
    assert "no accepted run to compare with" in first.stdout
    accepted = json.loads((root / "evalkit-baselines" / "sim.json").read_text())
    assert len(accepted["panel"]) == N_ITEMS
    # The same candidate again: no regression.
    again = run_pytest(root)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "gate no_regression PASS" in again.stdout
    # A much worse candidate: the paired interval is wholly below zero.
    make_project(root, fake, candidate_q=0.1, baseline_q=0.5, gates=gates)
    worse = run_pytest(root, "--junitxml=out/junit.xml")
    assert worse.returncode == 1, worse.stdout[-3000:]
    assert "gate no_regression FAIL" in worse.stdout
    junit = (root / "out" / "junit.xml").read_text()
    assert 'name="evalkit_outcome" value="fail"' in junit
    assert 'name="evalkit_n" value="40"' in junit


def test_xdist_workers_share_one_run_folder_and_cache(tmp_path: Path, fake: FakeProvider) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3)
    # A second suite, so that two workers each evaluate one; it probes its judges, so that the
    # workers' probe rows must be merged too.
    (root / "suites" / "test_sim2.py").write_text(
        "import evalkit\n"
        "suite = evalkit.Suite('sim2', dataset='data.jsonl', prompt='Again: {{ question }}',\n"
        "                      gates=[evalkit.gates.WinRate(at_least=0.5, min_items=20)],\n"
        "                      probes=['tone'], probe_items=5)\n"
        "test_item, test_gate = suite.tests()\n"
    )
    proc = run_pytest(root, "-n", "2")
    assert proc.returncode == 0, proc.stdout[-4000:]
    folder = run_dir(root)
    assert sorted(p.name for p in folder.iterdir()) == [
        "answers.jsonl",
        "judgments.jsonl",
        "probes.jsonl",
        "report.html",
        "run.json",
    ]
    probes = pd.read_json(folder / "probes.jsonl", lines=True)
    assert set(probes["suite"]) == {"sim2"}
    assert probes["item_id"].nunique() == 5
    assert not probes.duplicated(["item_id", "probe", "judge", "order", "sample"]).any()
    table = pd.read_json(folder / "judgments.jsonl", lines=True)
    assert table.groupby("suite").size().to_dict() == {"sim": N_ITEMS * 4, "sim2": N_ITEMS * 4}
    assert not table.duplicated(["suite", "item_id", "judge", "order", "sample"]).any()
    run = json.loads((folder / "run.json").read_text())
    assert sorted(s["name"] for s in run["suites"]) == ["sim", "sim2"]
    assert "suite sim:" in proc.stdout
    assert "suite sim2:" in proc.stdout
    # Each suite was paid for once: 2 suites x (2 answers + 4 judge calls) per item.
    # 2 answers + 2 judges x 2 orders per item and suite; then sim2's probe: 5 items x 2 judges x
    # 2 orders of the edited pair (the unedited pairs are the panel's own calls, from the cache).
    assert fake.requests() == 2 * N_ITEMS * 6 + 5 * 2 * 2


def test_budget_stops_the_run_cleanly_and_estimates_the_rest(tmp_path: Path, fake: FakeProvider) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3)
    proc = run_pytest(root, "--evalkit-max-calls=100", "--evalkit-concurrency=2")
    folder = run_dir(root)
    table = pd.read_json(folder / "judgments.jsonl", lines=True)
    answers = pd.read_json(folder / "answers.jsonl", lines=True)
    # Exactly the allowed number of calls reached the provider; the rest are rows that say so.
    assert fake.requests() == 100
    not_run = table["status"] == "not_run"
    assert not_run.sum() > 0
    assert table.loc[not_run, "error"].str.startswith("budget reached").all()
    assert len(table) == N_ITEMS * 4
    assert len(answers) == N_ITEMS * 2
    assert "stopped: budget reached:" in proc.stdout
    assert "the rest would cost about $0.0000" in proc.stdout  # simulated models are unpriced
    run = json.loads((folder / "run.json").read_text())
    assert run["suites"][0]["stopped"].startswith("budget reached")
    assert (folder / "report.html").exists()


def test_ctrl_c_finishes_in_flight_calls_writes_an_interrupted_report_and_exits_non_zero(
    tmp_path: Path, fake: FakeProvider
) -> None:
    import signal
    import time

    for model in ("sim-judge-fair", "sim-judge-first"):
        fake.behave(model, ModelBehaviour(latency_s=0.05))
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALKIT_", "PYTEST_", "CI"))}
    env["OPENAI_API_KEY"] = SECRET
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider",
         "--evalkit-concurrency=2"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    judgments = root / "out" / "reports"
    while time.monotonic() < deadline:
        files = list(judgments.rglob("judgments.jsonl"))
        if files and len(files[0].read_text().splitlines()) >= 20:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, out[-3000:]  # pytest's "interrupted"
    folder = run_dir(root)
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "interrupted"
    assert "interrupted" in (folder / "report.html").read_text()
    table = pd.read_json(folder / "judgments.jsonl", lines=True)
    # Calls in flight finished and were recorded; the others say they were not made.
    assert len(table) == N_ITEMS * 4
    not_run = table["status"] == "not_run"
    assert 0 < not_run.sum() < len(table)
    assert (table.loc[not_run, "error"] == "interrupted").all()
    assert fake.requests() == N_ITEMS * 2 + int((~not_run).sum())
    assert "the run was interrupted" in out


def test_two_gates_of_one_kind_are_each_enforced(tmp_path: Path, fake: FakeProvider) -> None:
    # Regression: both gates were named "win_rate" and both tests read the first one's result,
    # so a failing second gate passed CI.
    gates = "[evalkit.gates.WinRate(at_least=0.1), evalkit.gates.WinRate(at_least=0.99)]"
    root = make_project(tmp_path, fake, candidate_q=0.5, baseline_q=0.5, gates=gates)
    proc = run_pytest(root)
    assert proc.returncode == 1, proc.stdout[-4000:]
    assert "PASSED" not in proc.stdout  # -q: only failures are named
    summary = proc.stdout.split("short test summary")[-1]
    assert "FAILED suites/test_sim.py::test_gate[win_rate(at_least=0.99)]" in summary
    assert "test_gate[win_rate(at_least=0.1)]" not in summary
    run = json.loads((run_dir(root) / "run.json").read_text())
    outcomes = {g["name"]: g["outcome"] for g in run["suites"][0]["gates"]}
    assert outcomes == {"win_rate(at_least=0.1)": "pass", "win_rate(at_least=0.99)": "fail"}


def test_two_gates_with_one_name_are_refused_before_any_call(
    tmp_path: Path, fake: FakeProvider
) -> None:
    gates = "[evalkit.gates.WinRate(at_least=0.6), evalkit.gates.PassRate(name='win_rate(at_least=0.6)')]"
    root = make_project(tmp_path, fake, candidate_q=0.5, baseline_q=0.5, gates=gates)
    proc = run_pytest(root)
    assert proc.returncode != 0
    assert "suite 'sim' has two gates named 'win_rate(at_least=0.6)'" in proc.stdout
    assert fake.requests() == 0


def test_two_suites_with_one_name_are_refused_naming_both_modules(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # Regression: the second suite was never evaluated, its gates passed on the first's result.
    root = make_project(tmp_path, fake, candidate_q=0.5, baseline_q=0.5)
    (root / "suites" / "other.jsonl").write_text('{"id": "x1", "question": "Other?"}\n')
    (root / "suites" / "test_other.py").write_text(
        "import evalkit\n"
        "suite = evalkit.Suite('sim', dataset='other.jsonl')\n"
        "test_item, test_gate = suite.tests()\n"
    )
    proc = run_pytest(root)
    assert proc.returncode == 4, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "two suites are named 'sim'" in out
    assert "test_sim.py" in out
    assert "test_other.py" in out
    assert fake.requests() == 0
