"""Things looked up by name: verdict parsers, graders and panel aggregators share one helper.

A :class:`Registry` maps names to values. Built-ins register themselves with the same
decorator a user's code would use (``@PARSERS.register("ab")``); a separately installed package
adds its own through an entry-point group, e.g. in its ``pyproject.toml``::

    [project.entry-points."evalkit.graders"]
    word_count = "my_package.graders:WordCount"

Entry points are read lazily: a name that is not registered in-process is looked up in the
group the first time it is asked for, and only that entry point is imported, so a broken plugin
cannot break the lookup of any other name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from evalkit.errors import UsageError

T = TypeVar("T")
V = TypeVar("V")


class Registry(Generic[T]):
    """Values of one kind, by name: ``register`` (decorator), ``get``, ``names``, ``unregister``.

    ``what`` names the kind in messages ("parser", "grader kind", "panel method"); ``group`` is
    the entry-point group read for names not registered in-process; ``error`` is the
    :class:`~evalkit.errors.UsageError` subclass raised for an unknown name.
    """

    def __init__(self, what: str, group: str, error: type[UsageError] = UsageError) -> None:
        self.what = what
        self.group = group
        self.error = error
        self._entries: dict[str, T] = {}
        self._plugins: Mapping[str, EntryPoint] | None = None

    def register(self, name: str) -> Callable[[V], V]:
        """Decorator: register the decorated value under ``name``; a later one replaces it.

        The value is returned unchanged, so a decorated class or function keeps its own type.
        The caller promises that it is a ``T``; :meth:`get` hands it out as one.
        """

        def decorate(value: V) -> V:
            self._entries[name] = value  # type: ignore[assignment]
            return value

        return decorate

    def unregister(self, name: str) -> None:
        """Forget ``name`` if it was registered in-process (an entry point stays findable)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """Return the value registered as ``name``, loading its entry point if need be.

        Raises:
            UsageError: (``self.error``) no such name — the message lists the known names and
                suggests the closest — or its entry point failed to import.
        """
        if name in self._entries:
            return self._entries[name]
        plugin = self._entry_points().get(name)
        if plugin is None:
            raise self.error(self.unknown(name))
        try:
            value: T = plugin.load()
        except Exception as exc:  # any import-time failure of a third-party package
            raise self.error(
                f"{self.what} {name!r} comes from the entry point {plugin.value!r} (group "
                f"{self.group!r}), which failed to import: {type(exc).__name__}: {exc}; fix or "
                "uninstall the package that declares it"
            ) from exc
        self._entries.setdefault(name, value)
        return self._entries[name]

    def names(self) -> list[str]:
        """Every known name, sorted: the registered ones and those of installed entry points."""
        return sorted(set(self._entries) | set(self._entry_points()))

    def unknown(self, name: str) -> str:
        """The message for an unknown ``name``: the known names, and the closest one if any."""
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.what} {name!r}; known {self.what}s: {', '.join(known)}{hint}"

    def _entry_points(self) -> Mapping[str, EntryPoint]:
        # Scanned once per process: installed distributions do not change under a run.
        if self._plugins is None:
            self._plugins = {ep.name: ep for ep in entry_points(group=self.group)}
        return self._plugins
