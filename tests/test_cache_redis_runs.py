"""Whole runs (`pytest suites/` in a subprocess, fake provider) with the cache on a real Redis:
a second runner is answered from Redis, the dry run counts Redis's entries, and a run whose
Redis is down finishes with the same verdicts and one warning."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import redis
from _project import FAST_RETRIES, make_project, run_pytest
from _redis import RedisServer, free_port

from evalkit.testing import FakeProvider, JudgeParams

N = 12
WARNING = "warning: the response cache cannot be used"


@pytest.fixture
def fake() -> FakeProvider:
    with FakeProvider(seed=3) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        yield provider


def _verdicts(root: Path) -> list[pd.DataFrame]:
    """Each run's judgments (oldest first), as comparable sorted rows."""
    runs = sorted(p for p in (root / "out" / "reports").iterdir() if p.is_dir())
    keys = ["item_id", "judge", "order", "sample"]
    return [
        pd.read_json(r / "judgments.jsonl", lines=True)
        .sort_values(keys)[[*keys, "raw_output", "verdict", "status"]]
        .reset_index(drop=True)
        for r in runs
    ]


@pytest.mark.slow  # four runs in subprocesses
def test_runners_share_redis_and_an_outage_costs_only_the_cache(
    tmp_path: Path, fake: FakeProvider, redis_server: RedisServer
) -> None:
    settings = {**FAST_RETRIES, "cache_url": redis_server.url}
    root = make_project(tmp_path, fake, n_items=N, settings=settings)
    first = run_pytest(root)
    assert first.returncode in (0, 1), first.stdout[-3000:] + first.stderr[-3000:]
    made = fake.requests()
    assert made == N * 2 + N * 2 * 2  # two answers and two judges in both orders per item
    stored = redis.Redis.from_url(redis_server.url)
    assert stored.dbsize() == made
    stored.close()
    assert not (root / "out" / "cache" / "responses").exists()  # nothing in the folder

    # Another runner (a fresh process, as on another machine) is answered from Redis.
    second = run_pytest(root)
    assert second.returncode == first.returncode
    assert fake.requests() == made
    assert _verdicts(root)[1].equals(_verdicts(root)[0])

    plan = run_pytest(root, "--evalkit-dry-run")
    assert plan.returncode == 0, plan.stdout[-3000:]
    candidate = re.search(r"^\S+\s+candidate\s{2,}(.*)$", plan.stdout, re.M)
    assert candidate, plan.stdout
    assert re.split(r"\s{2,}", candidate.group(1).strip())[5] == str(N)  # cached: every call

    # Redis is down: the run asks the models again, gives the same verdicts, and says so once.
    down = f"redis://:pw-not-shown@127.0.0.1:{free_port()}/0"
    third = run_pytest(root, f"--evalkit-cache-url={down}")
    assert third.returncode == first.returncode, third.stdout[-3000:] + third.stderr[-3000:]
    assert fake.requests() == 2 * made
    out = third.stdout + third.stderr
    assert out.count(WARNING) == 1, out[-3000:]
    assert "pw-not-shown" not in out
    assert _verdicts(root)[2].equals(_verdicts(root)[0])
