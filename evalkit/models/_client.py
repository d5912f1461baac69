"""The model client: one async entry point around a transport, adding everything else once.

For each call, in this order: the response cache (a hit returns at once, without importing
litellm or starting a server), the budget, the ``locate`` hook (which gives a request its
address, e.g. by starting a bundled model's server on the first miss), then attempts through
the transport, each holding a per-endpoint concurrency slot and bounded by ``timeout_s``;
transient failures are retried after the delay :func:`~evalkit.models._retry.retry_delay`
gives (the slot is released while waiting). Every answer with text is then written to the
cache, usable or not: a judge's unreadable reply is a fact about that judge, and asking again
at temperature 0 gives it again. Only ``retry_unparseable`` asks again for a cached answer
that ``validate`` rejects.

Every :class:`~evalkit.errors.ModelError` leaving the client has its message passed through
:func:`evalkit.redaction.redact` with the request's own credentials (key, header values,
``api_base`` user part), whichever transport raised it: error messages are what the session
records in the results files, so this is where credentials are kept out of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from evalkit.config import CacheMode, EvalkitConfig
from evalkit.errors import CallNotMade, ClientError, EvalkitError, ModelError
from evalkit.models._budget import Budget
from evalkit.models._cache import ResponseCache, Warn, cache_key
from evalkit.models._limits import ConcurrencyLimits
from evalkit.models._retry import RetryPolicy, retry_delay
from evalkit.models._types import Completion, ModelRequest, ModelTransport
from evalkit.redaction import redact

#: Decides whether an answer is usable (e.g. whether a judge's reply parses). An unusable answer
#: is returned and cached like any other; it only matters with ``retry_unparseable``.
Validator = Callable[[Completion], bool]
Sleep = Callable[[float], Awaitable[None]]
#: Gives a request its address just before it is sent (see ``ModelClient.locate``).
Locator = Callable[[ModelRequest], Awaitable[ModelRequest]]


class ModelClient:
    """Calls models with caching, a budget, bounded concurrency, timeouts and retries.

    Build one per run with :meth:`from_config`; it is safe to share between concurrent tasks
    and across successive event loops. ``transport`` defaults to litellm.
    """

    def __init__(
        self,
        transport: ModelTransport | None = None,
        *,
        cache: ResponseCache | None = None,
        budget: Budget | None = None,
        limits: ConcurrencyLimits | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 30.0,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        retry_unparseable: bool = False,
        locate: Locator | None = None,
    ) -> None:
        if transport is None:
            from evalkit.models._litellm import LiteLLMTransport  # no litellm import here

            transport = LiteLLMTransport()
        self.transport = transport
        self.cache = cache or ResponseCache(Path(".evalkit-cache"), mode="off")
        self.budget = budget or Budget()
        self.limits = limits or ConcurrencyLimits()
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._rng = rng or random.Random()
        self._sleep = sleep
        #: ask again for a cached answer that the call's ``validate`` rejects (and replace it).
        self.retry_unparseable = retry_unparseable
        #: called on a cache miss, before the call is sent: returns the request to send (its
        #: ``api_base`` filled in). Not called for a hit, so a hit never starts a server.
        self.locate = locate
        #: why the client refuses new attempts (see :meth:`stop`), or None.
        self.stopped: str | None = None
        #: calls sent to a model (not served from the cache) that have not finished yet,
        #: including those waiting for a concurrency slot or between retries.
        self.in_flight = 0
        #: cache key -> (event loop, set when that call ends) of each call under way in
        #: ``use`` mode; an identical call waits for it (see :meth:`complete`).
        self._under_way: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}

    @classmethod
    def from_config(
        cls,
        config: EvalkitConfig,
        *,
        transport: ModelTransport | None = None,
        budget: Budget | None = None,
        cache_mode: CacheMode | None = None,
        locate: Locator | None = None,
        warn: Warn | None = None,
    ) -> ModelClient:
        """Build a client from the run's config.

        Pass ``budget`` to share one budget between several clients of a run, and
        ``cache_mode`` to override the config's (e.g. ``refresh`` for one model only).
        ``locate`` is the hook that gives a request its address on a cache miss; ``warn`` is
        told once if the cache becomes unusable (default: stderr).
        """
        cache = ResponseCache(
            config.cache_location(),
            cache_mode or config.cache_mode,
            ttl_s=config.cache_ttl_s,
            warn=warn,
        )
        return cls(
            transport,
            cache=cache,
            budget=budget or Budget.from_config(config),
            limits=ConcurrencyLimits(config.concurrency),
            retry=RetryPolicy.from_config(config),
            timeout_s=config.timeout_s,
            rng=random.Random(config.seed),
            retry_unparseable=config.retry_unparseable,
            locate=locate,
        )

    async def complete(
        self, request: ModelRequest, *, validate: Validator | None = None
    ) -> Completion:
        """Return the answer to ``request``, from the cache or from the model.

        Every answer with text is cached, whether ``validate`` (optional: whether an answer
        is usable, e.g. whether a judge's reply parses) accepts it or not, and a cached one
        is returned as it is. Only with ``retry_unparseable`` is a cached answer that
        ``validate`` rejects asked again (the new answer replaces it), except in replay mode,
        which never calls a model. Empty answers and failed calls are never cached.

        In ``use`` mode, a call identical to one already under way (same cache key) waits for
        that one and is then answered as any later call would be: from the cache, or by a
        call of its own if the first one failed or left nothing to cache. So concurrent
        identical calls (e.g. a candidate that is also the baseline) reach the model once.

        Raises:
            CacheMiss: replay mode, and the call is not cached.
            LocalModelError: ``locate`` could not start the model's server.
            BudgetExceeded: the run's call or spending limit is reached.
            PermanentModelError: retrying cannot help (bad request, unknown model, no key).
            TransientModelError: still failing after ``retry.max_retries`` retries; the
                message ends with the number of attempts.
            UsageError: a sampling parameter cannot be put into the cache key.
            ClientError: the call cannot be sent as configured (e.g. an infinite timeout).
        """
        key = cache_key(request) if self.cache.mode != "off" else ""
        if self.cache.mode != "use":
            return await self._complete(request, key, validate)
        loop = asyncio.get_running_loop()
        while (twin := self._under_way.get(key)) is not None and twin[0] is loop:
            await twin[1].wait()
        done = asyncio.Event()
        self._under_way[key] = (loop, done)
        try:
            return await self._complete(request, key, validate)
        finally:
            if self._under_way.get(key, (loop, None))[1] is done:
                del self._under_way[key]
            done.set()

    async def _complete(
        self, request: ModelRequest, key: str, validate: Validator | None
    ) -> Completion:
        """:meth:`complete` once no identical call is under way; ``key`` is its cache key."""
        if self.cache.reads:
            hit = await self.cache.aget(key)
            if hit is not None and (
                self.cache.mode == "replay" or not self._asks_again(hit, validate)
            ):
                return hit
            if self.cache.mode == "replay":
                raise self.cache.miss(request)
        timeout_s = self._timeout_of(request)
        self.budget.reserve(request.model)
        self.in_flight += 1
        try:
            if self.locate is not None:
                request = await self.locate(request)
            completion = await self._attempts(request, timeout_s)
        finally:
            self.in_flight -= 1
        self.budget.record(completion.cost_usd)
        if self.cache.writes:
            # Overwrites an entry asked again under retry_unparseable; kept until then, so
            # a failed retry loses nothing.
            await self.cache.aput(key, completion, model=request.model)
        return completion

    def _asks_again(self, hit: Completion, validate: Validator | None) -> bool:
        """Whether a cached answer is asked again: only unusable ones, only when told to."""
        return self.retry_unparseable and validate is not None and not validate(hit)

    def stop(self, reason: str) -> None:
        """Make no new attempt from now on: calls waiting for a slot raise CallNotMade.

        Attempts already under way finish (or time out) as usual.
        """
        if self.stopped is None:
            self.stopped = reason

    def check(self, request: ModelRequest) -> None:
        """Raise now what the first call of ``request`` would surely fail on, spending nothing.

        Asks the transport, when it can tell (litellm's: unknown model string, missing API
        key). In replay mode nothing is checked: no model will be called.

        Raises:
            PermanentModelError: the call cannot succeed as configured.
        """
        if self.cache.mode == "replay":
            return
        checker = getattr(self.transport, "check", None)
        if checker is not None:
            try:
                checker(request)
            except ModelError as err:
                _scrub(err, request)
                raise

    def forget(self, request: ModelRequest) -> bool:
        """Evict ``request``'s cached answer (e.g. one that turned out unusable).

        Returns whether there was one.
        """
        if self.cache.mode == "off":
            return False
        return self.cache.evict(cache_key(request))

    async def complete_many(
        self, requests: Sequence[ModelRequest], *, validate: Validator | None = None
    ) -> list[Completion | EvalkitError]:
        """Run ``requests`` concurrently; return each answer or evalkit error, in order.

        Errors that are not :class:`~evalkit.errors.EvalkitError` (bugs) propagate.
        """
        return list(
            await asyncio.gather(*(self._settled(r, validate) for r in requests)),
        )

    async def iter_completed(
        self, requests: Sequence[ModelRequest], *, validate: Validator | None = None
    ) -> AsyncIterator[tuple[int, Completion | EvalkitError]]:
        """Yield ``(index, answer or evalkit error)`` as each request finishes.

        Lets callers append rows as they arrive. Leaving the loop early cancels the calls
        still running once the generator is closed (wrap it in ``contextlib.aclosing`` to
        close it at once).
        """

        async def indexed(
            index: int, request: ModelRequest
        ) -> tuple[int, Completion | EvalkitError]:
            return index, await self._settled(request, validate)

        tasks = [asyncio.ensure_future(indexed(i, r)) for i, r in enumerate(requests)]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        """Close the cache database. HTTP clients belong to litellm and are reused."""
        self.cache.close()

    async def aclose(self) -> None:
        """Close the cache and the transport's HTTP clients for the running event loop.

        Call it last thing in the event loop that used the client (the client itself stays
        usable: a later call reopens what it needs).
        """
        self.cache.close()
        closer = getattr(self.transport, "aclose", None)
        if closer is not None:
            await closer()

    async def _settled(
        self, request: ModelRequest, validate: Validator | None
    ) -> Completion | EvalkitError:
        try:
            return await self.complete(request, validate=validate)
        except EvalkitError as err:
            return err

    def _timeout_of(self, request: ModelRequest) -> float:
        timeout_s = request.timeout_s or self.timeout_s
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            # An HTTP client given this fails in its own way, which looked like the provider's.
            raise ClientError(
                f"the call to {request.model} has a timeout of {timeout_s!r} s; give a finite "
                "number of seconds (timeout_s, EVALKIT_TIMEOUT_S or the judge's timeout_s)"
            )
        return timeout_s

    async def _attempts(self, request: ModelRequest, timeout_s: float) -> Completion:
        slot = self.limits.slot(request.model, request.api_base)
        policy = self.retry
        if request.max_retries is not None:  # e.g. an HTTP app's own retries=
            policy = dataclasses.replace(policy, max_retries=request.max_retries)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with slot:
                    # Checked once a slot is free, so that calls queued behind the limit are
                    # refused too, not only those not yet issued.
                    if self.stopped is not None:
                        raise CallNotMade(self.stopped)
                    completion = await self.transport.attempt(request, timeout_s)
            except ModelError as err:
                delay = retry_delay(policy, attempt, err, self._rng)
                if delay is None:
                    if attempt > 1:
                        # Keep the error's type (and the chain to the provider's exception);
                        # only the message learns how hard evalkit tried.
                        err.args = (f"{err} (gave up after {attempt} attempts)", *err.args[1:])
                    _scrub(err, request)
                    raise
                await self._sleep(delay)
                continue
            return dataclasses.replace(completion, attempts=attempt)


def _scrub(err: ModelError, request: ModelRequest) -> None:
    """Mask the request's credentials out of ``err``'s message, in place.

    In place, so that the error keeps its type and its chain to the provider's exception.
    """
    if err.args:
        err.args = (redact(str(err.args[0]), request.secrets()), *err.args[1:])
