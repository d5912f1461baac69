"""Batch execution against the fake provider's OpenAI Batch endpoints, through real litellm."""

from __future__ import annotations

import asyncio
import gc
import json
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from evalkit.errors import BadRequest, CallNotMade, EvalkitError
from evalkit.models import Completion, ModelClient, ModelRequest, ResponseCache, RetryPolicy
from evalkit.models._batch import BatchLimits, BatchTransport
from evalkit.models._batch_state import BatchState, BatchStates, endpoint_digest
from evalkit.models._cache import cache_key
from evalkit.models._limits import ConcurrencyLimits
from evalkit.models._litellm import LiteLLMTransport
from evalkit.testing import FakeProvider, JudgeParams
from evalkit.testing._batches import BatchBehaviour

JUDGE = "sim-judge-fair"
N = 6


class FakeTime:
    """One clock for the provider and the poller; ``sleep`` moves it on instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fake(clock: FakeTime, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=3, clock=clock) as provider:
        provider.register_judge(JUDGE, JudgeParams(seed=1))
        yield provider


def requests(fake: FakeProvider, model: str = JUDGE, n: int = N) -> list[ModelRequest]:
    return [
        fake.chat_request(model, f"Which is better? [[A]] answer {i} [[B]] other {i}")
        for i in range(n)
    ]


def client(
    tmp_path: Path,
    clock: FakeTime,
    notes: list[str],
    *,
    retries: int = 0,
    poll_sleep: Callable[[float], Awaitable[None]] | None = None,
) -> ModelClient:
    inner = LiteLLMTransport()
    batch = BatchTransport(
        inner, cache_dir=tmp_path / "cache", limits=ConcurrencyLimits(4), note=notes.append,
        poll_s=60.0, progress_s=0.0, clock=clock, sleep=poll_sleep or clock.sleep,
    )  # fmt: skip
    made = ModelClient(
        batch,
        cache=ResponseCache(tmp_path / "cache", "use"),
        limits=BatchLimits(4, batch.batchable),
        retry=RetryPolicy(retries, 0.01, 0.01),
        rng=random.Random(0),
        sleep=clock.sleep,
    )
    batch.stopped = lambda: made.stopped  # as enable_batches wires it
    return made


def texts(answers: list[Completion | EvalkitError]) -> list[str]:
    return [a.text if isinstance(a, Completion) else f"error: {a}" for a in answers]


def run(c: ModelClient, batch: list[ModelRequest]) -> list[Completion | EvalkitError]:
    async def go() -> list[Completion | EvalkitError]:
        try:
            return await c.complete_many(batch)
        finally:
            await c.aclose()

    return asyncio.run(go())


def test_a_phase_goes_out_as_one_batch_and_answers_as_the_interactive_calls_do(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    fake.batches.behave(BatchBehaviour(complete_after_s=150.0))
    asked = requests(fake)
    notes: list[str] = []
    batched = run(client(tmp_path, clock, notes), asked)
    assert fake.batches.creates() == 1
    assert fake.requests() == 0  # not one interactive call
    plain = run(ModelClient(LiteLLMTransport(), timeout_s=10.0), asked)
    assert fake.requests() == N
    assert texts(batched) == texts(plain)
    assert all(isinstance(a, Completion) and a.input_tokens > 0 for a in batched)
    # Polled every 60 s of the injected clock until done at 150 s, with a line each time.
    assert clock.slept == [60.0, 60.0, 60.0]
    progress = [n for n in notes if "batch batch_1" in n]
    assert "in_progress, 0/6 answered, 0 failed, 0 s" in progress[0]
    assert "in_progress, 2/6 answered, 0 failed, 60 s" in progress[1]
    assert "completed, 6/6 answered, 0 failed, 180 s" in progress[-1]
    # The answers were cached: a rerun makes no batch and no call.
    again = run(client(tmp_path, clock, []), asked)
    assert texts(again) == texts(batched)
    assert fake.batches.creates() == 1
    assert not list((tmp_path / "cache" / "batches").glob("*.json"))


def test_failed_lines_are_failed_calls_with_the_providers_message(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    fake.batches.behave(BatchBehaviour(fail_every=3, fail_status=400, fail_message="bad tokens"))
    answers = run(client(tmp_path, clock, [], retries=2), requests(fake))
    failed = [i for i, a in enumerate(answers) if isinstance(a, BadRequest)]
    assert failed == [2, 5]  # lines 3 and 6 of the batch
    assert "HTTP 400: bad tokens" in str(answers[2])
    assert fake.requests() == 0  # a 400 is not asked again
    assert sum(isinstance(a, Completion) for a in answers) == N - 2


def test_transient_line_failures_are_retried_interactively(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    fake.batches.behave(BatchBehaviour(fail_every=2, fail_status=503))
    answers = run(client(tmp_path, clock, [], retries=1), requests(fake))
    seen = (fake.requests(), fake.in_flight(), fake.connections())
    assert all(isinstance(a, Completion) for a in answers), (texts(answers), seen)
    assert fake.requests() == N // 2
    assert fake.batches.creates() == 1


def test_the_clients_litellm_left_from_the_batch_calls_are_closed_on_their_own_loop(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    # litellm makes an OpenAI client per file and batch call and leaves it open; its finalizer
    # closes it on whatever loop the collecting thread runs: the fake's server thread, or a
    # later loop, where the close fails ("Task exception was never retrieved").
    run(client(tmp_path, clock, [], retries=1), requests(fake))
    problems: list[str] = []

    async def later() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: problems.append(repr(context.get("exception")))
        )
        gc.collect()  # what the collector finds at some later point of the run
        for _ in range(10):
            await asyncio.sleep(0)

    asyncio.run(later())
    gc.collect()
    assert problems == []


def test_an_expired_batch_runs_its_undone_calls_interactively(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    fake.batches.behave(
        BatchBehaviour(complete_after_s=10_000.0, expire_after_s=100.0, expire_done=2)
    )
    notes: list[str] = []
    asked = requests(fake)
    answers = run(client(tmp_path, clock, notes), asked)
    plain = run(ModelClient(LiteLLMTransport(), timeout_s=10.0, cache=None), asked)
    assert texts(answers) == texts(plain)
    assert fake.batches.creates() == 1
    assert fake.requests() == (N - 2) + N  # the 4 undone, then the interactive reference
    assert any("expired, 2/6 answered, 4 failed, 120 s" in n for n in notes), notes
    assert any("left 4 calls undone; they run interactively" in n for n in notes)


def test_a_killed_run_resumes_polling_its_batch_instead_of_submitting_again(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    fake.batches.behave(BatchBehaviour(complete_after_s=3600.0))
    asked = requests(fake)

    async def killed() -> None:
        waiting = asyncio.Event()

        async def wait_forever(seconds: float) -> None:
            waiting.set()
            await asyncio.Event().wait()

        c = client(tmp_path, clock, [], poll_sleep=wait_forever)
        task = asyncio.ensure_future(c.complete_many(asked))
        await waiting.wait()
        task.cancel()  # the run dies while it waits between two polls of its batch
        with pytest.raises(asyncio.CancelledError):
            await task
        await c.aclose()

    asyncio.run(killed())
    (state,) = (tmp_path / "cache" / "batches").glob("*.json")
    saved = json.loads(state.read_text())
    assert saved["batch_id"] == "batch_1"
    assert len(saved["requests"]) == N
    assert "sk-" not in state.read_text()
    assert str(fake.port) not in state.read_text()
    notes: list[str] = []
    answers = run(client(tmp_path, clock, notes), asked)
    assert all(isinstance(a, Completion) for a in answers), texts(answers)
    assert fake.batches.creates() == 1
    assert fake.requests() == 0
    assert "evalkit: resuming batch batch_1 of openai/sim-judge-fair" in notes
    assert not state.exists()


def test_an_endpoint_without_a_batch_api_runs_interactively_with_a_note(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    notes: list[str] = []
    # A bundled model's name: llama.cpp's server has no batch API.
    answers = run(client(tmp_path, clock, notes), requests(fake, "smollm2-135m-instruct", 3))
    assert all(isinstance(a, Completion) for a in answers)
    assert fake.requests() == 3
    assert fake.batches.creates() == 0
    assert notes == [
        "evalkit: openai/smollm2-135m-instruct has no batch API through litellm: its calls "
        "run interactively"
    ]


def test_a_stopped_run_stops_waiting_for_its_batch_and_keeps_its_state_file(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    fake.batches.behave(BatchBehaviour(complete_after_s=3600.0))
    holder: list[ModelClient] = []

    async def stop_while_waiting(seconds: float) -> None:
        holder[0].stop("interrupted")  # Ctrl-C while the batch runs
        await clock.sleep(seconds)

    c = client(tmp_path, clock, [], poll_sleep=stop_while_waiting)
    holder.append(c)
    answers = run(c, requests(fake))
    assert all(isinstance(a, CallNotMade) for a in answers), texts(answers)
    assert "interrupted; batch batch_1 of openai/sim-judge-fair keeps running" in str(answers[0])
    assert fake.batches.polls() == 1
    assert len(list((tmp_path / "cache" / "batches").glob("*.json"))) == 1


def test_a_state_file_of_a_batch_the_provider_no_longer_knows_does_not_fail_the_rerun(
    tmp_path: Path, fake: FakeProvider, clock: FakeTime
) -> None:
    asked = requests(fake)
    stale = BatchState(
        batch_id="batch_gone",
        endpoint=endpoint_digest(asked[0].model, asked[0].api_base),
        model=asked[0].model,
        requests={f"r{i}": cache_key(r) for i, r in enumerate(asked)},
    )
    path = BatchStates(tmp_path / "cache").save(stale)
    notes: list[str] = []
    answers = run(client(tmp_path, clock, notes), asked)
    assert all(isinstance(a, Completion) for a in answers), texts(answers)
    assert fake.requests() == N  # asked interactively, at once
    assert fake.batches.creates() == 0
    said = [n for n in notes if n.startswith("evalkit: batch batch_gone of openai/sim-judge-fair "
                                             "could not be collected (polling batch batch_gone "
                                             "failed: ")]  # fmt: skip
    assert len(said) == 1
    assert "(HTTP 404): Error code: 404 - no such batch" in said[0]
    assert not path.exists()
