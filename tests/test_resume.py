"""A run killed with SIGKILL at any point, started again with the same command, loses nothing.

The rerun is a resume: every call that completed before the kill is in the response cache, so
only the calls that had not completed reach the provider again, and the final judgments are
exactly those of a run that was never interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _project import N_ITEMS, SECRET, clean_env, make_project

from evalkit.testing import FakeProvider, JudgeParams, ModelBehaviour

# The everyday loop (-m 'not slow') leaves these out: kills real runs at three depths and resumes them.
pytestmark = pytest.mark.slow

KEY = ["suite", "item_id", "judge", "order", "sample"]
CONCURRENCY = 4
CALLS = N_ITEMS * 6  # two answers and four judge calls per item


def command(root: Path) -> tuple[list[str], dict[str, str]]:
    env = clean_env(SECRET)
    args = [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider",
            f"--evalkit-concurrency={CONCURRENCY}"]  # fmt: skip
    return args, env


def rows_written(root: Path) -> int:
    return sum(
        len(p.read_bytes().splitlines()) for p in (root / "out" / "reports").rglob("*.jsonl")
    )


def final_table(root: Path) -> pd.DataFrame:
    runs = sorted(p for p in (root / "out" / "reports").iterdir() if (p / "run.json").exists())
    table = pd.read_json(runs[-1] / "judgments.jsonl", lines=True)
    return table[[*KEY, "verdict", "raw_output", "parse_ok"]].sort_values(KEY).reset_index(drop=True)


@pytest.fixture
def slow_fake() -> FakeProvider:
    with FakeProvider(seed=5) as fake:
        fake.register_judge("sim-judge-fair", JudgeParams(position_bias=0.5, seed=1))
        fake.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        for model in ("sim-writer-openai-q0.70", "sim-writer-meta-q0.50",
                      "sim-judge-fair", "sim-judge-first"):  # fmt: skip
            fake.behave(model, ModelBehaviour(latency_s=0.03))
        yield fake


def test_killed_runs_resume_to_the_uninterrupted_judgments(
    tmp_path: Path, slow_fake: FakeProvider
) -> None:
    reference = make_project(tmp_path / "reference", slow_fake, candidate_q=0.7, baseline_q=0.5)
    args, env = command(reference)
    done = subprocess.run(args, cwd=reference, env=env, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stdout[-2000:]
    assert slow_fake.requests() == CALLS
    expected = final_table(reference)

    slow_fake.reset()
    root = make_project(tmp_path / "killed", slow_fake, candidate_q=0.7, baseline_q=0.5)
    kills = 0
    # Kill at several depths: during the answers, early in judging, and late in judging.
    for depth in (20, N_ITEMS * 2 + 40, N_ITEMS * 2 + 130):
        proc = subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while rows_written(root) < depth and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        # Only what has been written so far survives; the next start picks up from the cache.
    assert slow_fake.requests() < CALLS
    again = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == done.returncode, again.stdout[-2000:]
    resumed = final_table(root)
    pd.testing.assert_frame_equal(resumed, expected)
    # Every completed call was reused: the only calls made twice were those in flight at a
    # kill (at most the concurrency limit for each of the two models then being called).
    assert CALLS <= slow_fake.requests() <= CALLS + kills * 2 * CONCURRENCY
