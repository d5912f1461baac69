"""The response cache: a model's answer to an identical call is fetched once, then replayed.

Entries live in a diskcache (SQLite) directory, which several processes may share. The key is
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
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final

from evalkit.config import CacheMode
from evalkit.errors import CacheMiss, UsageError
from evalkit.models._types import Completion, ModelRequest

#: Bumped whenever the key or value layout changes, so old entries are simply not found.
CACHE_FORMAT: Final = 1
#: Parameters that never change the answer and must never reach the key (secrets, transport).
_NOT_IN_KEY: Final = frozenset(
    {"api_key", "api_base", "base_url", "headers", "extra_headers", "timeout", "max_retries",
     "num_retries", "metadata"}
)  # fmt: skip
_SUBDIR: Final = "responses"


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


class ResponseCache:
    """Stores usable completions on disk under :func:`cache_key`, according to ``mode``.

    The diskcache directory is opened on first use, so a cache that is never used (or is
    ``off``) creates nothing on disk.
    """

    def __init__(self, directory: Path | str, mode: CacheMode = "use") -> None:
        self.directory = Path(directory)
        self.mode: CacheMode = mode
        self._store: Any = None  # diskcache.Cache, opened lazily

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
        raw = self._open().get(key)
        if raw is None:
            return None
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
        except (TypeError, ValueError, KeyError):
            self.evict(key)
            return None

    def miss(self, request: ModelRequest) -> CacheMiss:
        """Return the error replay mode raises when ``request`` is not cached."""
        return CacheMiss(
            f"cache_mode=replay, but the call to {request.model} (sample {request.sample}) is "
            f"not in the cache at {self.directory}; record it first by running with "
            "cache_mode=use (EVALKIT_CACHE_MODE=use), then replay"
        )

    def put(self, key: str, completion: Completion, *, model: str) -> bool:
        """Store ``completion`` under ``key`` (replacing any entry) if it has text and we write.

        Returns whether it was stored. The original cost and latency are kept in the entry for
        inspection; hits still report a cost of 0.
        """
        if not self.writes or not completion.text.strip():
            return False
        value = json.dumps(
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
        self._open().set(key, value)
        return True

    def evict(self, key: str) -> bool:
        """Remove the entry under ``key``; return whether there was one. Not in ``off`` mode."""
        if self.mode == "off":
            return False
        return bool(self._open().delete(key))

    def close(self) -> None:
        """Close the underlying database (it reopens on next use)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def _open(self) -> Any:
        if self._store is None:
            import diskcache  # imported here: a run with the cache off never needs it

            # Several processes may share the directory: diskcache serialises writers through
            # SQLite; the generous timeout rides out another process's write burst.
            self._store = diskcache.Cache(
                str(self.directory / _SUBDIR), timeout=60, eviction_policy="none"
            )
        return self._store
