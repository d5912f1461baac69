"""A soak run against a faulty provider: every call and every item is accounted for.

10 % 429 (with a float Retry-After), 5 % 500, 2 % hangs past the timeout and 5 % malformed
bodies on every model. The run must end with one row per planned judge call, no duplicates,
each row a verdict or an error that says why, and each item a panel verdict or an abstention
with its reason. ``bench/soak.py`` runs the same shape with 5,000 calls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _project import make_project, run_dir, run_pytest

from evalkit.testing import FakeProvider, Fault, JudgeParams, ModelBehaviour

# The everyday loop (-m 'not slow') leaves these out: a soak of hundreds of calls with injected faults.
pytestmark = pytest.mark.slow

N = 100  # items: 2 answers + 4 judge calls each = 600 calls before retries
FAULTS = (
    (Fault.rate_limited("0.05"),) * 10
    + (Fault.http_error(500),) * 5
    + (Fault.hang(30.0),) * 2
    + (Fault.malformed(),) * 5
)


def make_faulty(fake: FakeProvider, latency_s: tuple[float, float] = (0.0, 0.01)) -> None:
    """Register the soak's judges and make every model fail 22 % of requests."""
    fake.register_judge("sim-judge-fair", JudgeParams(seed=1, parse_failure_rate=0.05))
    fake.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
    behaviour = ModelBehaviour(latency_s=latency_s, faults=FAULTS, fault_rate=0.22)
    for model in ("sim-writer-openai-q0.70", "sim-writer-meta-q0.50",
                  "sim-judge-fair", "sim-judge-first"):  # fmt: skip
        fake.behave(model, behaviour)


@pytest.fixture
def faulty() -> FakeProvider:
    with FakeProvider(seed=11) as fake:
        make_faulty(fake)
        yield fake


def test_every_call_and_item_is_accounted_for(tmp_path: Path, faulty: FakeProvider) -> None:
    root = make_project(tmp_path, faulty, candidate_q=0.7, baseline_q=0.5, n_items=N)
    proc = run_pytest(root, "--evalkit-timeout-s=0.5", "--evalkit-max-retries=2")
    assert proc.returncode in (0, 1), proc.stdout[-3000:]
    folder = run_dir(root)
    table = pd.read_json(folder / "judgments.jsonl", lines=True)
    assert len(table) == N * 2 * 2
    assert not table.duplicated(["suite", "item_id", "judge", "order", "sample"]).any()
    verdict = table["verdict"].notna()
    # A verdict, or an error that says why: never both, never neither.
    assert (verdict ^ table["error"].notna()).all()
    assert (verdict == table["parse_ok"]).all()
    assert set(table.loc[verdict, "status"]) == {"ok"}
    assert set(table.loc[~verdict, "status"]) <= {"unparseable", "failed", "no_answer"}
    reasons = table.loc[table["status"] == "failed", "error"].str.split(":").str[0]
    assert set(reasons) <= {"timeout", "unavailable", "rate_limited", "transient"}
    assert verdict.mean() > 0.8  # retries recover most faults
    answers = pd.read_json(folder / "answers.jsonl", lines=True)
    assert len(answers) == N * 2
    assert not answers.duplicated(["item_id", "role"]).any()
    panel = json.loads((folder / "run.json").read_text())["suites"][0]["panel"]
    assert len(panel) == N
    for item in panel:
        assert (item["verdict"] is not None) != bool(item["abstained"]), item
        if item["abstained"]:
            assert item["reason"], item
    # Faults were really injected, and retried.
    assert faulty.requests() > N * 6
