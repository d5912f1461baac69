"""A batch run killed with SIGKILL while it waits for its batches resumes them when started again.

The rerun polls the batches the killed run submitted (their state files are in the cache
folder) instead of submitting the same calls again, and ends with the judgments of an
interactive run of the same project.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _project import FAST_RETRIES, N_ITEMS, SECRET, clean_env, make_project

from evalkit.testing import FakeProvider, JudgeParams
from evalkit.testing._batches import BatchBehaviour

# The everyday loop (-m 'not slow') leaves it out: three runs of a project in subprocesses.
pytestmark = pytest.mark.slow

KEY = ["item_id", "judge", "order"]
BATCH = {**FAST_RETRIES, "execution": "batch", "batch_poll_s": 0.05}


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        yield provider


def command() -> list[str]:
    return [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider"]


def judgments(root: Path) -> pd.DataFrame:
    runs = sorted(p for p in (root / "out" / "reports").iterdir() if (p / "run.json").exists())
    table = pd.read_json(runs[-1] / "judgments.jsonl", lines=True)
    columns = [*KEY, "verdict", "raw_output", "status"]
    return table[columns].sort_values(KEY).reset_index(drop=True)


def test_a_killed_batch_run_resumes_its_batches_without_submitting_them_again(
    tmp_path: Path, fake: FakeProvider
) -> None:
    reference = make_project(tmp_path / "interactive", fake)
    env = clean_env(SECRET)
    done = subprocess.run(command(), cwd=reference, env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode in (0, 1), done.stdout[-2000:]
    expected = judgments(reference)
    fake.reset()

    root = make_project(tmp_path / "batch", fake, settings=BATCH)
    states = root / "out" / "cache" / "batches"
    fake.batches.behave(BatchBehaviour(complete_after_s=1e9))  # the answers' batches hang
    proc = subprocess.Popen(command(), cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while fake.batches.polls() < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Killed while polling the candidate's and the baseline's batches, with their state files.
    assert fake.batches.creates() == 2
    assert len(list(states.glob("*.json"))) == 2

    fake.batches.behave(BatchBehaviour())  # the provider finishes them meanwhile
    again = subprocess.run(command(), cwd=root, env=env, capture_output=True, text=True,
                           check=False)  # fmt: skip
    assert again.returncode == done.returncode, again.stdout[-2000:]
    assert fake.batches.creates() == 2 + 2  # only the two judges' batches are new
    assert fake.batches.lines() == N_ITEMS * 2 + N_ITEMS * 2 * 2
    assert fake.requests() == 0  # not one interactive call
    assert not list(states.glob("*.json"))
    pd.testing.assert_frame_equal(judgments(root), expected)
