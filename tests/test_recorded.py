"""Recorded answers as the candidate: judged without generation; every id accounted for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _project import run_scored, scored_session, scored_suite, write_scored_panel

import evalkit
from evalkit.candidates._recorded import Recorded
from evalkit.errors import EvalkitError, UsageError
from evalkit.session._plan import plan_suites
from evalkit.testing import FakeProvider

N_ITEMS = 4


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    write_scored_panel(tmp_path, fake.base_url)
    rows = [{"id": f"q{i}", "question": f"Question {i}?", "answer": f"Stored {i}"}
            for i in range(N_ITEMS)]  # fmt: skip
    write_jsonl(tmp_path / "data.jsonl", rows)
    return tmp_path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_a_dataset_column_is_judged_without_any_generation(root: Path, fake: FakeProvider) -> None:
    result = run_scored(root, evalkit.recorded(column="answer"))
    got = result.answers["candidate"]
    assert {k: a.text for k, a in got.items()} == {f"q{i}": f"Stored {i}" for i in range(N_ITEMS)}
    assert {(a.model, a.status, a.cached) for a in got.values()} == {
        ("recorded:answer", "ok", False)
    }
    # The only requests were the judges': nothing was generated, no baseline was asked.
    assert fake.requests() == fake.requests("sim-judge-fair") == N_ITEMS
    assert set(result.judgments["candidate"]) == {"recorded:answer"}


def test_a_file_keyed_by_id_with_its_context(root: Path, fake: FakeProvider) -> None:
    rows = [{"qid": f"q{i}", "output": f"From file {i}", "docs": [f"doc {i}"]}
            for i in reversed(range(N_ITEMS))]  # fmt: skip
    write_jsonl(root / "answers.jsonl", rows)
    source = evalkit.recorded(file="answers.jsonl", id_field="qid", answer_field="output",
                              context_field="docs", name="prod-logs", family="openai")  # fmt: skip
    got = run_scored(root, source).answers["candidate"]
    assert {k: (a.text, a.context) for k, a in got.items()} == {
        f"q{i}": (f"From file {i}", [f"doc {i}"]) for i in range(N_ITEMS)
    }
    assert {(a.model, a.family) for a in got.values()} == {("prod-logs", "openai")}
    plan = plan_suites(scored_session(root), [scored_suite(root, source)])
    candidate = next(r for r in plan.rows if r.kind == "candidate")
    assert (candidate.calls, candidate.detail) == (0, "4 items, recorded answers: no call")


def test_a_csv_file_works_too(root: Path) -> None:
    lines = ["id,answer"] + [f"q{i},csv {i}" for i in range(N_ITEMS)]
    (root / "answers.csv").write_text("\n".join(lines) + "\n")
    got = run_scored(root, evalkit.recorded(file="answers.csv")).answers["candidate"]
    assert got["q3"].text == "csv 3"


ALL = [f"q{i}" for i in range(N_ITEMS)]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (
            [*ALL, "x9", "x8"],
            r"answers\.jsonl: 2 answer\(s\) for ids that are not in .*data\.jsonl: "
            r"'x9', 'x8'; fix their ids, or remove them from the file",
        ),
        (
            [*ALL, "q1", "q1"],
            r"answers\.jsonl: 1 id\(s\) have more than one answer: 'q1' on rows "
            r"2, 5, 6; keep one answer per item",
        ),
        (
            ALL[:2],
            r"answers\.jsonl: no answer for 2 item\(s\) of .*data\.jsonl: 'q2', 'q3'; add "
            r"their answers, or remove those items from the dataset",
        ),
    ],
    ids=["unknown", "duplicate", "missing"],
)
def test_every_id_is_accounted_for_before_any_call(
    root: Path, fake: FakeProvider, ids: list[str], message: str
) -> None:
    write_jsonl(root / "answers.jsonl", [{"id": i, "answer": "a"} for i in ids])
    s = scored_session(root)
    with pytest.raises(EvalkitError, match=r"^suite 's': .*" + message):
        s.suite_result(scored_suite(root, evalkit.recorded(file="answers.jsonl")))
    assert fake.requests() == 0
    assert not (root / "reports").exists()  # nothing was opened, nothing to lose


def test_bad_recorded_files_and_rows_are_named(root: Path, fake: FakeProvider) -> None:
    def refused(candidate: Recorded, message: str) -> None:
        with pytest.raises(EvalkitError, match=message):
            scored_session(root).suite_result(scored_suite(root, candidate))

    refused(evalkit.recorded(file="nope.jsonl"), r"nope\.jsonl: recorded answers file not found")
    write_jsonl(root / "answers.jsonl", [{"answer": "a"}])
    refused(evalkit.recorded(file="answers.jsonl"), r"answers\.jsonl:1: no 'id' field")
    write_jsonl(root / "answers.jsonl", [{"id": "q0", "answer": " "}])
    refused(evalkit.recorded(file="answers.jsonl"),
            r"answers\.jsonl:1: field 'answer' must hold the answer as non-empty text")  # fmt: skip
    write_jsonl(
        root / "data.jsonl", [{"id": "q0", "question": "Q?"}, {"id": "q1", "question": "Q?"}]
    )
    refused(evalkit.recorded(column="answer"),
            r"data\.jsonl: 2 item\(s\) have no 'answer' answer: 'q0', 'q1'")  # fmt: skip
    assert fake.requests() == 0


def test_recorded_needs_exactly_one_source() -> None:
    with pytest.raises(UsageError, match=r"needs either column='answer' .* not neither"):
        evalkit.recorded()
    with pytest.raises(UsageError, match=r"not both"):
        evalkit.recorded(column="a", file="b.jsonl")
