"""How a run answers Ctrl-C (SIGINT) and SIGTERM: the first stops it cleanly, a second aborts.

The promise: whenever the first signal arrives, no new model call starts, the calls in flight
finish and are recorded, every row already written is kept, run.json and the report are
written marked ``interrupted``, and pytest exits 2. A second signal aborts at once, wherever it
arrives: nothing more is written (the rows and the response cache are already on disk, so a
rerun resumes). SIGTERM, what CI systems send on cancel, is the same as Ctrl-C.

:class:`RunInterrupts` holds that state for one process, from pytest's configure to its
unconfigure. A section that must not be cut short runs under :meth:`RunInterrupts.protect`
(model calls, a suite's analysis, writing the results): there the first signal is only
recorded, and the code that protected the section stops the run when the section is done.
Elsewhere (collection, between tests) the first signal raises KeyboardInterrupt at once,
which pytest turns into the end of the session.

Under pytest-xdist the controller forwards every signal it gets to the workers through a stop
file in the run folder (see :mod:`evalkit.session._handoff`); a worker watches for
it and acts as if it had been signalled itself. A worker counts a press of Ctrl-C once
whether it reaches it directly (the terminal signals every process of the group) or through
the controller. A worker never stops inside a test, which xdist would take for a crash: it
finishes the test it is running and then stops (the plugin sets pytest's ``shouldstop``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from evalkit.session._handoff import request_stop, stop_requested

#: The test hook's environment variable: ``<phase>:<SIGNAL>[+<SIGNAL>...]`` makes the process
#: send itself those signals the first time it reaches ``phase`` (see :meth:`checkpoint`).
#: Not an ``EVALKIT_*`` name: it is not configuration.
SIGNAL_HOOK_ENV: Final = "_EVALKIT_SIGNAL_AT"
_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
_WATCH_INTERVAL_S: Final = 0.01


class RunInterrupts:
    """One process's answer to SIGINT and SIGTERM (see the module docstring)."""

    def __init__(self, *, hook: str | None = None) -> None:
        #: the name of the first signal (``SIGINT``, ``SIGTERM``), or None.
        self.received: str | None = None
        #: whether a second signal aborted the run.
        self.aborted = False
        self._own = 0  # signals this process received
        self._forwarded = 0  # signals the xdist controller received, as the stop file says
        self._protected = 0
        self._raises = True
        self._stops: list[Callable[[], None]] = []
        self._forward: Callable[[int], None] | None = None
        self._previous: dict[int, Any] = {}
        self._watcher: threading.Event | None = None
        self._hook = _parse_hook(hook)

    @property
    def interrupted(self) -> bool:
        """Whether a signal arrived (in this process, or forwarded to it)."""
        return self.received is not None

    def install(self) -> None:
        """Handle SIGINT and SIGTERM from now on (only the main thread can; elsewhere no-op)."""
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def uninstall(self) -> None:
        """Give the signals back to the handlers they had before, and stop watching."""
        if self._watcher is not None:
            self._watcher.set()
        previous, self._previous = self._previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RunInterrupts:
        """The run's interrupts, with the test hook if ``environ`` sets one."""
        return cls(hook=environ.get(SIGNAL_HOOK_ENV))

    def forward_to_workers(self, run_dir: Path | None) -> None:
        """Under xdist, in the controller: write every signal to ``run_dir``'s stop file.

        None: forward no more (the workers have finished).
        """
        self._forward = None if run_dir is None else functools.partial(request_stop, run_dir)

    def follow_controller(self, run_dir: Path) -> None:
        """Under xdist, in a worker: act on each signal written to ``run_dir``'s stop file.

        From then on the first signal never raises: the worker stops between tests.
        """
        self._raises = False
        self.hold()
        self._watch(functools.partial(stop_requested, run_dir))

    def _watch(self, level: Callable[[], int]) -> None:
        done = threading.Event()
        main = threading.main_thread().ident
        self._watcher = done

        def poll() -> None:
            while not done.wait(_WATCH_INTERVAL_S):
                seen = level()
                if seen <= self._forwarded:
                    continue
                self._forwarded = seen
                if self.received is None:
                    self.received = "SIGINT"
                    self._stop_calls()
                if seen >= 2 and not self.aborted and main is not None:
                    # Only the main thread can be interrupted; the handler sees the count.
                    signal.pthread_kill(main, signal.SIGINT)

        threading.Thread(target=poll, name="evalkit-stop-watch", daemon=True).start()

    def hold(self) -> None:
        """From now on, only record the first signal (the xdist controller; after the report)."""
        self._protected += 1

    @contextlib.contextmanager
    def protect(self) -> Iterator[None]:
        """Within: the first signal is recorded, not raised; a second one still aborts."""
        self._protected += 1
        try:
            yield
        finally:
            self._protected -= 1

    @contextlib.contextmanager
    def stopping(self, stop: Callable[[], None]) -> Iterator[None]:
        """Within a running event loop: call ``stop`` on the first signal; protected.

        Loop signal handlers wake the loop at once, wherever the signal was delivered; a
        second signal raises KeyboardInterrupt out of the loop, which cancels the calls.
        """
        loop = asyncio.get_running_loop()

        def stop_in_loop() -> None:
            # May come from the xdist watcher thread, and after the loop has closed.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop)

        installed: list[int] = []
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                    loop.add_signal_handler(sig, self._on_signal, sig)
                    installed.append(sig)
        self._stops.append(stop_in_loop)
        if self.received is not None:
            stop()
        self._protected += 1
        try:
            yield
        finally:
            self._protected -= 1
            self._stops.remove(stop_in_loop)
            for signum in installed:
                loop.remove_signal_handler(signum)
            # remove_signal_handler leaves the default handlers; put the run's back.
            for signum in self._previous:
                signal.signal(signum, self._on_signal)

    def raise_if_interrupted(self) -> None:
        """Raise KeyboardInterrupt if a signal arrived: the end of a protected section.

        Does nothing in an xdist worker, which stops between tests instead.

        Raises:
            KeyboardInterrupt: a signal arrived; pytest ends the session, which writes
                the report marked interrupted.
        """
        if self.received is not None and self._raises:
            raise KeyboardInterrupt(f"evalkit: interrupted by {self.received}")

    def checkpoint(self, phase: str) -> None:
        """Test hook: the first time ``phase`` is reached, send the signals named for it.

        The tests set ``_EVALKIT_SIGNAL_AT`` to hit a phase of a run exactly rather than
        sleeping a guessed time; without it, this does nothing.
        """
        if self._hook is None or self._hook[0] != phase:
            return
        signals, self._hook = self._hook[1], None
        for sig in signals:
            os.kill(os.getpid(), sig)

    def _on_signal(self, signum: int, frame: object = None) -> None:
        self._own += 1
        if self._forward is not None:
            self._forward(self._own)
        if max(self._own, self._forwarded) >= 2:
            self.aborted = True
            self.uninstall()  # a third signal gets Python's default behaviour
            raise KeyboardInterrupt("evalkit: aborted by a second signal")
        if self.received is None:
            self.received = signal.Signals(signum).name
            self._stop_calls()
        if not self._protected:
            raise KeyboardInterrupt(f"evalkit: interrupted by {self.received}")

    def _stop_calls(self) -> None:
        for stop in list(self._stops):
            stop()


def _parse_hook(hook: str | None) -> tuple[str, list[signal.Signals]] | None:
    if not hook:
        return None
    phase, _, names = hook.partition(":")
    return phase, [signal.Signals[name] for name in names.split("+")]
