"""What the terminal shows while calls are outstanding, and how failures are summed up."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from evalkit.records import SuiteRecord
from evalkit.records._answers import Answer
from evalkit.records._run import FailureGroup
from evalkit.records._usage import failure_groups, failure_kind
from evalkit.session._progress import Progress
from evalkit.session._summary import failure_lines, suite_lines


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer(error: str | None = None) -> Answer:
    return Answer(run_id="r", suite="general-knowledge", item_id="q1", role="candidate",
                  model="openai/x", family="openai", prompt="q", text=None if error else "a",
                  error=error, latency_s=0.0, input_tokens=0, output_tokens=0, cost_usd=0.0,
                  cached=False, status="failed" if error else "ok")  # fmt: skip


def test_a_heartbeat_is_due_only_while_calls_wait_and_nothing_lands() -> None:
    clock = Clock()
    progress = Progress("general-knowledge", write=None, heartbeat_s=20.0, clock=clock)
    clock.now += 19
    assert progress.beat(in_flight=12) is None  # not yet quiet for long enough
    clock.now += 1
    assert progress.beat(in_flight=12) == (
        "evalkit: general-knowledge: 12 calls in flight, 20 s since the suite started"
    )
    clock.now += 10
    assert progress.beat(in_flight=12) is None  # one line per period, not one per check
    progress.count(answer())
    clock.now += 25
    assert progress.beat(in_flight=0) is None  # nothing outstanding: nothing to say
    clock.now += 15
    assert progress.beat(in_flight=1) == (
        "evalkit: general-knowledge: 1 call in flight, 40 s since the last answer"
    )


def test_the_heartbeat_task_prints_through_the_writer_until_cancelled() -> None:
    clock = Clock()
    lines: list[str] = []
    progress = Progress("s", write=lines.append, heartbeat_s=10.0, clock=clock)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds
        if len(sleeps) == 12:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(progress.heartbeat(lambda: 3, sleep=sleep))
    # 12 checks two seconds apart: 24 s of silence, a line at 10 s and at 20 s.
    assert sleeps == [2.0] * 12
    assert lines == [
        "evalkit: s: 3 calls in flight, 10 s since the suite started",
        "evalkit: s: 3 calls in flight, 20 s since the suite started",
    ]


REFUSED = (
    "unavailable: could not connect to http://127.0.0.1:9/v1 for openai/sim-{}: connection "
    "refused; start the server or fix api_base (gave up after {} attempts)"
)


def rows(*pairs: tuple[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"status": [p[0] for p in pairs], "error": [p[1] for p in pairs]})


def test_repeated_failures_are_grouped_into_one_line_each() -> None:
    errors = [("failed", REFUSED.format(f"writer-{i % 2}", 2 + i % 3)) for i in range(48)]
    errors += [("failed", "timeout: openai/sim-j did not answer within 5 s"), ("ok", None),
               ("unparseable", "no label")] * 2  # fmt: skip
    groups = failure_groups(rows(*errors))
    assert groups == [
        FailureGroup(count=48, status="failed", error=failure_kind(REFUSED.format("a", 1))),
        FailureGroup(count=2, status="failed", error="timeout: openai/sim-j did not answer within 5 s"),
    ]
    assert failure_lines(groups) == [
        "  48 calls failed: unavailable: could not connect to http://127.0.0.1:9/v1 for …: "
        "connection refused; start the server or fix api_base",
        "  2 calls failed: timeout: openai/sim-j did not answer within 5 s",
    ]


def test_many_kinds_of_failure_are_cut_to_a_few_lines() -> None:
    groups = failure_groups(rows(*[("failed", f"permanent: reason {i}") for i in range(9)] * 2))
    lines = failure_lines(groups)
    assert len(lines) == 6
    assert lines[-1] == "  8 more calls without a result, for 4 other reasons: see the report"


def test_the_suite_summary_prints_the_groups_once() -> None:
    suite = SuiteRecord.model_validate({
        "name": "sim",
        "models": {"candidate": {"name": "c", "family": "f"},
                   "baseline": {"name": "b", "family": "g"}, "panel": "p"},
        "calls": {"answers": 48, "answers_failed": 48,
                  "failures": failure_groups(rows(*[("failed", REFUSED.format("w", 5))] * 48))},
    })  # fmt: skip
    lines = suite_lines(suite)
    assert sum("calls failed" in line for line in lines) == 1
    assert sum("connection refused" in line for line in lines) == 1


def test_calls_never_made_are_not_called_failed() -> None:
    groups = failure_groups(
        rows(*[("no_answer", "no candidate answer")] * 3, ("failed", REFUSED.format("a", 2)))
    )
    assert failure_lines(groups) == [
        "  3 calls not made: no candidate answer",
        "  1 call failed: unavailable: could not connect to http://127.0.0.1:9/v1 for …: "
        "connection refused; start the server or fix api_base",
    ]
