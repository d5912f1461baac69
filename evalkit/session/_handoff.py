"""One evaluation of a suite per run, however many pytest-xdist workers run its tests.

pytest-xdist spreads a suite's tests over workers, and each worker would otherwise evaluate
the whole suite. Instead the first worker to need a suite takes an exclusive lock on it,
evaluates it, and leaves the result in the run folder; a worker that needs it later waits for
the lock and reads that result. The handoff files are private to the run and deleted when the
controller merges the run.

The controller also tells the workers here that it was signalled (Ctrl-C, SIGTERM): the stop
file holds how many signals it got, and every worker polls it (see
:mod:`evalkit.session._signals`), so that no worker starts a call after the controller was
told to stop.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
HANDOFF_DIR = "handoff"
STOP_FILE = "stop"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks while another worker evaluates the suite
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def evaluate_once(run_dir: Path, suite: str, evaluate: Callable[[], T]) -> tuple[T, bool]:
    """Return the suite's result and whether this process evaluated it.

    The result is pickled: it is written and read only by evalkit's own processes of one run,
    inside the run folder, and holds DataFrames that JSON would not round-trip exactly.
    """
    name = _SAFE.sub("_", suite)
    folder = run_dir / HANDOFF_DIR
    done = folder / f"{name}.pickle"
    with _exclusive(folder / f"{name}.lock"):
        if done.exists():
            with done.open("rb") as fh:
                result: T = pickle.load(fh)
            return result, False
        result = evaluate()
        tmp = done.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(result, fh)
        os.replace(tmp, done)
        return result, True


def request_stop(run_dir: Path, signals: int) -> None:
    """Tell the run's workers that the controller has received ``signals`` signals."""
    folder = run_dir / HANDOFF_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{STOP_FILE}.{os.getpid()}.tmp"
    tmp.write_text(str(signals), encoding="ascii")
    os.replace(tmp, folder / STOP_FILE)  # a worker never reads a half-written count


def stop_requested(run_dir: Path) -> int:
    """How many signals the controller has received (0: none, or no stop file)."""
    try:
        return int((run_dir / HANDOFF_DIR / STOP_FILE).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return 0
