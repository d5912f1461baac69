"""The end of a pytest run with evalkit: the exit's garbage collections skip the run's objects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = """
import atexit
import gc


def _report():  # registered first, so it runs after every other exit handler
    print(f"frozen objects at exit: {gc.get_freeze_count()}", flush=True)


atexit.register(_report)
"""


ARGS = ["-q", "-p", "no:cacheprovider", "test_one.py"]


def _frozen_at_exit(tmp_path: Path, *command: str) -> int:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    done = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("frozen objects at exit")]
    return int(line.rsplit(" ", 1)[1])


@pytest.mark.slow
def test_a_finished_run_freezes_its_objects_before_the_process_exits(tmp_path: Path) -> None:
    command = ("-m", "pytest", *ARGS)
    assert _frozen_at_exit(tmp_path, *command) > 10_000  # pytest, evalkit and their imports


@pytest.mark.slow
def test_a_run_a_program_starts_with_pytest_main_freezes_nothing(tmp_path: Path) -> None:
    program = f"import pytest; raise SystemExit(pytest.main({ARGS!r}))"
    assert _frozen_at_exit(tmp_path, "-c", program) == 0
