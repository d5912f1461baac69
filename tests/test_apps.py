"""A Python function as the candidate: called like a model, cached by version, failures recorded."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from _project import run_scored, write_scored_panel

import evalkit
from evalkit import AppAnswer
from evalkit.candidates._app import App
from evalkit.errors import UsageError
from evalkit.session._result import SuiteResult
from evalkit.testing import FakeProvider

WRITER = "openai/sim-writer-openai-q0.90"
N_ITEMS = 4


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    write_scored_panel(tmp_path, fake.base_url)
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def answers(result: SuiteResult) -> dict[str, Any]:
    return dict(result.answers["candidate"])


def test_a_sync_app_answers_every_item_in_its_own_thread(root: Path, fake: FakeProvider) -> None:
    threads: list[str] = []

    def answer(row: dict[str, Any]) -> str:
        threads.append(threading.current_thread().name)
        return f"The answer to {row['question']}"

    result = run_scored(root, evalkit.app(answer, version="v1"))
    got = answers(result)
    assert {k: a.text for k, a in got.items()} == {
        f"q{i}": f"The answer to Question {i}?" for i in range(N_ITEMS)
    }
    assert {a.model for a in got.values()} == {"answer@v1"}
    assert {a.family for a in got.values()} == {"unknown"}
    assert len(threads) == N_ITEMS
    assert threading.main_thread().name not in threads
    # The judges scored the app's answers; no baseline was asked.
    assert set(result.judgments["candidate"]) == {"answer@v1"}
    assert fake.requests("sim-judge-fair") == N_ITEMS


def test_answers_are_cached_by_version_refreshed_on_request_and_replayed(root: Path) -> None:
    calls: list[str] = []

    async def answer(row: dict[str, Any]) -> str:
        calls.append(row["id"])
        return "forty-two"

    run_scored(root, evalkit.app(answer, version="v1"))
    assert sorted(calls) == [f"q{i}" for i in range(N_ITEMS)]
    again = run_scored(root, evalkit.app(answer, version="v1"))
    assert len(calls) == N_ITEMS  # a rerun asks the cache, not the app
    assert all(a.cached for a in answers(again).values())
    run_scored(root, evalkit.app(answer, version="v2"))
    assert len(calls) == 2 * N_ITEMS  # a new version is a new app
    run_scored(root, evalkit.app(answer, version="v2"), settings={"cache_mode": "refresh"})
    assert len(calls) == 3 * N_ITEMS
    replayed = run_scored(
        root, evalkit.app(answer, version="v1"), settings={"cache_mode": "replay"}
    )
    assert len(calls) == 3 * N_ITEMS  # replay never calls the app
    assert {a.text for a in answers(replayed).values()} == {"forty-two"}


def test_the_concurrency_limit_bounds_the_calls_in_flight(root: Path) -> None:
    in_flight, most = 0, 0

    async def answer(row: dict[str, Any]) -> str:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return "ok"

    run_scored(root, evalkit.app(answer, version="v1", concurrency=2))
    assert most == 2


def test_an_app_calls_models_through_evalkits_client(root: Path, fake: FakeProvider) -> None:
    def answer(row: dict[str, Any], models: Any) -> AppAnswer:
        text = models.complete(WRITER, row["question"], api_base=fake.base_url)
        return AppAnswer(text, context=["doc"], input_tokens=3, output_tokens=5)

    first = answers(run_scored(root, evalkit.app(answer, version="v1", family="openai")))
    assert fake.requests("sim-writer-openai-q0.90") == N_ITEMS
    assert all(a.text and a.family == "openai" for a in first.values())
    # The app's model calls are charged to its answers: its own counts plus the model's
    # (the fake counts words: "Question 0?" is 2 input tokens).
    assert {a.input_tokens for a in first.values()} == {3 + 2}
    assert all(a.output_tokens == 5 + len((a.text or "").split()) for a in first.values())
    # The app's own calls are cached too: a new version reuses the model's answers.
    run_scored(root, evalkit.app(answer, version="v2", family="openai"))
    assert fake.requests("sim-writer-openai-q0.90") == N_ITEMS


class Boom(Exception):
    pass


def raises(row: dict[str, Any]) -> str:
    if row["id"] == "q1":
        raise Boom("no index for q1")
    return "fine"


async def hangs(row: dict[str, Any]) -> str:
    if row["id"] == "q1":
        await asyncio.Event().wait()  # never set
    return "fine"


def returns_none(row: dict[str, Any]) -> str | None:
    return None if row["id"] == "q1" else "fine"


def returns_five_mb(row: dict[str, Any]) -> str:
    return "x" * 5_000_000 if row["id"] == "q1" else "fine"


def returns_a_number(row: dict[str, Any]) -> Any:
    return 42 if row["id"] == "q1" else "fine"


def returns_blank(row: dict[str, Any]) -> str:
    return "  \n" if row["id"] == "q1" else "fine"


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (raises, "app: app raises@v1, item 'q1' raised Boom: no index for q1"),
        (hangs, "app: app hangs@v1, item 'q1' did not answer within 0.2 s; make it faster"),
        (returns_none, "app: app returns_none@v1, item 'q1' returned None; return the answer"),
        (returns_five_mb, "item 'q1' returned 5,000,000 bytes of text, over the 1,000,000-byte"),
        (returns_a_number, "item 'q1' returned a int, not a str or AppAnswer"),
        (returns_blank, "app: app returns_blank@v1, item 'q1' returned an empty answer"),
    ],
    ids=["raises", "hangs", "none", "5mb", "not-text", "blank"],
)
def test_a_failing_app_fails_that_item_only_and_is_not_cached(
    root: Path, fn: Any, message: str
) -> None:
    result = run_scored(root, evalkit.app(fn, version="v1", timeout_s=0.2))
    got = answers(result)
    failed = got.pop("q1")
    assert (failed.status, failed.text) == ("failed", None)
    assert failed.error is not None
    assert message in failed.error
    assert {a.status for a in got.values()} == {"ok"}  # the run went on
    item = result.item_conclusion("q1")
    assert item.status == "failed"
    assert message in item.message
    # Only the usable answers were cached: a rerun asks the app about q1 again, and only q1.
    asked: list[str] = []

    def record(row: dict[str, Any]) -> str:
        asked.append(row["id"])
        return "fixed"

    rerun = answers(run_scored(root, App(record, name=fn.__name__, version="v1")))
    assert asked == ["q1"]
    assert rerun["q1"].text == "fixed"
    # The results folder of the first run is still whole.
    assert len(list((root / "reports").glob("*/answers.jsonl"))) == 2


def test_what_is_not_an_app_is_refused_with_what_to_pass() -> None:
    with pytest.raises(UsageError, match=r"evalkit.app\(\) needs a function, got a str"):
        evalkit.app("my_app", version="v1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"evalkit.app\(raises\): version is missing; give"):
        evalkit.app(raises)
    with pytest.raises(UsageError, match=r"evalkit.app\(raises\): version is ' '; give"):
        evalkit.app(raises, version=" ")
    with pytest.raises(UsageError, match=r"concurrency=0; give 1 or more"):
        evalkit.app(raises, version="v1", concurrency=0)
    with pytest.raises(UsageError, match=r"timeout_s=inf; give a finite number"):
        evalkit.app(raises, version="v1", timeout_s=float("inf"))


def test_an_apps_context_reaches_the_judges_the_answers_table_and_the_report(
    root: Path, fake: FakeProvider
) -> None:
    (root / "judges" / "faithful.j2").write_text(
        "Is the answer supported by the context?\n[Context]\n{{ context }}\n[Question]\n"
        "{{ question }}\n[Answer]\n{{ answer }}\nRate from {{ scale_min }} to {{ scale_max }}: "
        "Rating: [[n]]"
    )
    spec = (root / "judges" / "fair.yaml").read_text()
    (root / "judges" / "fair.yaml").write_text(spec.replace("rubric_chat.j2", "faithful.j2"))

    def answer(row: dict[str, Any]) -> AppAnswer:
        return AppAnswer(
            f"Paris, says {row['id']}",
            context=[f"Doc for {row['id']}: Paris is the capital.", "Second passage."],
            tool_calls=[{"name": "search", "query": row["question"]}],
        )

    result = run_scored(root, evalkit.app(answer, version="v1"))
    shown = [r.body["messages"][-1]["content"] for r in fake.received() if "judge" in r.model]
    assert len(shown) == N_ITEMS
    q2 = next(text for text in shown if "Doc for q2" in text)
    assert "[1] Doc for q2: Paris is the capital.\n\n[2] Second passage." in q2
    assert 'tool call: {"name": "search", "query": "Question 2?"}' in q2
    # The answers table keeps the context as data, and the report's drill-down shows it.
    run_dir = next((root / "reports").iterdir())
    rows = [json.loads(line) for line in (run_dir / "answers.jsonl").open()]
    q0 = next(r for r in rows if r["item_id"] == "q0")
    assert q0["context"] == ["Doc for q0: Paris is the capital.", "Second passage."]
    assert q0["tool_calls"] == [{"name": "search", "query": "Question 0?"}]
    assert result.answers["candidate"]["q0"].context == q0["context"]
    html = (run_dir / "report.html").read_text()
    assert "Doc for q3: Paris is the capital." in html
    assert "candidate context" in html


def test_a_rerun_from_the_cache_keeps_the_context(root: Path) -> None:
    def answer(row: dict[str, Any]) -> AppAnswer:
        return AppAnswer("text", context="the one document")

    run_scored(root, evalkit.app(answer, version="v1"))
    again = answers(run_scored(root, evalkit.app(answer, version="v1")))
    assert {(a.cached, tuple(a.context or ())) for a in again.values()} == {
        (True, ("the one document",))
    }
