"""Copying cache entries between stores: a local folder to Redis and back (``evalkit cache``).

The same key means the same request, so two stores that both hold a key should hold the same
answer. An entry is therefore copied only where the target has none (or an unreadable one); an
entry the target already holds with the same answer (text, token counts, finish reason; the
recorded cost and latency may differ) is skipped; one it holds with a *different* answer is a
conflict: the target's entry is kept and the key reported, never overwritten silently.
"""

from __future__ import annotations

import dataclasses

from evalkit.models._cache import decode
from evalkit.models._cache_store import CacheStore
from evalkit.models._types import Completion


@dataclasses.dataclass(slots=True)
class CopyReport:
    """What a copy did so far (filled in as it goes, so a copy cut short still tells)."""

    copied: int = 0
    #: entries the target already held with the same answer.
    already_there: int = 0
    #: keys the target holds with a different answer (kept as they were).
    conflicts: list[str] = dataclasses.field(default_factory=list)
    #: source entries that are not readable entries (left behind).
    unreadable: int = 0

    def summary(self, source: str, target: str) -> str:
        """One line: how many entries were copied, skipped, conflicting or unreadable."""
        return (
            f"{self.copied} entries copied from {source} to {target}, {self.already_there} "
            f"already there, {len(self.conflicts)} conflicting (kept as they were in {target}), "
            f"{self.unreadable} unreadable in {source} (left behind)"
        )


def copy_entries(
    source: CacheStore,
    target: CacheStore,
    report: CopyReport,
    *,
    ttl_s: float | None = None,
) -> CopyReport:
    """Copy every entry of ``source`` that ``target`` lacks, counting into ``report``.

    New entries in ``target`` expire after ``ttl_s`` seconds (None: never).

    Raises:
        CacheUnavailable: a Redis store stopped answering; ``report`` holds what was done.
    """
    for key in source.iter_keys():
        raw = source.get(key)
        if raw is None:  # expired or evicted since it was listed
            continue
        answer = _answer(raw)
        if answer is None:
            report.unreadable += 1
            continue
        held = target.get(key)
        # A damaged entry in the target is not an answer: the good one replaces it.
        held_answer = None if held is None else _answer(held)
        if held_answer is None:
            target.set(key, raw, ttl_s)
            report.copied += 1
        elif held_answer == answer:
            report.already_there += 1
        else:
            report.conflicts.append(key)
    return report


def _answer(raw: str) -> Completion | None:
    """The answer an entry holds, or None if it is not a readable entry."""
    try:
        return decode(raw)
    except ValueError:
        return None
