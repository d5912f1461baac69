"""Scored suites ask no baseline unless they name one: N answer calls for N items, not 2N."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.records import RunRecord
from evalkit.session import EvalSession
from evalkit.session._plan import plan_suites
from evalkit.session._summary import suite_lines
from evalkit.testing import FakeProvider, JudgeParams

CANDIDATE = "openai/sim-writer-openai-q0.90"
BASELINE = "openai/sim-writer-meta-q0.30"
N_ITEMS = 5


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-other", JudgeParams(seed=2))
        yield provider


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    (tmp_path / "judges").mkdir()
    for name, family in (("fair", "anthropic"), ("other", "google")):
        (tmp_path / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {fake.base_url}\nmode: pointwise\ntemplate: rubric_chat.j2\n"
            "parser: rating\nscale: {min: 1, max: 10}\n"
        )
    (tmp_path / "judges" / "p.yaml").write_text(
        "kind: panel\njudges: [fair, other]\naggregation: mean\nquorum: 1\n"
    )
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def session(root: Path, fake: FakeProvider) -> EvalSession:
    config = EvalkitConfig(
        candidate=CANDIDATE, candidate_api_base=fake.base_url,
        baseline=BASELINE, baseline_api_base=fake.base_url,
        panel="p", cache_dir=root / "cache", reports_dir=root / "reports",
        max_retries=0, backoff_s=0.01,
    )  # fmt: skip
    return EvalSession(config, root)


def suite(root: Path, **fields: Any) -> Suite:
    return Suite("s", dataset="data.jsonl", base_dir=root, mode="pointwise", **fields)


def test_a_pointwise_suite_makes_one_answer_call_per_item(root: Path, fake: FakeProvider) -> None:
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root))
    finally:
        closed = run.finish()
    assert fake.requests("sim-writer-openai-q0.90") == N_ITEMS
    assert fake.requests("sim-writer-meta-q0.30") == 0
    # Only the candidate's answers are scored: 2 judges x N items.
    assert fake.requests("sim-judge-fair") + fake.requests("sim-judge-other") == 2 * N_ITEMS
    assert set(result.judgments["candidate"]) == {CANDIDATE}
    answers = [json.loads(line) for line in (run.run_dir / "answers.jsonl").open()]
    assert [a["role"] for a in answers] == ["candidate"] * N_ITEMS
    # The run record, the summary and the report name no baseline.
    assert closed is not None
    record = RunRecord.model_validate_json((run.run_dir / "run.json").read_text())
    assert record.suites[0].models.baseline is None
    assert record.suites[0].calls.answers == N_ITEMS
    assert "vs" not in suite_lines(record.suites[0])[0]
    html = (run.run_dir / "report.html").read_text()
    # The configured baseline appears only in the settings listing, not as a model of the suite.
    assert "none asked" in html
    assert html.count(BASELINE) == 1
    assert "baseline answers" not in html


def test_the_dry_run_counts_no_baseline_calls(root: Path, fake: FakeProvider) -> None:
    plan = plan_suites(session(root, fake), [suite(root)])
    assert [r.kind for r in plan.rows] == ["candidate", "judge", "judge"]
    assert plan.calls("candidate") == N_ITEMS
    assert plan.calls("judge") == 2 * N_ITEMS
    assert all(BASELINE not in line and " baseline " not in line for line in plan.lines())
    assert fake.requests() == 0


def test_a_scored_suite_that_names_a_baseline_still_asks_and_scores_it(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root, baseline=BASELINE))
    finally:
        run.finish()
    assert fake.requests("sim-writer-meta-q0.30") == N_ITEMS
    assert set(result.judgments["candidate"]) == {CANDIDATE, BASELINE}
    assert result.models["baseline"] == {"name": BASELINE, "family": "meta"}


def test_self_preference_in_a_scored_suite_without_baseline_is_still_measured(
    root: Path, fake: FakeProvider
) -> None:
    # A judge of the candidate's own family: its scores of those answers against the others'.
    (root / "judges" / "fair.yaml").write_text(
        (root / "judges" / "fair.yaml").read_text().replace("anthropic", "openai")
    )
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root))
    finally:
        run.finish()
    assert [(d.judge, d.shared_with) for d in result.lineage] == [("fair", "candidate")]
    rows = result.audit.self_preference
    assert "fair" in set(rows["judge"])
