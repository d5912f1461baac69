"""The response cache: a model's answer to an identical call is fetched once, then replayed.

Entries live in a store (:mod:`evalkit.models._cache_store`): a diskcache (SQLite) folder, which
several processes may share, or a Redis server (``cache_url = "redis://host:port/db"``), which
every shard, runner and developer may share. The key is
the sha256 of canonical JSON of everything that changes the answer — model, api_base, messages
or prompt, every sampling parameter (sorted), and the sample index — and never the API key, so
neither keys nor their hashes reach the disk. Values are JSON, never pickles.

Modes (``cache_mode`` in the config):

- ``use``: read, and write new answers (the default);
- ``refresh``: do not read, but write, so the cache is re-recorded;
- ``off``: neither read nor write (the directory is not even created);
- ``replay``: read only; a miss raises :class:`~evalkit.errors.CacheMiss`, so a replayed run
  provably spends nothing.

Every answer with text is written, whether or not the caller can use it (a judge's unreadable
reply is recorded as what that judge says; see ``retry_unparseable``); empty answers and failed
calls never are. A hit is returned as a :class:`Completion` with ``cached=True``,
``latency_s=0``, ``attempts=0`` and ``cost_usd=0`` (a hit spends nothing), with the original
token counts.

A store that cannot be reached (Redis refused, dropped or timed out a command) is no reason to
fail a run, nor to answer wrongly: the cache warns once, naming the server without its password,
and from then on reads nothing and writes nothing, so every call goes to its model. The outage
is kept for the run's record (:meth:`ResponseCache.outage`): when, what kind of failure, and
how many lookups and writes it cost.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

from evalkit.config import CacheMode
from evalkit.errors import CacheMiss, CacheUnavailable, UsageError
from evalkit.models._cache_store import CacheStore, open_store
from evalkit.models._types import Completion, ModelRequest
from evalkit.records._run import CacheOutage

#: Bumped whenever the key or value layout changes, so old entries are simply not found.
CACHE_FORMAT: Final = 1
#: Parameters that never change the answer and must never reach the key (secrets, transport).
_NOT_IN_KEY: Final = frozenset(
    {"api_key", "api_base", "base_url", "headers", "extra_headers", "timeout", "max_retries",
     "num_retries", "metadata"}
)  # fmt: skip
#: Threads that wait on a remote store at once (a run has up to concurrency x models calls
#: in flight; past this many, lookups queue for a thread).
REMOTE_THREADS: Final = 32

T = TypeVar("T")
#: Told, once, the line saying that the cache went away (by default written to stderr).
Warn = Callable[[str], None]


def cache_key(request: ModelRequest) -> str:
    """Return the cache key of ``request``: a sha256 hex digest of its canonical JSON.

    Raises:
        UsageError: a sampling parameter is not JSON-serialisable, so it cannot be keyed.
    """
    payload: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "model": request.model,
        "api_base": request.cache_scope or request.api_base,
        "sample": request.sample,
        "params": {k: v for k, v in request.params.items() if k not in _NOT_IN_KEY},
    }
    if request.prompt is not None:
        payload["prompt"] = request.prompt
    else:
        payload["messages"] = [dict(m) for m in request.messages]
    try:
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"a sampling parameter of the call to {request.model} is not JSON-serialisable "
            f"({exc}); pass plain numbers, strings, lists and dicts in params"
        ) from None
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def decode(raw: str) -> Completion:
    """The completion a cache entry holds, as a hit (``cached=True``, nothing spent).

    Raises:
        ValueError: ``raw`` is not an entry (written by an incompatible version, or damaged).
    """
    try:
        data = json.loads(raw)
        return Completion(
            text=str(data["text"]),
            input_tokens=int(data["input_tokens"]),
            output_tokens=int(data["output_tokens"]),
            cost_usd=0.0,
            latency_s=0.0,
            cached=True,
            attempts=0,
            finish_reason=data.get("finish_reason"),
            text_repaired=bool(data.get("text_repaired", False)),
        )
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"not a cache entry ({exc})") from None


def encode(completion: Completion, *, model: str) -> str:
    """The cache entry of ``completion``: JSON, with the original cost and latency kept."""
    return json.dumps(
        {
            "text": completion.text,
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
            "cost_usd": completion.cost_usd,
            "latency_s": completion.latency_s,
            "finish_reason": completion.finish_reason,
            "text_repaired": completion.text_repaired,
            "model": model,
        },
        ensure_ascii=False,
    )


def _to_stderr(message: str) -> None:
    sys.stderr.write(f"evalkit: {message}\n")


class ResponseCache:
    """Stores usable completions under :func:`cache_key`, according to ``mode``.

    ``location`` is a folder, a ``redis://`` URL, or a :class:`CacheStore`; nothing is opened
    until first use, so a cache that is never used (or is ``off``) creates nothing. ``ttl_s``
    makes new entries expire; ``timeout_s`` bounds each Redis command; ``warn`` is told, once,
    if the store becomes unusable; ``clock`` (Unix time) dates that moment for the record.
    """

    def __init__(
        self,
        location: Path | str | CacheStore,
        mode: CacheMode = "use",
        *,
        ttl_s: float | None = None,
        timeout_s: float | None = None,
        warn: Warn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store: CacheStore = (
            open_store(location, timeout_s=timeout_s)
            if isinstance(location, Path | str)
            else location
        )
        self.mode: CacheMode = mode
        self.ttl_s = ttl_s
        #: why the store could not be used (then the cache neither reads nor writes), or None.
        self.down: str | None = None
        self._warn = warn if warn is not None else _to_stderr
        self._lock = threading.Lock()  # remote calls run in several threads at once
        self._threads: ThreadPoolExecutor | None = None  # for a remote store, made on first use
        self._clock = clock
        #: the first failure's time and kind, then the lookups and writes made without the store.
        self._down_at = 0.0
        self._down_kind = ""
        self._lost = {"reads": 0, "writes": 0}

    @property
    def reads(self) -> bool:
        """Whether lookups consult the cache (``use`` and ``replay``)."""
        return self.mode in ("use", "replay")

    @property
    def writes(self) -> bool:
        """Whether new answers are stored (``use`` and ``refresh``)."""
        return self.mode in ("use", "refresh")

    def get(self, key: str) -> Completion | None:
        """Return the cached completion under ``key`` as a hit, or None (also when not reading).

        An unreadable entry (written by an incompatible version) is evicted and reported as a
        miss rather than raised.
        """
        if not self.reads:
            return None
        if self.down is not None:
            self._count_lost("reads")
            return None
        raw = self._guarded(self.store.get, key, lost="reads")
        if raw is None:
            return None
        try:
            return decode(raw)
        except ValueError:
            self.evict(key)
            return None

    def miss(self, request: ModelRequest) -> CacheMiss:
        """Return the error replay mode raises when ``request`` is not cached."""
        if self.down is not None:
            return CacheMiss(
                f"cache_mode=replay, but the cache could not be used ({self.down}), so the "
                f"call to {request.model} (sample {request.sample}) cannot be replayed; start "
                "the server or fix cache_url (--evalkit-cache-url), then replay again"
            )
        return CacheMiss(
            f"cache_mode=replay, but the call to {request.model} (sample {request.sample}) is "
            f"not in the cache at {self.store.name}; record it first by running with "
            "cache_mode=use (EVALKIT_CACHE_MODE=use), then replay"
        )

    def put(self, key: str, completion: Completion, *, model: str) -> bool:
        """Store ``completion`` under ``key`` (replacing any entry) if it has text and we write.

        Returns whether it was stored. The original cost and latency are kept in the entry for
        inspection; hits still report a cost of 0.
        """
        if not self.writes or not completion.text.strip():
            return False
        if self.down is not None:
            self._count_lost("writes")
            return False
        value = encode(completion, model=model)
        self._guarded(self.store.set, key, value, self.ttl_s, lost="writes")
        return self.down is None

    def evict(self, key: str) -> bool:
        """Remove the entry under ``key``; return whether there was one. Not in ``off`` mode."""
        if self.mode == "off" or self.down is not None:
            return False
        return bool(self._guarded(self.store.delete, key))

    async def aget(self, key: str) -> Completion | None:
        """:meth:`get`, off the event loop when the store is remote."""
        if self.store.remote and self.reads and self.down is None:
            return await self._off_loop(functools.partial(self.get, key))
        return self.get(key)

    async def aput(self, key: str, completion: Completion, *, model: str) -> bool:
        """:meth:`put`, off the event loop when the store is remote."""
        if self.store.remote and self.writes and self.down is None:
            return await self._off_loop(functools.partial(self.put, key, completion, model=model))
        return self.put(key, completion, model=model)

    def outage(self) -> CacheOutage | None:
        """The store's loss so far, for the run's record; None while it works.

        Counts the lookups that could not be made (each of those calls went to its model, the
        lookup that failed included) and the answers that could not be stored.
        """
        with self._lock:
            if self.down is None:
                return None
            return CacheOutage(
                at=self._down_at, kind=self._down_kind, store=self.store.name,
                message=self.down, calls_without_cache=self._lost["reads"],
                answers_not_cached=self._lost["writes"],
            )  # fmt: skip

    def close(self) -> None:
        """Close the underlying store (it reopens on next use)."""
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)
        self.store.close()

    async def _off_loop(self, call: Callable[[], T]) -> T:
        """``call()`` in one of the cache's own threads, so the event loop never waits on it."""
        with self._lock:
            if self._threads is None:
                # Its own pool, not asyncio's default one (a handful of threads on a small
                # machine, shared with sync apps): a call waits on the network, not the CPU, so
                # as many may wait at once as a run has calls in flight.
                self._threads = ThreadPoolExecutor(REMOTE_THREADS, "evalkit-cache")
            threads = self._threads
        return await asyncio.get_running_loop().run_in_executor(threads, call)

    def _count_lost(self, what: str) -> None:
        with self._lock:  # lookups and writes of a remote store run in several threads
            self._lost[what] += 1

    def _guarded(self, op: Callable[..., T], *args: object, lost: str = "") -> T | None:
        """``op(*args)``, or None once the store is unusable (warning once when it becomes so).

        A failure counts against ``lost`` (``reads`` or ``writes``) in the outage's record.
        """
        try:
            return op(*args)
        except CacheUnavailable as exc:
            with self._lock:
                first = self.down is None
                if first:
                    self.down = str(exc)
                    self._down_at = self._clock()
                    self._down_kind = exc.kind
                if lost:
                    self._lost[lost] += 1
            if first:
                self._warn(
                    f"warning: the response cache cannot be used ({exc}); the run goes on "
                    "without it: every call goes to its model and nothing is cached"
                )
            return None
