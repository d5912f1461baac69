"""Batch execution: a transport that sends a phase's calls through the provider's batch API.

:class:`BatchTransport` sits where the litellm transport sits, under the
:class:`~evalkit.models.ModelClient`, so the cache, the budget, the retries and the rows are
exactly those of an interactive run. The engine issues every call of a phase at once; each
call that misses the cache reaches :meth:`BatchTransport.attempt`, which parks it. Once no new
call has arrived for a few turns of the event loop (the phase's gather is waiting), the parked
calls are written as one JSONL per endpoint, uploaded, and submitted as a batch; the batch is
polled (``poll_s``, with a progress line), its results are read, priced at the batch price and
handed back to the waiting calls as :class:`~evalkit.models.Completion` objects. Calls made
after that (a judge's repair, a conversation's next turn) form the next batch.

Decisions:

- **Resuming.** Each batch's state file (:mod:`evalkit.models._batch_state`) maps its
  requests to their cache keys; a rerun whose calls are in an open batch polls that batch
  rather than submitting them again. The file is removed once the answers are handed over.
- **Failed lines.** A line the provider answered with 4xx is a failed call with the
  provider's message (a failed row, as interactively). A 429, a 5xx or a line without a
  response is transient: the client's retry policy asks it again, *interactively* (a second
  batch for a handful of calls would wait hours for nothing).
- **Expired batch.** Its answered lines are used; the lines it never reached run
  interactively at once, at the interactive price, so that the run finishes.
- **A stopped run** (Ctrl-C, SIGTERM) stops waiting: the calls of its open batches end as
  not run, and their state files stay, so the rerun collects them.
- **Calls made inside an app** (``models.complete`` in an ``evalkit.app``) run
  interactively (:func:`interactive`): the app waits for them within its own timeout.
- **No batch API.** Calls to endpoints litellm cannot batch (bundled local models, Anthropic
  — litellm can poll Message Batches but not create them — and any provider outside
  :data:`~evalkit.models._batch_api.BATCH_PROVIDERS`) run interactively, with one note each.

The client's concurrency limit would let only ``concurrency`` calls per model into a batch, so
in batch mode it is lifted for batchable endpoints (:class:`BatchLimits`) and the transport
applies it to the calls it makes interactively instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Final

from evalkit.config import EvalkitConfig
from evalkit.errors import CallNotMade, ModelError, TransientModelError
from evalkit.models._batch_api import BATCH_PROVIDERS, BatchAPI, BatchStatus
from evalkit.models._batch_lines import (
    LineResult,
    endpoint_url,
    jsonl,
    read_results,
    request_line,
)
from evalkit.models._batch_price import batch_cost
from evalkit.models._batch_state import BatchState, BatchStates, endpoint_digest
from evalkit.models._cache import cache_key
from evalkit.models._client import ModelClient
from evalkit.models._limits import ConcurrencyLimits
from evalkit.models._litellm import LiteLLMTransport, endpoint
from evalkit.models._local import BUNDLED, LOCAL_PREFIX
from evalkit.models._types import Completion, ModelRequest

Note = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]
#: Turns of the event loop without a new call before the parked calls are submitted.
_QUIET_TURNS: Final = 20
#: Failed polls in a row before the batch's calls fail (its state file stays for a rerun).
_POLL_FAILURES: Final = 5


#: Set while an app runs: the model calls it makes wait for its answer, so they cannot wait
#: for a batch (see :func:`interactive`).
_INTERACTIVE: ContextVar[bool] = ContextVar("evalkit_interactive", default=False)


@contextlib.contextmanager
def interactive() -> Iterator[None]:
    """Within this block, and the tasks and threads started in it, calls are not batched.

    For calls a caller waits on before it can go on, such as an app's own model calls: the
    app's timeout would run out long before a batch ends.
    """
    token = _INTERACTIVE.set(True)
    try:
        yield
    finally:
        _INTERACTIVE.reset(token)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclasses.dataclass(slots=True)
class _Parked:
    request: ModelRequest
    key: str
    timeout_s: float
    future: asyncio.Future[Completion]


class BatchTransport:
    """Sends batchable calls through batches, the others through ``inner``; see the module."""

    def __init__(
        self,
        inner: LiteLLMTransport,
        *,
        cache_dir: Path,
        limits: ConcurrencyLimits,
        note: Note = _stderr,
        poll_s: float = 30.0,
        progress_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        stopped: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.inner = inner
        #: why the run stopped (e.g. the client's ``stopped``), or None: a stopped run stops
        #: waiting for its batches.
        self.stopped = stopped
        self.states = BatchStates(cache_dir)
        #: bounds the calls this transport makes interactively to batchable endpoints.
        self.limits = limits
        self.poll_s = poll_s
        self.progress_s = progress_s
        self._note = note
        self._clock = clock
        self._sleep = sleep
        self._parked: list[_Parked] = []
        self._flusher: asyncio.Task[None] | None = None
        #: flushes under way: the loop keeps only weak references to its tasks.
        self._flushes: set[asyncio.Task[None]] = set()
        #: cache keys already sent in a batch: asked again (a retry), they run interactively.
        self._batched: set[str] = set()
        self._batchable: dict[tuple[str, str | None], bool] = {}
        self._noted: set[str] = set()

    # -- what can be batched ----------------------------------------------------------------

    def batchable(self, model: str, api_base: str | None) -> bool:
        """Whether calls to ``model`` at ``api_base`` go through batches."""
        found = self._batchable.get((model, api_base))
        if found is None:
            found = self._batchable[(model, api_base)] = can_batch(model, api_base, self.inner)
        return found

    # -- the transport ----------------------------------------------------------------------

    def check(self, request: ModelRequest) -> None:
        """As the inner transport's ``check``."""
        self.inner.check(request)

    async def aclose(self) -> None:
        """Close the inner transport's HTTP clients."""
        await self.inner.aclose()

    async def attempt(self, request: ModelRequest, timeout_s: float) -> Completion:
        """Answer ``request`` through the next batch, or interactively (see the module).

        Raises:
            ModelError: the call failed (its batch line, or the interactive attempt).
        """
        if _INTERACTIVE.get():
            return await self._interactive(request, timeout_s)
        if not self.batchable(request.model, request.api_base):
            self._say_once(
                request.model,
                f"evalkit: {request.model} has no batch API through litellm: its calls run "
                "interactively",
            )
            return await self.inner.attempt(request, timeout_s)
        key = cache_key(request)
        if key in self._batched:
            return await self._interactive(request, timeout_s)
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._parked.append(_Parked(request, key, timeout_s, future))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
            self._flushes.add(self._flusher)
            self._flusher.add_done_callback(self._flushes.discard)
        return await future

    async def _interactive(self, request: ModelRequest, timeout_s: float) -> Completion:
        if not self.batchable(request.model, request.api_base):
            return await self.inner.attempt(request, timeout_s)  # the client's slot holds it
        async with self.limits.slot(request.model, request.api_base):
            return await self.inner.attempt(request, timeout_s)

    # -- a phase's batch --------------------------------------------------------------------

    async def _flush(self) -> None:
        """Wait until the phase's calls stop arriving, then run them as one batch per endpoint."""
        seen, still = -1, 0
        while still < _QUIET_TURNS:
            await asyncio.sleep(0)  # one turn of the loop; never the injected sleep
            still = still + 1 if len(self._parked) == seen else 0
            seen = len(self._parked)
        parked, self._parked, self._flusher = self._parked, [], None
        groups: dict[tuple[str, str | None, str | None, str], list[_Parked]] = {}
        for p in parked:
            r = p.request
            groups.setdefault((r.model, r.api_base, r.api_key, r.style), []).append(p)
        await asyncio.gather(*(self._settle(group) for group in groups.values()))

    async def _settle(self, group: list[_Parked]) -> None:
        """Run one endpoint's calls; whatever happens, every waiting call gets an outcome."""
        try:
            await self._run(group)
        except BaseException as exc:
            for p in group:
                if not p.future.done():
                    p.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    async def _run(self, group: list[_Parked]) -> None:
        first = group[0].request
        provider = self.inner.provider(first)
        where = endpoint(first, provider)
        digest = endpoint_digest(first.model, first.cache_scope or first.api_base)
        by_key: dict[str, list[_Parked]] = {}
        for p in group:
            by_key.setdefault(p.key, []).append(p)
        api = BatchAPI(first, provider)
        jobs: list[tuple[str, dict[str, str]]] = []
        left = set(by_key)
        states, notes = self.states.open_batches(digest)
        for line in notes:
            self._note(f"evalkit: {line}")
        for state in states:
            if left & set(state.requests.values()):
                jobs.append((state.batch_id, dict(state.requests)))
                left -= set(state.requests.values())
                self._note(f"evalkit: resuming batch {state.batch_id} of {first.model}")
        if left:
            # In the order the calls arrived, so a batch's lines read like the phase's calls.
            ids = {f"r{n}": key for n, key in enumerate(k for k in by_key if k in left)}
            lines = [
                request_line(cid, by_key[key][0].request, _name(first)) for cid, key in ids.items()
            ]
            try:
                batch_id = await api.submit(jsonl(lines), endpoint_url(first))
            except ModelError as exc:
                self._note(
                    f"evalkit: could not submit a batch of {len(ids)} calls to {first.model} "
                    f"at {where} ({exc}); they run interactively"
                )
                self._batched.update(ids.values())
                await self._by_hand([p for key in ids.values() for p in by_key[key]])
            else:
                self.states.save(
                    BatchState(batch_id=batch_id, endpoint=digest, model=first.model, requests=ids)
                )
                jobs.append((batch_id, ids))
        await asyncio.gather(
            *(self._job(api, batch_id, ids, by_key, where) for batch_id, ids in jobs)
        )

    async def _job(
        self,
        api: BatchAPI,
        batch_id: str,
        ids: dict[str, str],
        by_key: dict[str, list[_Parked]],
        where: str,
    ) -> None:
        """Wait for one batch, hand its answers over, and run what it left undone."""
        model = api.request.model
        try:
            results = await self._collect(api, batch_id, where)
        except CallNotMade:
            raise
        except ModelError as exc:
            # E.g. a stale state file's batch the provider no longer knows: dropped below, so
            # that it cannot fail every rerun.
            self._note(f"evalkit: batch {batch_id} of {model} could not be collected ({exc})")
            results = []
        self._batched.update(k for k in ids.values() if k in by_key)
        undone: list[_Parked] = []
        answered: set[str] = set()
        for result in results:
            key = ids.get(result.custom_id)
            if key is None or key not in by_key:
                continue
            answered.add(key)
            if result.unfinished:
                undone.extend(by_key[key])
            else:
                _hand_over(by_key[key], result, model)
        undone.extend(
            p for key in set(ids.values()) - answered if key in by_key for p in by_key[key]
        )
        self.states.drop(batch_id)
        if undone:
            self._note(
                f"evalkit: batch {batch_id} of {model} left {len(undone)} calls undone; they "
                "run interactively"
            )
            await self._by_hand(undone)

    async def _by_hand(self, parked: Iterable[_Parked]) -> None:
        async def one(p: _Parked) -> None:
            try:
                completion = await self._interactive(p.request, p.timeout_s)
            except ModelError as exc:
                _set(p, exc)
            else:
                _set(p, completion)

        await asyncio.gather(*(one(p) for p in parked))

    async def _collect(self, api: BatchAPI, batch_id: str, where: str) -> list[LineResult]:
        """Poll ``batch_id`` until it ends; return its result lines."""
        model = api.request.model
        start = self._clock()
        last = -math.inf
        failures = 0
        while True:
            why = self.stopped()
            if why is not None:
                # Waiting out a batch can take hours; the state file stays for the rerun.
                raise CallNotMade(
                    f"{why}; batch {batch_id} of {model} keeps running at the provider, and a "
                    "rerun collects it without submitting it again"
                )
            try:
                status = await api.status(batch_id)
            except TransientModelError:
                failures += 1
                if failures >= _POLL_FAILURES:
                    raise
                await self._sleep(self.poll_s)
                continue
            failures = 0
            now = self._clock()
            if status.finished:
                break
            if now - last >= self.progress_s:
                last = now
                self._note(f"evalkit: {_progress(batch_id, model, status, now - start)}")
            await self._sleep(self.poll_s)
        self._note(f"evalkit: {_progress(batch_id, model, status, self._clock() - start)}")
        chat = api.request.style == "chat"
        results: list[LineResult] = []
        for file_id in (status.output_file_id, status.error_file_id):
            if file_id:
                data = await api.download(file_id)
                results += read_results(data, chat=chat, model=model, where=where)
        return results

    def _say_once(self, model: str, line: str) -> None:
        if model not in self._noted:
            self._noted.add(model)
            self._note(line)


def can_batch(model: str, api_base: str | None, inner: LiteLLMTransport | None = None) -> bool:
    """Whether evalkit sends calls to ``model`` at ``api_base`` as batches in batch execution.

    Not for bundled local models (llama.cpp's server has no batch API), nor for model strings
    litellm knows no provider for, nor for providers outside ``BATCH_PROVIDERS``.
    """
    if model.removeprefix("openai/") in BUNDLED or model.startswith(LOCAL_PREFIX):
        return False
    try:
        provider = (inner or LiteLLMTransport()).provider(
            ModelRequest(model=model, api_base=api_base)
        )
    except ModelError:
        return False
    return provider in BATCH_PROVIDERS


class BatchLimits(ConcurrencyLimits):
    """Concurrency limits with the batchable endpoints' lifted (see the module docstring)."""

    def __init__(
        self,
        default: int,
        lifted: Callable[[str, str | None], bool],
        per_model: dict[str, int] | None = None,
    ) -> None:
        super().__init__(default, per_model)
        self.lifted = lifted

    def slot(self, model: str, api_base: str | None) -> asyncio.Semaphore:
        """An unbounded semaphore for a batchable endpoint, else the usual one."""
        if self.lifted(model, api_base):
            # A fresh one each time: nothing ever waits on it, so it binds to no event loop.
            return asyncio.Semaphore(sys.maxsize)
        return super().slot(model, api_base)


def _name(request: ModelRequest) -> str:
    """The model's name as the provider knows it (``openai/gpt-4o-mini`` -> ``gpt-4o-mini``)."""
    return request.model.split("/", 1)[1] if "/" in request.model else request.model


def _progress(batch_id: str, model: str, status: BatchStatus, elapsed_s: float) -> str:
    return (
        f"batch {batch_id} of {model}: {status.status}, {status.completed}/{status.total} "
        f"answered, {status.failed} failed, {elapsed_s:.0f} s"
    )


def _hand_over(parked: list[_Parked], result: LineResult, model: str) -> None:
    """Give each waiting call the batch's answer (priced at the batch price) or error."""
    for p in parked:
        if result.error is not None:
            _set(p, result.error)
        elif result.completion is not None:
            done = result.completion
            price = batch_cost(model, done.input_tokens, done.output_tokens).cost_usd
            _set(p, dataclasses.replace(done, cost_usd=price or 0.0))


def _set(p: _Parked, outcome: Completion | ModelError) -> None:
    # A call cancelled meanwhile (the run stopped) has nobody waiting for its outcome.
    with contextlib.suppress(asyncio.InvalidStateError):
        if isinstance(outcome, Completion):
            p.future.set_result(outcome)
        else:
            p.future.set_exception(outcome)


def enable_batches(
    client: ModelClient,
    inner: LiteLLMTransport,
    config: EvalkitConfig,
    *,
    note: Note | None = None,
) -> BatchTransport:
    """Put ``client`` in batch mode: return the transport to send its model calls through.

    The client's concurrency limit is lifted for batchable endpoints (:class:`BatchLimits`,
    keeping its per-model settings) and applied by the transport to the calls it makes
    interactively instead. Call it before anything holds on to ``client.limits``.
    """
    transport = BatchTransport(
        inner,
        cache_dir=config.cache_dir,
        limits=ConcurrencyLimits(config.concurrency),
        note=note or _stderr,
        poll_s=config.batch_poll_s,
        stopped=lambda: client.stopped,
    )
    client.limits = BatchLimits(
        config.concurrency, transport.batchable, per_model=client.limits.per_model
    )
    return transport
