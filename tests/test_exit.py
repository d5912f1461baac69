"""The garbage collector around a pytest run with evalkit: paused while the run loads, then the
loaded objects frozen; frozen again before the exit, whose collections then skip the run's
objects. Only in a process started for the run."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit import _loading_gc

CONFTEST = """
import atexit
import gc


def _report():  # registered first, so it runs after every other exit handler
    with open("exit.txt", "w") as out:
        out.write(str(gc.get_freeze_count()))


atexit.register(_report)
"""
TEST_MODULE = """
import gc

WHILE_COLLECTING = gc.isenabled()


def test_state():  # a file, not stdout: an xdist worker's output is not shown
    with open("collector.txt", "w") as out:
        out.write(f"collecting={WHILE_COLLECTING} testing={gc.isenabled()} "
                  f"frozen={gc.get_freeze_count()}")
"""
ARGS = ["-q", "-p", "no:cacheprovider", "test_one.py"]


def _run(tmp_path: Path, *command: str) -> dict[str, str]:
    """Run ``python *command`` in a project of one test; what the test and the exit saw."""
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_one.py").write_text(TEST_MODULE)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    done = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    seen = dict(part.split("=") for part in (tmp_path / "collector.txt").read_text().split())
    return seen | {"frozen at exit": (tmp_path / "exit.txt").read_text()}


def test_a_run_loads_with_the_collector_paused_and_tests_with_it_on(tmp_path: Path) -> None:
    seen = _run(tmp_path, "-m", "pytest", *ARGS)
    assert (seen["collecting"], seen["testing"]) == ("False", "True")
    assert int(seen["frozen"]) > 10_000  # pytest, evalkit and what the test module imported
    assert int(seen["frozen at exit"]) > int(seen["frozen"])  # and what the run made since


@pytest.mark.slow
def test_a_run_a_program_starts_with_pytest_main_leaves_the_collector_alone(
    tmp_path: Path,
) -> None:
    program = f"import pytest; raise SystemExit(pytest.main({ARGS!r}))"
    seen = _run(tmp_path, "-c", program)
    assert (seen["collecting"], seen["testing"], seen["frozen"]) == ("True", "True", "0")
    assert seen["frozen at exit"] == "0"


@pytest.mark.slow
def test_an_xdist_worker_loads_with_the_collector_paused_too(tmp_path: Path) -> None:
    seen = _run(tmp_path, "-m", "pytest", "-n", "1", *ARGS)
    assert (seen["collecting"], seen["testing"]) == ("False", "True")
    assert int(seen["frozen"]) > 10_000


@pytest.fixture
def collector() -> Iterator[None]:
    """Give the collector back as it was, with nothing left frozen."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_pause_stops_the_collector_and_resume_freezes_what_is_alive_then_restarts_it(
    collector: None,
) -> None:
    gc.enable()
    gc.unfreeze()
    paused = _loading_gc.pause()
    assert paused is True
    assert not gc.isenabled()
    loaded = [object() for _ in range(10)]  # noqa: F841  (alive at resume)
    _loading_gc.resume(paused)
    assert gc.isenabled()
    assert gc.get_freeze_count() > 10


def test_a_collector_someone_else_stopped_stays_stopped(collector: None) -> None:
    gc.disable()
    gc.unfreeze()
    paused = _loading_gc.pause()
    assert paused is False
    _loading_gc.resume(paused)
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
