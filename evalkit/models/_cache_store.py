"""Where the response cache keeps its entries: a local folder, or a Redis server.

A store maps a cache key (see :func:`~evalkit.models._cache.cache_key`) to the entry's JSON
text and knows nothing of modes or completions; :class:`~evalkit.models.ResponseCache` adds
those, the same way for every store. :func:`open_store` picks the store from the cache's
location: a folder path (a diskcache directory, today's cache) or a ``redis://`` URL
(:class:`~evalkit.models._cache_redis.RedisStore`, shared by every shard, runner and developer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Protocol

from evalkit.config import is_url

#: The subfolder of a cache folder that holds the entries (the rest holds the bundled models).
RESPONSES: Final = "responses"


class CacheStore(Protocol):
    """A key-value store of cache entries (JSON text under a cache key)."""

    #: how the store is named in messages (a folder, or a URL without its password).
    name: str
    #: whether a call may wait on the network: such calls are run off the event loop.
    remote: bool

    def get(self, key: str) -> str | None:
        """The entry under ``key``, or None."""
        ...

    def set(self, key: str, value: str, ttl_s: float | None) -> None:
        """Store ``value`` under ``key`` (replacing any entry), expiring after ``ttl_s``."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the entry under ``key``; return whether there was one."""
        ...

    def iter_keys(self) -> Iterator[str]:
        """Every key in the store (for copying between stores)."""
        ...

    def close(self) -> None:
        """Release connections and files; the store reopens on next use."""
        ...


class DiskStore:
    """The entries in a diskcache (SQLite) directory, which several processes may share.

    The directory is opened on first use, so a cache that is never used creates nothing.
    """

    remote = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = str(folder)
        self._store: Any = None  # diskcache.Cache, opened lazily

    def exists(self) -> bool:
        """Whether entries were ever written here (checking creates nothing)."""
        return (self.folder / RESPONSES).is_dir()

    def get(self, key: str) -> str | None:
        """The entry under ``key``, or None."""
        value = self._open().get(key)
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl_s: float | None) -> None:
        """Store ``value`` under ``key``, expiring after ``ttl_s`` seconds (None: never)."""
        self._open().set(key, value, expire=ttl_s)

    def delete(self, key: str) -> bool:
        """Remove the entry under ``key``; return whether there was one."""
        return bool(self._open().delete(key))

    def iter_keys(self) -> Iterator[str]:
        """Every key in the folder."""
        return (str(key) for key in self._open().iterkeys())

    def close(self) -> None:
        """Close the database (it reopens on next use)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def _open(self) -> Any:
        if self._store is None:
            import diskcache  # imported here: a run with the cache off never needs it

            # Several processes may share the directory: diskcache serialises writers through
            # SQLite; the generous timeout rides out another process's write burst.
            self._store = diskcache.Cache(
                str(self.folder / RESPONSES), timeout=60, eviction_policy="none"
            )
        return self._store


def open_store(location: Path | str, *, timeout_s: float | None = None) -> CacheStore:
    """The store at ``location``: a ``redis://`` URL, or a folder path.

    ``timeout_s`` bounds each Redis command (connecting included); ignored for a folder.
    Nothing is opened or connected yet.
    """
    if isinstance(location, str) and is_url(location):
        from evalkit.models._cache_redis import DEFAULT_TIMEOUT_S, RedisStore  # needs redis

        return RedisStore(location, timeout_s=timeout_s or DEFAULT_TIMEOUT_S)
    return DiskStore(Path(location))
