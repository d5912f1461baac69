"""The qualification exam in a run, over the loopback provider: calls, table, verdict, cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.graders import Contains
from evalkit.probes._exam_stats import exam_accuracy
from evalkit.report import load_run, render
from evalkit.session import EvalSession
from evalkit.session._plan import plan_suites
from evalkit.session._summary import suite_lines
from evalkit.testing import FakeProvider, JudgeParams

N_ITEMS = 30


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(self_family="openai", seed=2))
        yield provider


def _session(
    root: Path, fake: FakeProvider, run_id: str, written: list[str], **settings: Any
) -> EvalSession:
    config = EvalkitConfig.model_validate({
        "candidate": "openai/sim-writer-google-q0.80", "candidate_api_base": fake.base_url,
        "baseline": "openai/sim-writer-meta-q0.40", "baseline_api_base": fake.base_url,
        "panel": "p", "cache_dir": root / "cache", "reports_dir": root / "reports",
        "max_retries": 0, "backoff_s": 0.01, **settings,
    })  # fmt: skip
    return EvalSession(config, root, run_id=run_id, progress=written.append)


def test_a_judge_blind_to_planted_errors_fails_the_exam_and_a_rerun_is_free(
    tmp_path: Path, fake: FakeProvider
) -> None:
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "fair.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-fair\nfamily: openai\napi_base: {fake.base_url}\n"
        "template: pairwise_chat.j2\n"
    )
    (tmp_path / "judges" / "p.yaml").write_text("kind: panel\njudges: [fair]\n")
    rows = [{"id": f"q{i:02d}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    # The grader passes the stronger writer's answers only: every item gives a graded pair.
    suite = Suite(
        "s", dataset="data.jsonl", base_dir=tmp_path, exam=40, graders=[Contains("family=google")]
    )
    written: list[str] = []
    run = _session(tmp_path, fake, "exam-run", written)
    try:
        result = run.suite_result(suite)
    finally:
        run.finish()
    assert result.probes is not None
    exam = exam_accuracy(result.probes).set_index("probe")
    # The simulated judge reads the answers' hidden quality, which a planted error leaves as it
    # was: it tells graded pairs apart and planted errors not at all.
    assert exam.loc["exam:graded", "n_pairs"] == N_ITEMS
    assert exam.loc["exam:graded", "accuracy"] >= 0.8
    assert exam.loc["exam:negation", "high"] < 0.75
    (check,) = result.audit.checks.loc[result.audit.checks["check"] == "exam"].to_dict("records")
    assert check["status"] == "untrusted"
    assert result.audit.verdicts()["fair"] == "untrusted"
    assert any("exam asked for 40 items but only 30" in w for w in written)
    assert any(
        line.startswith("  exam: fair untrusted: exam accuracy")
        for line in suite_lines(result.record())
    )
    html = render(load_run(run.run_dir))
    assert "Qualification exam" in html
    # The pairs it got wrong show the question the judge was shown.
    mistakes = html[html.index('class="exam-mistakes"') :]
    assert '<p class="small muted">Question ' in mistakes

    fake.reset()
    again = _session(tmp_path, fake, "exam-rerun", [])
    try:
        second = again.suite_result(suite)
    finally:
        again.finish()
    assert fake.requests() == 0
    assert second.probes is not None
    assert exam_accuracy(second.probes).equals(exam_accuracy(result.probes))


def _fair_judge_project(
    root: Path, fake: FakeProvider, *, items: int, with_reference: int, samples: int = 1
) -> None:
    """A panel of one fair judge (``p``) and ``data.jsonl``: the first rows have a reference."""
    (root / "judges").mkdir()
    (root / "judges" / "fair.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-fair\nfamily: openai\napi_base: {fake.base_url}\n"
        f"template: pairwise_chat.j2\nsamples: {samples}\n"
    )
    (root / "judges" / "p.yaml").write_text("kind: panel\njudges: [fair]\n")
    rows = [
        {"id": f"q{i:02d}", "question": f"Question {i}?"}
        | ({"reference": f"It is {i + 10} km."} if i < with_reference else {})
        for i in range(items)
    ]
    (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_the_dry_run_counts_the_exam_calls_as_an_upper_bound_and_makes_none(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # 10 items, 6 with a reference: without graders only those 6 can give exam pairs.
    _fair_judge_project(tmp_path, fake, items=10, with_reference=6, samples=2)

    def exam_row(**fields: Any) -> tuple[int, str]:
        suite = Suite("s", dataset="data.jsonl", base_dir=tmp_path, **fields)
        plan = plan_suites(_session(tmp_path, fake, "dry", [], dry_run=True), [suite])
        (row,) = [r for r in plan.rows if r.role == "judge fair exam"]
        assert any(line.split()[:2] == ["s", "judge"] and "fair exam" in line
                   for line in plan.lines())  # fmt: skip
        return row.calls, row.detail

    # 4 items x 3 kinds of planted error x 2 orders x 2 samples.
    calls, detail = exam_row(exam=4)
    assert calls == 4 * 3 * 2 * 2
    assert "upper bound" in detail
    # exam=True: every item with a reference; exam=20 is capped at those 6 as the run caps it.
    assert exam_row(exam=True)[0] == 6 * 3 * 2 * 2
    assert exam_row(exam=20)[0] == 6 * 3 * 2 * 2
    # With a grader every item may qualify, and each may also give a graded pair.
    assert exam_row(exam=True, graders=[Contains("km")])[0] == 10 * 4 * 2 * 2
    assert fake.requests() == 0
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("exam", [20, 4, 1])
def test_a_shard_notes_the_exam_as_the_run_in_one_process_does(
    tmp_path: Path, fake: FakeProvider, exam: int
) -> None:
    # 12 items, 10 with a reference: the exam can draw from those 10 only.
    _fair_judge_project(tmp_path, fake, items=12, with_reference=10)
    suite = Suite("s", dataset="data.jsonl", base_dir=tmp_path, exam=exam)

    def notes(**settings: Any) -> tuple[list[str], set[str]]:
        """The exam's notes the run writes, and the items it examines."""
        written: list[str] = []
        run = _session(tmp_path, fake, f"run-{len(list(tmp_path.iterdir()))}", written, **settings)
        try:
            result = run.suite_result(suite)
        finally:
            run.finish()
        assert result.probes is not None
        examined = set(result.probes.loc[result.probes["kind"] == "exam", "item_id"])
        return [w for w in written if w.startswith("evalkit: suite 's': exam")], examined

    whole, examined = notes()
    capped = (
        "evalkit: suite 's': exam asked for 20 items but only 10 have a known answer (a "
        "reference, or answers the graders judged); the exam uses 10\n"
    )
    assert whole == ([capped] if exam == 20 else [])
    # Drawn among the items with a reference: exam=4 examines 4 of them, not 2 and 2 without.
    assert len(examined) == min(exam, 10)
    assert all(int(item_id[1:]) < 10 for item_id in examined)
    # Each shard holds part of the items, and says what the whole run says of them all.
    parts = []
    for shard in ("1/2", "2/2"):
        said, part = notes(shard=shard)
        assert said == whole, shard
        parts.append(part)
    assert parts[0] | parts[1] == examined
    assert not parts[0] & parts[1]
