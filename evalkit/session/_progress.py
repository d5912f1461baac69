"""Progress of a suite's model calls, printed now and then while they run.

The engine reports every answer and judgment through the same sinks that append them to the
run folder; :class:`Progress` counts them on the way and, at most every ``interval_s``,
prints one line (done, cached, failed, cost so far) through the writer the plugin provides,
which prints past pytest's output capture so that pytest's own lines are not garbled.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Protocol

from evalkit.records import FAILED_STATUSES, Answer, Judgment

Writer = Callable[[str], None]


class _Appender(Protocol):
    def append(self, row: Answer | Judgment) -> None: ...


@dataclasses.dataclass
class Progress:
    """Counters for one suite, and a throttled printer."""

    suite: str
    write: Writer | None
    interval_s: float = 5.0
    answers: int = 0
    judgments: int = 0
    cached: int = 0
    failed: int = 0
    unparseable: int = 0
    cost_usd: float = 0.0
    started: float = dataclasses.field(default_factory=time.monotonic)
    _last: float = dataclasses.field(default_factory=time.monotonic)

    def count(self, row: Answer | Judgment) -> None:
        """Count one finished call, and print a line if the last one is old enough."""
        if isinstance(row, Answer):
            self.answers += 1
            self.failed += row.status != "ok"
        else:
            self.judgments += 1
            self.failed += row.status in FAILED_STATUSES
            self.unparseable += row.status == "unparseable"
        self.cached += row.cached
        self.cost_usd += row.cost_usd
        now = time.monotonic()
        if self.write is not None and now - self._last >= self.interval_s:
            self._last = now
            self.write(self.line())

    def line(self) -> str:
        """The current state in one line."""
        return (
            f"evalkit: {self.suite}: {self.answers} answers, {self.judgments} judge calls "
            f"({self.cached} cached, {self.unparseable} unparseable, {self.failed} failed), "
            f"${self.cost_usd:.4f}, {time.monotonic() - self.started:.0f} s"
        )

    def sink(self, out: _Appender) -> Callable[[Answer | Judgment], None]:
        """Wrap ``out.append`` so that every row is counted on its way to disk."""

        def append(row: Answer | Judgment) -> None:
            out.append(row)
            self.count(row)

        return append
