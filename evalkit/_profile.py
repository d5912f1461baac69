"""Where a run's wall time goes, phase by phase (``--evalkit-profile``).

The plugin and the session mark the spans of a run's phases on one :class:`Profile`; at the end
the plugin prints each phase's wall time and share of the whole run, measured from the start
of the process. Whatever no phase covers (pytest's own work between tests, say) is shown as
``other``, so the shares add up to 100 %. The clock is injectable, so the arithmetic is tested
without waiting.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

#: The phases, in the order a run goes through them.
PHASES: Final = (
    "imports",  # process start to the end of collection: interpreter, pytest, plugins, suites
    "preflight",  # every suite's inputs checked, before any call
    "answers",  # the candidate's and the baseline's answers
    "judge calls",  # the panel's calls (and deterministic graders)
    "audit",  # the judge audit of each suite's table
    "gates",  # each suite's gates
    "tests",  # pytest running the item and gate tests, outside the phases above
    "report",  # run.json, the results files and the HTML report
    "exit",  # from the end of the session to pytest_unconfigure
)
Clock = Callable[[], float]


class Profile:
    """Accumulates wall time per phase with ``clock``, from ``started`` (a ``clock`` reading).

    ``started`` defaults to the moment the profile is made; pass an earlier reading to count
    the time before it (see :func:`process_age_s`).
    """

    def __init__(self, clock: Clock = time.perf_counter, *, started: float | None = None) -> None:
        self._clock = clock
        self.started = clock() if started is None else started
        #: seconds spent so far in each phase of :data:`PHASES`.
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)

    def now(self) -> float:
        """The profile's clock reading."""
        return self._clock()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the wall time of the ``with`` block to phase ``name`` (even if it raises).

        Raises:
            KeyError: ``name`` is not one of :data:`PHASES`.
        """
        self.seconds[name]  # a typo in a phase name fails here, before the block runs
        begin = self._clock()
        try:
            yield
        finally:
            self.seconds[name] += self._clock() - begin

    @contextlib.contextmanager
    def outside_phases(self, name: str) -> Iterator[None]:
        """Add to phase ``name`` the wall time of the ``with`` block that no other phase took.

        For a span that contains other phases: pytest's first item test runs the suite's
        answers, judge calls, audit and gates, which keep their own time.

        Raises:
            KeyError: ``name`` is not one of :data:`PHASES`.
        """
        self.seconds[name]
        begin, inside = self._clock(), sum(self.seconds.values())
        try:
            yield
        finally:
            nested = sum(self.seconds.values()) - inside
            self.seconds[name] += max(self._clock() - begin - nested, 0.0)

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to phase ``name``.

        Raises:
            KeyError: ``name`` is not one of :data:`PHASES`.
        """
        self.seconds[name] += seconds

    def lines(self) -> list[str]:
        """One line per phase (then ``other`` and the total): seconds and share of the run.

        The run is measured from ``started`` to now.
        """
        total = max(self._clock() - self.started, 0.0)
        rows = [*self.seconds.items(), ("other", max(total - sum(self.seconds.values()), 0.0))]
        lines = ["evalkit profile: wall time per phase"]
        for name, seconds in rows:
            share = seconds / total if total > 0 else 0.0
            lines.append(f"  {name:<12} {seconds:8.2f} s  {share:6.1%}")
        lines.append(f"  {'total':<12} {total:8.2f} s  {1.0 if total > 0 else 0.0:6.1%}")
        return lines


def process_age_s() -> float:
    """Seconds since this process started (Linux ``/proc``); 0 where that cannot be read.

    Lets the ``imports`` phase include the interpreter's start-up and pytest's own imports,
    which happen before evalkit's code runs.
    """
    try:
        # Field 22 of /proc/self/stat is the start time in clock ticks after boot; the fields
        # are counted after the command name, which may itself contain spaces.
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(uptime - started, 0.0)
