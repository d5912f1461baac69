"""Progress of a suite's model calls, printed now and then while they run.

The engine reports every answer and judgment through the same sinks that append them to the
run folder; :class:`Progress` counts them on the way and, at most every ``interval_s``,
prints one line (done, cached, failed, cost so far) through the writer the plugin provides,
which prints past pytest's output capture so that pytest's own lines are not garbled.

A provider that never answers lands no rows, so while calls are outstanding
:meth:`Progress.heartbeat` also prints, every ``heartbeat_s``, how many are in flight and how
long ago the last answer came: a run waiting out its timeouts says so instead of going quiet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from evalkit.records._answers import Answer
from evalkit.records._judgments import Judgment
from evalkit.records._status import FAILED_STATUSES

Writer = Callable[[str], None]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class _Appender(Protocol):
    def append(self, row: Answer | Judgment) -> None: ...


@dataclasses.dataclass
class Progress:
    """Counters for one suite, and a throttled printer.

    ``clock`` (monotonic seconds) is injectable so that tests need not wait.
    """

    suite: str
    write: Writer | None
    interval_s: float = 5.0
    heartbeat_s: float = 30.0
    clock: Clock = time.monotonic
    answers: int = 0
    judgments: int = 0
    cached: int = 0
    failed: int = 0
    unparseable: int = 0
    cost_usd: float = 0.0
    started: float = dataclasses.field(default=-1.0)
    _last: float = dataclasses.field(default=-1.0)
    #: when the last row landed (or the suite started), for the heartbeat.
    _last_row: float = dataclasses.field(default=-1.0)
    _last_beat: float = dataclasses.field(default=-1.0)

    def __post_init__(self) -> None:
        now = self.clock()
        self.started = self._last = self._last_row = self._last_beat = now

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
        now = self._last_row = self.clock()
        if self.write is not None and now - self._last >= self.interval_s:
            self._last = now
            self.write(self.line())

    def line(self) -> str:
        """The current state in one line."""
        return (
            f"evalkit: {self.suite}: {self.answers} answers, {self.judgments} judge calls "
            f"({self.cached} cached, {self.unparseable} unparseable, {self.failed} failed), "
            f"${self.cost_usd:.4f}, {self.clock() - self.started:.0f} s"
        )

    def beat(self, in_flight: int) -> str | None:
        """Return the heartbeat line if one is due now, else None.

        One is due when calls are in flight, no row has landed for ``heartbeat_s`` and no
        heartbeat was printed for as long, e.g.
        ``evalkit: general-knowledge: 12 calls in flight, 40 s since the last answer``.
        """
        now = self.clock()
        if in_flight <= 0 or min(now - self._last_row, now - self._last_beat) < self.heartbeat_s:
            return None
        self._last_beat = now
        since = "the last answer" if self.answers + self.judgments else "the suite started"
        calls = "call" if in_flight == 1 else "calls"
        return (
            f"evalkit: {self.suite}: {in_flight} {calls} in flight, "
            f"{now - self._last_row:.0f} s since {since}"
        )

    async def heartbeat(self, in_flight: Callable[[], int], sleep: Sleep = asyncio.sleep) -> None:
        """Print :meth:`beat`'s line whenever one is due, until cancelled.

        ``in_flight`` says how many calls are outstanding (e.g. ``ModelClient.in_flight``).
        """
        if self.write is None:
            return
        while True:
            # Checked a few times per period, so a line is at most a fifth of it late.
            await sleep(self.heartbeat_s / 5)
            line = self.beat(in_flight())
            if line is not None:
                self.write(line)

    def sink(self, out: _Appender) -> Callable[[Answer | Judgment], None]:
        """Wrap ``out.append`` so that every row is counted on its way to disk."""

        def append(row: Answer | Judgment) -> None:
            out.append(row)
            self.count(row)

        return append
