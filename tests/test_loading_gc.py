"""The garbage collector is paused while a run loads, then the loaded objects are frozen."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit import _loading_gc


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


TEST_MODULE = """
import gc

WHILE_COLLECTING = gc.isenabled()


def test_state():  # a file, not stdout: an xdist worker's output is not shown
    with open("collector.txt", "w") as out:
        out.write(f"collecting={WHILE_COLLECTING} testing={gc.isenabled()} "
                  f"frozen={gc.get_freeze_count()}")
"""
ARGS = ["-q", "-p", "no:cacheprovider", "test_one.py"]


def _states(tmp_path: Path, *command: str) -> tuple[str, str, int]:
    (tmp_path / "test_one.py").write_text(TEST_MODULE)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    done = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    fields = dict(part.split("=") for part in (tmp_path / "collector.txt").read_text().split())
    return fields["collecting"], fields["testing"], int(fields["frozen"])


def test_a_run_loads_with_the_collector_paused_and_tests_with_it_on(tmp_path: Path) -> None:
    collecting, testing, frozen = _states(tmp_path, "-m", "pytest", *ARGS)
    assert (collecting, testing) == ("False", "True")
    assert frozen > 10_000  # pytest, evalkit and what the test module imported


@pytest.mark.slow
def test_a_run_a_program_starts_with_pytest_main_leaves_the_collector_alone(
    tmp_path: Path,
) -> None:
    program = f"import pytest; raise SystemExit(pytest.main({ARGS!r}))"
    assert _states(tmp_path, "-c", program) == ("True", "True", 0)


@pytest.mark.slow
def test_an_xdist_worker_loads_with_the_collector_paused_too(tmp_path: Path) -> None:
    collecting, testing, frozen = _states(tmp_path, "-m", "pytest", "-n", "1", *ARGS)
    assert (collecting, testing) == ("False", "True")
    assert frozen > 10_000
