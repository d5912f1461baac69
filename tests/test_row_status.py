"""A row's status is a column set once, where the row is made, and every count reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.records import read_judgments
from evalkit.records._status import derive_status
from evalkit.records._store import read_answers
from evalkit.report import load_run
from evalkit.report._summary import failures
from evalkit.session import EvalSession
from evalkit.testing import FakeProvider, Fault, JudgeParams, ModelBehaviour

CANDIDATE = "openai/sim-writer-openai-q0.90"
BASELINE = "openai/sim-writer-meta-q0.30"
N_ITEMS = 5


def _legacy_row(i: int, **fields: Any) -> dict[str, Any]:
    """A judgments row as evalkit wrote it before the status column (kind prefixed to error)."""
    return {
        "run_id": "old", "suite": "s", "item_id": f"q{i}", "mode": "pairwise",
        "candidate": "c", "candidate_family": "openai", "baseline": "b",
        "baseline_family": "meta", "judge": "j", "judge_family": "anthropic", "order": "AB",
        "sample": 0, "verdict": None, "parse_ok": False, "error": None, "cached": False,
        "cost_usd": 0.0, "input_tokens": 0, "output_tokens": 0, **fields,
    }  # fmt: skip


#: An old table: 2 ok, 3 unparseable (two written "parse: …", one with no error at all),
#: and 3 without a verdict for another reason (a failed call, an interrupted one, no answer).
LEGACY = [
    _legacy_row(0, verdict="candidate", parse_ok=True),
    _legacy_row(1, verdict="tie", parse_ok=True),
    _legacy_row(2, error="parse: no [[A]], [[B]] or [[C]] label found"),
    _legacy_row(3, error="parse: no label; after repair: no label"),
    _legacy_row(4),
    _legacy_row(5, error="timeout: no answer within 30 s"),
    _legacy_row(6, error="not_run: not run: interrupted"),
    _legacy_row(7, error="not judged: no baseline answer"),
]


def test_an_old_table_gets_its_status_from_one_function() -> None:
    status = derive_status(pd.DataFrame(LEGACY)).tolist()
    assert status == [
        "ok", "ok", "unparseable", "unparseable", "unparseable", "failed", "not_run", "no_answer"
    ]  # fmt: skip


def test_the_report_and_the_run_record_count_an_old_table_alike(tmp_path: Path) -> None:
    (tmp_path / "judgments.jsonl").write_text("".join(json.dumps(r) + "\n" for r in LEGACY))
    run = load_run(tmp_path)
    calls = run.run.suite("s").calls
    shown = failures(run)
    assert (calls.unparseable, shown["n_unparseable"]) == (3, 3)
    assert (calls.failed, shown["n_failed"]) == (3, 3)
    assert (calls.not_run, calls.no_answer, calls.judge) == (1, 1, 8)
    per_judge = shown["per_judge"][0]
    assert (per_judge["unparseable"], per_judge["failed"]) == (3, 3)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-mute", JudgeParams(parse_failure_rate=1.0, seed=4))
        provider.register_judge("sim-judge-down", JudgeParams(seed=2))
        provider.behave(
            "sim-judge-down", ModelBehaviour(faults=(Fault.http_error(500),), fault_rate=1.0)
        )
        yield provider


def _project(root: Path, fake: FakeProvider) -> EvalSession:
    (root / "judges").mkdir()
    for name, family in (("fair", "anthropic"), ("mute", "google"), ("down", "mistral")):
        (root / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n"
        )
    (root / "judges" / "p.yaml").write_text("kind: panel\njudges: [fair, mute, down]\n")
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = EvalkitConfig(
        candidate=CANDIDATE, candidate_api_base=fake.base_url,
        baseline=BASELINE, baseline_api_base=fake.base_url,
        panel="p", cache_dir=root / "cache", reports_dir=root / "reports",
        max_retries=0, backoff_s=0.01,
    )  # fmt: skip
    return EvalSession(config, root)


def test_run_json_and_the_report_count_a_mixed_run_alike(
    tmp_path: Path, fake: FakeProvider
) -> None:
    session = _project(tmp_path, fake)
    try:
        result = session.suite_result(Suite("s", dataset="data.jsonl", base_dir=tmp_path))
    finally:
        closed = session.finish()
    assert closed is not None
    table = result.judgments
    by_judge = table.groupby("judge")["status"].agg(lambda s: sorted(set(s))).to_dict()
    assert by_judge == {"down": ["failed"], "fair": ["ok"], "mute": ["unparseable"]}
    # error keeps the message only: the status is not written into it again.
    assert not table["error"].dropna().str.startswith(("parse", "failed", "unparseable")).any()
    assert table.loc[table["status"] == "ok", "error"].isna().all()
    written = json.loads((session.run_dir / "run.json").read_text())["suites"][0]["calls"]
    shown = failures(load_run(session.run_dir))
    per_judge = N_ITEMS * 2
    assert (written["unparseable"], shown["n_unparseable"]) == (per_judge, per_judge)
    assert (written["failed"], shown["n_failed"]) == (per_judge, per_judge)
    assert closed.record.suite("s").calls.model_dump() == written
    answers = read_answers(session.run_dir)
    assert set(answers["status"]) == {"ok"}
    assert set(read_judgments(session.run_dir)["status"]) == {"ok", "unparseable", "failed"}


def test_answers_carry_their_status_and_old_ones_get_it(tmp_path: Path) -> None:
    (tmp_path / "judgments.jsonl").write_text("".join(json.dumps(r) + "\n" for r in LEGACY))
    answers = [
        {"suite": "s", "item_id": "q0", "role": "candidate", "text": "4", "error": None,
         "status": "ok", "cached": False},
        {"suite": "s", "item_id": "q1", "role": "candidate", "text": None,
         "error": "interrupted", "status": "not_run", "cached": False},
        {"suite": "s", "item_id": "q2", "role": "baseline", "text": None,
         "error": "empty answer", "status": "failed", "cached": True},
        # written before the status column: derived from the old error text
        {"suite": "s", "item_id": "q3", "role": "baseline", "text": None,
         "error": "not_run: not run: budget reached", "cached": False},
    ]  # fmt: skip
    (tmp_path / "answers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in answers))
    assert read_answers(tmp_path)["status"].tolist() == ["ok", "not_run", "failed", "not_run"]
    run = load_run(tmp_path)
    calls = run.run.suite("s").calls
    assert (calls.answers, calls.answers_failed, calls.answers_cached) == (4, 3, 1)
    shown = {e["message"]: e["count"] for e in failures(run)["answer_errors"]}
    assert shown["candidate: not_run: interrupted"] == 1
    assert shown["baseline: empty answer"] == 1
    assert sum(shown.values()) == 3
