"""The response cache on a Redis server, shared by every shard, runner and developer.

Same keys and same JSON values as the local folder, each key under :data:`KEY_PREFIX`, which
carries the cache format: a format change leaves old entries unread (and a ``SCAN`` of one
format's entries skips other tools' keys in the same database).

The client is redis-py's synchronous one, with short socket timeouts and no retries of its
own: a command either answers within ``timeout_s`` or raises
:class:`~evalkit.errors.CacheUnavailable`, which the response cache turns into one warning and
a run without a cache. The model client runs these calls in a worker thread
(``CacheStore.remote``), so a slow or dead server never holds up the event loop; the
synchronous client also serves the synchronous callers (the dry run, ``evalkit cache``) and is
not tied to one event loop, which matters because each suite runs in an event loop of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from evalkit.errors import CacheUnavailable
from evalkit.models._cache import CACHE_FORMAT
from evalkit.redaction import redact, request_secrets

#: Every entry's Redis key is this prefix plus the cache key.
KEY_PREFIX: Final = f"evalkit:response:v{CACHE_FORMAT}:"
#: Seconds one command (or connecting) may take. A cache hit answers in well under a
#: millisecond on a LAN; a server that takes longer is treated as down rather than waited on.
DEFAULT_TIMEOUT_S: Final = 1.0
#: Keys asked for per SCAN round trip when listing entries.
_SCAN_COUNT: Final = 1000

T = TypeVar("T")


class RedisStore:
    """Cache entries on the Redis server at ``url`` (``redis://[:password@]host:port/db``).

    Connects on first use. Every failure (refused, dropped, timed out, or an error reply such
    as a wrong password) raises :class:`~evalkit.errors.CacheUnavailable`, whose message names
    the server without its password.
    """

    remote = True

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.name = redact(url)
        self.timeout_s = timeout_s
        self._client: Any = None  # redis.Redis, made on first use
        self._lock = threading.Lock()  # the first calls may come from several threads at once

    def ping(self) -> None:
        """Check that the server answers.

        Raises:
            CacheUnavailable: it does not.
        """
        self._call("PING", lambda r: r.ping())

    def get(self, key: str) -> str | None:
        """The entry under ``key``, or None."""
        value = self._call("GET", lambda r: r.get(KEY_PREFIX + key))
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl_s: float | None) -> None:
        """Store ``value`` under ``key``, expiring after ``ttl_s`` seconds (None: never)."""
        expire_ms = None if ttl_s is None else max(1, round(ttl_s * 1000))
        self._call("SET", lambda r: r.set(KEY_PREFIX + key, value, px=expire_ms))

    def delete(self, key: str) -> bool:
        """Remove the entry under ``key``; return whether there was one."""
        return bool(self._call("DEL", lambda r: r.delete(KEY_PREFIX + key)))

    def iter_keys(self) -> Iterator[str]:
        """Every key of this cache format on the server (other keys are left out)."""
        names = self._call(
            "SCAN", lambda r: list(r.scan_iter(match=KEY_PREFIX + "*", count=_SCAN_COUNT))
        )
        return (str(name).removeprefix(KEY_PREFIX) for name in names)

    def close(self) -> None:
        """Drop the connections (new ones are made on next use)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _call(self, command: str, run: Callable[[Any], T]) -> T:
        import redis

        try:
            return run(self._redis())
        except redis.RedisError as exc:
            reason = redact(str(exc), request_secrets(api_base=self.url)) or type(exc).__name__
            raise CacheUnavailable(
                f"Redis at {self.name}: {command} failed: {reason}", _kind(exc)
            ) from exc

    def _redis(self) -> Any:
        with self._lock:
            if self._client is None:
                import redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                # No retries: a cache that needs them is slower than the call it saves, and
                # each retry would hold a run up for another timeout.
                self._client = redis.Redis.from_url(
                    self.url,
                    socket_timeout=self.timeout_s,
                    socket_connect_timeout=self.timeout_s,
                    retry=Retry(NoBackoff(), 0),
                    decode_responses=True,
                )
            return self._client


def _kind(exc: Exception) -> str:
    """What kind of failure a redis-py error is, as :class:`CacheUnavailable` records it."""
    import redis

    # AuthenticationError is a ConnectionError in redis-py: asked first.
    if isinstance(exc, redis.AuthenticationError | redis.exceptions.AuthorizationError):
        return "auth"
    if isinstance(exc, redis.TimeoutError):
        return "timeout"
    if isinstance(exc, redis.ConnectionError):
        return "connection"
    return "error"
