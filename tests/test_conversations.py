"""Conversation items: ``messages`` and MT-Bench-style ``turns`` rows, answered and judged.

Every request is counted and read back at the loopback fake provider, so the tests assert the
exact messages each turn's request carried.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.errors import EvalkitError
from evalkit.session import EvalSession
from evalkit.testing import FakeProvider, Fault, JudgeParams, WriterParams, write_answer

CANDIDATE = "sim-writer-openai-q0.90"
BASELINE = "sim-writer-meta-q0.30"
SYSTEM = "Answer briefly."


def said(model: str, text: str) -> str:
    """What the fake's simulated writer ``model`` answers to the user message ``text``."""
    return write_answer(WriterParams.from_model_name(model), text)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-rubric", JudgeParams(seed=2))
        yield provider


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    judges = tmp_path / "judges"
    judges.mkdir()
    (judges / "fair.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-fair\nfamily: anthropic\n"
        f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n"
    )
    (judges / "rubric.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-rubric\nfamily: anthropic\nmode: pointwise\n"
        f"api_base: {fake.base_url}\ntemplate: rubric_chat.j2\nparser: rating\n"
        "scale: {min: 1, max: 10}\n"
    )
    (judges / "p.yaml").write_text("kind: panel\njudges: [fair]\n")
    (judges / "r.yaml").write_text("kind: panel\njudges: [rubric]\naggregation: mean\n")
    return tmp_path


def write_rows(root: Path, rows: list[dict[str, Any]]) -> None:
    (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def session(root: Path, fake: FakeProvider, panel: str = "p") -> EvalSession:
    config = EvalkitConfig(
        candidate=f"openai/{CANDIDATE}",
        candidate_api_base=fake.base_url,
        baseline=f"openai/{BASELINE}",
        baseline_api_base=fake.base_url,
        panel=panel,
        cache_dir=root / "cache",
        reports_dir=root / "reports",
        max_retries=0,
        backoff_s=0.01,
    )
    return EvalSession(config, root)


def run_suite(root: Path, fake: FakeProvider, panel: str = "p", **fields: Any) -> Any:
    run = session(root, fake, panel)
    try:
        return run.suite_result(
            Suite("talk", dataset="data.jsonl", base_dir=root, system=SYSTEM, **fields)
        ), run
    finally:
        run.finish()


def sent(fake: FakeProvider, model: str) -> list[list[dict[str, str]]]:
    """The messages of every request ``model`` received, sorted for a stable comparison."""
    bodies = [r.body["messages"] for r in fake.received() if r.model == model]
    return sorted(bodies, key=json.dumps)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


SYSTEM_MESSAGE = {"role": "system", "content": SYSTEM}


# -- happy paths ---------------------------------------------------------------------------


def test_turns_are_answered_one_by_one_after_the_models_own_answers(
    root: Path, fake: FakeProvider
) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    result, run = run_suite(root, fake)

    first, second = said(CANDIDATE, "Plan a trip."), said(CANDIDATE, "Make it shorter.")
    assert sent(fake, CANDIDATE) == sorted(
        [
            [SYSTEM_MESSAGE, user("Plan a trip.")],
            [SYSTEM_MESSAGE, user("Plan a trip."), assistant(first), user("Make it shorter.")],
        ],
        key=json.dumps,
    )
    # The baseline's second turn follows the baseline's own first answer, not the candidate's.
    base_first = said(BASELINE, "Plan a trip.")
    assert [SYSTEM_MESSAGE, user("Plan a trip."), assistant(base_first),
            user("Make it shorter.")] in sent(fake, BASELINE)  # fmt: skip
    answer = result.answers["candidate"]["trip"]
    assert answer.text == second
    assert answer.status == "ok"
    assert list(answer.transcript) == [
        user("Plan a trip."), assistant(first), user("Make it shorter."), assistant(second)
    ]  # fmt: skip
    on_disk = [json.loads(line) for line in (run.run_dir / "answers.jsonl").open()]
    cand = next(a for a in on_disk if a["role"] == "candidate")
    assert cand["transcript"][1] == assistant(first)
    assert cand["prompt"] == "Make it shorter."


def test_a_perturbed_conversation_sends_every_user_turn_perturbed(
    root: Path, fake: FakeProvider
) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan A Trip.", "Make It Shorter."]}])
    result, _ = run_suite(root, fake, perturbations=["lowercase"])

    first = said(CANDIDATE, "plan a trip.")
    assert [SYSTEM_MESSAGE, user("plan a trip."), assistant(first),
            user("make it shorter.")] in sent(fake, CANDIDATE)  # fmt: skip
    variant = result.answers["candidate"]["trip~lowercase"]
    assert variant.status == "ok"
    assert variant.prompt == "make it shorter."
    assert result.answers["candidate"]["trip"].prompt == "Make It Shorter."


def test_a_messages_row_is_sent_after_the_suite_system_message(
    root: Path, fake: FakeProvider
) -> None:
    messages = [
        {"role": "system", "content": "You are a travel agent."},
        user("Where should I go?"), assistant("Lisbon."), user("Why there?"),
    ]  # fmt: skip
    write_rows(root, [{"id": "why", "messages": messages}])
    result, _ = run_suite(root, fake)

    assert sent(fake, CANDIDATE) == [[SYSTEM_MESSAGE, *messages]]
    answer = result.answers["candidate"]["why"]
    assert answer.text == said(CANDIDATE, "Why there?")
    assert list(answer.transcript) == [*messages, assistant(answer.text)]


def test_pairwise_judges_see_both_models_transcripts_in_the_order_shown(
    root: Path, fake: FakeProvider
) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    result, _ = run_suite(root, fake)

    prompts = {
        r.body["messages"][-1]["content"] for r in fake.received() if r.model == "sim-judge-fair"
    }
    cand, base = said(CANDIDATE, "Plan a trip."), said(BASELINE, "Plan a trip.")

    def block(a: str, b: str) -> str:
        return (
            "[Conversation so far with assistant A]\nUser: Plan a trip.\n"
            f"Assistant A: {a}\n\n[Conversation so far with assistant B]\n"
            f"User: Plan a trip.\nAssistant B: {b}\n"
        )

    ab = [p for p in prompts if block(cand, base) in p]
    ba = [p for p in prompts if block(base, cand) in p]
    assert len(ab) == len(ba) == 1
    assert "[Question]\nMake it shorter.\n" in ab[0]
    assert f"[Answer A]\n{said(CANDIDATE, 'Make it shorter.')}\n" in ab[0]
    assert sorted(result.judgments["order"]) == ["AB", "BA"]


def test_scored_judges_see_the_conversation_before_the_judged_turn(
    root: Path, fake: FakeProvider
) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    # A scored suite asks a baseline only when it names one: here it does, to see both.
    run_suite(root, fake, panel="r", mode="pointwise", gates=[], baseline=f"openai/{BASELINE}")

    prompts = sorted(
        r.body["messages"][-1]["content"] for r in fake.received() if r.model == "sim-judge-rubric"
    )
    assert len(prompts) == 2  # the candidate's answer and the baseline's
    assert all("[Conversation so far]\nUser: Plan a trip.\nAssistant: " in p for p in prompts)
    assert all("[Question]\nMake it shorter.\n" in p for p in prompts)
    shown = {p.split("Assistant: ")[1].split("\n")[0] for p in prompts}
    assert shown == {said(CANDIDATE, "Plan a trip."), said(BASELINE, "Plan a trip.")}


def test_single_turn_rows_are_prompted_as_before(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "q", "question": "What is 2+2?"}])
    result, _ = run_suite(root, fake)

    assert sent(fake, CANDIDATE) == [[SYSTEM_MESSAGE, user("What is 2+2?")]]
    assert result.answers["candidate"]["q"].transcript is None
    judge = [r.body["messages"][-1]["content"] for r in fake.received()
             if r.model == "sim-judge-fair"]  # fmt: skip
    assert all("Conversation" not in p for p in judge)


def test_a_base_model_sees_the_earlier_turns_as_questions_and_answers(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from evalkit.judging._templates import Templates
    from evalkit.models import ModelRequest
    from evalkit.session._conversation import turn_request

    ctx = SimpleNamespace(suite=Suite("s", dataset="d.jsonl", system=SYSTEM), templates=Templates())
    single = ModelRequest(model="m", prompt="the single-turn prompt", params={"stop": ["\n\n"]})
    history = [
        {"role": "system", "content": "Be a travel agent."},
        user("Plan a trip."), assistant("Go to Rome.\nStay a week."), user("Make it shorter."),
    ]  # fmt: skip
    request = turn_request(ctx, single, history)  # type: ignore[arg-type]
    assert request.prompt is not None
    # A base model has no system turn: the conversation's system message joins the suite's.
    assert request.prompt.startswith(SYSTEM + "\nBe a travel agent.\n\nQuestion: ")
    assert request.prompt.endswith(
        "Question: Plan a trip.\nAnswer: Go to Rome. Stay a week.\n\n"
        "Question: Make it shorter.\nAnswer:"
    )
    assert request.params == {"stop": ["\n\n"]}


def test_a_failed_turn_leaves_the_later_turns_unasked(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    fake.script(CANDIDATE, Fault.http_error(400, "bad turn"))
    result, _ = run_suite(root, fake)

    assert fake.requests(CANDIDATE) == 1  # turn 2 was never sent
    answer = result.answers["candidate"]["trip"]
    assert answer.status == "not_run"
    assert answer.text is None
    assert answer.error.startswith("turn 1 of 2 was not answered (failed: ")
    assert "bad turn" in answer.error
    assert answer.error.endswith("so the later turns were not asked")
    assert list(answer.transcript) == [user("Plan a trip.")]
    assert set(result.judgments["status"]) == {"no_answer"}


def test_a_failed_last_turn_says_which_turn(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    fake.script(CANDIDATE, None, Fault.http_error(400, "bad turn"))
    result, _ = run_suite(root, fake)

    answer = result.answers["candidate"]["trip"]
    assert answer.status == "failed"
    assert answer.error.startswith("turn 2 of 2: ")
    assert answer.transcript[-1] == user("Make it shorter.")


def test_judge_turns_each_makes_one_item_per_turn_sharing_the_calls(
    root: Path, fake: FakeProvider
) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    result, _ = run_suite(root, fake, judge_turns="each")

    # Turn 1 is asked once, although both turn items need its answer.
    assert fake.requests(CANDIDATE) == 2
    answers = result.answers["candidate"]
    assert sorted(answers) == ["trip#t1", "trip#t2"]
    assert answers["trip#t1"].text == said(CANDIDATE, "Plan a trip.")
    assert answers["trip#t2"].text == said(CANDIDATE, "Make it shorter.")
    # Each turn item accounts for its own call only, so the suite's tokens are not counted twice.
    assert answers["trip#t1"].output_tokens == len(said(CANDIDATE, "Plan a trip.").split())
    assert answers["trip#t2"].output_tokens == len(said(CANDIDATE, "Make it shorter.").split())
    table = result.judgments
    assert sorted(zip(table["item_id"], table["order"], strict=True)) == [
        ("trip#t1", "AB"), ("trip#t1", "BA"), ("trip#t2", "AB"), ("trip#t2", "BA"),
    ]  # fmt: skip
    assert sorted(result.panel["item_id"]) == ["trip#t1", "trip#t2"]


def test_judge_turns_each_a_failed_first_turn_fails_that_item_and_stops_the_next(
    root: Path, fake: FakeProvider
) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    fake.script(CANDIDATE, Fault.http_error(400, "bad turn"))
    result, _ = run_suite(root, fake, judge_turns="each")

    assert fake.requests(CANDIDATE) == 1  # one shared call for turn 1, none for turn 2
    answers = result.answers["candidate"]
    assert (answers["trip#t1"].status, answers["trip#t2"].status) == ("failed", "not_run")
    assert "bad turn" in answers["trip#t1"].error
    assert answers["trip#t2"].error.startswith("turn 1 of 2 was not answered (failed: ")


def test_the_report_shows_each_models_conversation(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    _, run = run_suite(root, fake)

    html = (run.run_dir / "report.html").read_text()
    first, second = said(CANDIDATE, "Plan a trip."), said(CANDIDATE, "Make it shorter.")
    text = (
        f"user: Plan a trip.\n\nassistant: {first}\n\nuser: Make it shorter.\n\nassistant: {second}"
    )
    assert f'"cand_conv":[{json.dumps(text, ensure_ascii=False)}]' in html
    assert "candidate's conversation" in html  # the drill-down's heading for it


# -- bad input -----------------------------------------------------------------------------

BAD_ROWS = [
    pytest.param(
        {"messages": [{"role": "bot", "content": "hi"}]},
        r"data.jsonl:1: field 'messages\[0\].role' is 'bot'; use one of system, user, assistant",
        id="unknown-role",
    ),
    pytest.param(
        {"messages": [{"role": "user", "content": "  "}]},
        r"data.jsonl:1: field 'messages\[0\].content' is empty or not text",
        id="empty-message",
    ),
    pytest.param(
        {"messages": "hello"},
        r"data.jsonl:1: field 'messages' must be a list of \{role, content\} objects, not str",
        id="messages-not-a-list",
    ),
    pytest.param(
        {"messages": []},
        r"data.jsonl:1: field 'messages' is empty",
        id="messages-empty",
    ),
    pytest.param(
        {"messages": ["hi"]},
        r"data.jsonl:1: field 'messages\[0\]' must be an object with 'role' and 'content'",
        id="message-not-an-object",
    ),
    pytest.param(
        {"messages": [{"role": "user", "content": "hi", "name": "x"}]},
        r"data.jsonl:1: field 'messages\[0\]' has 'name'; a message holds only",
        id="message-extra-key",
    ),
    pytest.param(
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
        r"data.jsonl:1: field 'messages' ends with a 'assistant' message; the last message must "
        r"be the user turn",
        id="last-message-not-user",
    ),
    pytest.param(
        {"messages": [{"role": "user", "content": "hi"}], "turns": ["hi"]},
        r"data.jsonl:1: the row has both 'messages' and 'turns'; keep one",
        id="both",
    ),
    pytest.param(
        {"turns": ["Plan a trip.", ""]},
        r"data.jsonl:1: field 'turns\[1\]' is empty or not text",
        id="empty-turn",
    ),
    pytest.param(
        {"turns": "Plan a trip."},
        r"data.jsonl:1: field 'turns' must be a list of user messages, not str",
        id="turns-not-a-list",
    ),
    pytest.param({"turns": []}, r"data.jsonl:1: field 'turns' is empty", id="turns-empty"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_a_bad_conversation_is_one_clear_error_before_any_call(
    root: Path, fake: FakeProvider, row: dict[str, Any], message: str
) -> None:
    write_rows(root, [{"id": "bad", **row}])
    run = session(root, fake)
    with pytest.raises(EvalkitError, match=r"suite 'talk': .*" + message):
        run.suite_result(Suite("talk", dataset="data.jsonl", base_dir=root))
    assert fake.requests() == 0
    assert not run.run_dir.exists()


def test_required_fields_still_apply_to_conversation_rows(root: Path, fake: FakeProvider) -> None:
    # A conversation row needs none of the prompt's fields, but the fields a suite requires
    # by name (here, for its graders) it does need.
    write_rows(root, [{"id": "trip", "turns": ["a", "b"]}])
    run = session(root, fake)
    suite = Suite("talk", dataset="data.jsonl", base_dir=root, required_fields=["answer"])
    with pytest.raises(EvalkitError, match=r"data.jsonl:1: missing field 'answer'"):
        run.suite_result(suite)
    assert fake.requests() == 0


def test_an_unknown_judge_turns_is_one_clear_error(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "trip", "turns": ["a", "b"]}])
    run = session(root, fake)
    suite = Suite("talk", dataset="data.jsonl", base_dir=root, judge_turns="every")  # type: ignore[arg-type]
    with pytest.raises(EvalkitError, match=r"judge_turns='every'; use 'final' .* or 'each'"):
        run.suite_result(suite)
    assert fake.requests() == 0


def test_a_turn_id_taken_by_another_row_is_one_clear_error(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "trip", "turns": ["a", "b"]}, {"id": "trip#t2", "question": "q"}])
    run = session(root, fake)
    suite = Suite("talk", dataset="data.jsonl", base_dir=root, judge_turns="each")
    with pytest.raises(EvalkitError, match=r"data.jsonl: id 'trip#t2' is used twice"):
        run.suite_result(suite)
    assert fake.requests() == 0


def test_cached_rerun_makes_no_turn_call(root: Path, fake: FakeProvider) -> None:
    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter."]}])
    run_suite(root, fake)
    fake.reset()
    result, _ = run_suite(root, fake)
    assert fake.requests() == 0
    assert result.answers["candidate"]["trip"].cached


@pytest.mark.parametrize("judge_turns", ["final", "each"])
def test_the_dry_run_counts_every_turn_the_run_asks(
    root: Path, fake: FakeProvider, judge_turns: str
) -> None:
    from evalkit.session._plan import plan_suites

    rows = [
        {"id": "trip", "turns": ["Plan a trip.", "Make it shorter.", "Add a museum."]},
        {"id": "why", "messages": [user("Where?"), assistant("Lisbon."), user("Why?")]},
        {"id": "q", "question": "What is 2+2?"},
    ]
    write_rows(root, rows)
    suite = Suite("talk", dataset="data.jsonl", base_dir=root, judge_turns=judge_turns)  # type: ignore[arg-type]
    planned = {row.role: row.calls for row in plan_suites(session(root, fake), [suite]).rows}
    run_suite(root, fake, judge_turns=judge_turns)
    assert planned["candidate"] == fake.requests(CANDIDATE) == 3 + 1 + 1
    assert planned["baseline"] == fake.requests(BASELINE) == 5


def test_the_dry_run_shows_judges_the_earlier_turns(root: Path, fake: FakeProvider) -> None:
    from evalkit.session._plan import plan_suites

    def judge_tokens(row: dict[str, Any]) -> int:
        write_rows(root, [row])
        suite = Suite("talk", dataset="data.jsonl", base_dir=root)
        plan = plan_suites(session(root, fake), [suite])
        return next(r.input_tokens for r in plan.rows if r.role == "judge fair")

    earlier = "Plan a long trip through every country of Europe, with trains. " * 20
    alone = judge_tokens({"id": "t", "turns": ["Make it shorter."]})
    after = judge_tokens({"id": "t", "turns": [earlier, "Make it shorter."]})
    # Both orders show the earlier turn twice (once per model's conversation), plus answers.
    assert after - alone >= 2 * 2 * len(earlier) // 4


@pytest.mark.parametrize("judge_turns", ["final", "each"])
def test_the_run_record_counts_answer_calls_not_answer_rows(
    root: Path, fake: FakeProvider, judge_turns: str
) -> None:
    from evalkit.records import read_run

    rows = [
        {"id": "trip", "turns": ["Plan a trip.", "Make it shorter.", "Add a museum."]},
        {"id": "why", "messages": [user("Where?"), assistant("Lisbon."), user("Why?")]},
        {"id": "q", "question": "What is 2+2?"},
    ]
    write_rows(root, rows)
    _, run = run_suite(root, fake, judge_turns=judge_turns)
    record = read_run(run.run_dir)
    assert record is not None
    calls = record.suites[0].calls
    # Three turns, one chat and one question, for each of the two models: 10 model calls.
    assert calls.answer_calls == fake.requests(CANDIDATE) + fake.requests(BASELINE) == 10
    assert calls.answers == 2 * (5 if judge_turns == "each" else 3)  # rows, one per item


def test_the_reports_usage_counts_answer_calls_not_answer_rows(
    root: Path, fake: FakeProvider
) -> None:
    from evalkit.report import load_run
    from evalkit.report._summary import usage

    write_rows(root, [{"id": "trip", "turns": ["Plan a trip.", "Make it shorter.", "Go."]}])
    _, run = run_suite(root, fake)
    rows = {row["label"]: row["calls"] for row in usage(load_run(run.run_dir))["rows"]}
    assert rows["candidate answers"] == fake.requests(CANDIDATE) == 3
    assert rows["baseline answers"] == fake.requests(BASELINE) == 3
