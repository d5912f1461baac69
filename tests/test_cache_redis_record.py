"""A Redis cache lost during a run is on record: run.json, the terminal summary and the report
say when, what kind of failure, and how many calls went without it (the password hidden)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from _project import write_pairwise_panel
from _redis import RedisServer

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.records import read_run
from evalkit.records._run import CacheOutage
from evalkit.session import EvalSession, summary_lines
from evalkit.session._finalize import finalize_run, write_part
from evalkit.testing import FakeProvider

N_ITEMS = 4
#: Calls of one suite: two answers and a judge in both orders per item.
CALLS = N_ITEMS * 2 + N_ITEMS * 2
PASSWORD = "hunter2-redis-pw"


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    write_pairwise_panel(tmp_path, fake.base_url, {"fair": "anthropic"}, panel="quorum: 1\n")
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def session(root: Path, fake: FakeProvider, cache_url: str, lines: list[str]) -> EvalSession:
    config = EvalkitConfig.model_validate(
        {"candidate": "openai/sim-writer-openai-q0.90", "candidate_api_base": fake.base_url,
         "baseline": "openai/sim-writer-meta-q0.30", "baseline_api_base": fake.base_url,
         "panel": "p", "cache_dir": root / "cache", "cache_url": cache_url,
         "reports_dir": root / "reports", "max_retries": 0, "backoff_s": 0.01}
    )  # fmt: skip
    return EvalSession(config, root, progress=lines.append)


def test_a_redis_outage_mid_run_is_in_run_json_the_summary_and_the_report(
    root: Path, fake: FakeProvider, redis_server: RedisServer
) -> None:
    raw = redis.Redis.from_url(redis_server.url)
    raw.config_set("requirepass", PASSWORD)
    raw.close()
    url = f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    lines: list[str] = []
    run = session(root, fake, url, lines)
    run.suite_result(Suite("before", dataset="data.jsonl", base_dir=root))
    assert fake.requests() == CALLS
    redis_server.stop()  # the shared cache goes away between two suites of the run
    run.suite_result(Suite("after", dataset="data.jsonl", base_dir=root))
    assert fake.requests() == 2 * CALLS  # the same calls again: nothing could be looked up
    closed = run.finish()
    assert closed is not None

    record = read_run(run.run_dir)
    assert record is not None
    (outage,) = record.cache_outages
    store = f"redis://[redacted]@127.0.0.1:{redis_server.port}/0"
    assert isinstance(outage, CacheOutage)
    assert (outage.kind, outage.store, outage.worker) == ("connection", store, None)
    assert (outage.calls_without_cache, outage.answers_not_cached) == (CALLS, CALLS)
    assert record.started is not None
    assert record.finished is not None
    assert record.started <= outage.at <= record.finished
    assert outage.message.startswith(f"Redis at {store}: GET failed: ")

    said = outage.note(record.started)
    assert f"{CALLS} calls went to their models without it" in said
    assert f"{CALLS} answers were not cached" in said
    assert f"response cache lost: {outage.message}" in said
    assert f"cache: {said}" in summary_lines(closed)
    report = (run.run_dir / "report.html").read_text()
    assert "response cache lost: Redis at redis://[redacted]@127.0.0.1:" in report
    assert f"{CALLS} calls went to their models without it" in report
    for text in ((run.run_dir / "run.json").read_text(), report, "\n".join(summary_lines(closed))):
        assert PASSWORD not in text
    # The warning said so once, at the time; the record keeps it.
    assert sum("the response cache cannot be used" in line for line in lines) == 1


def test_a_run_whose_cache_stayed_up_has_no_outage_on_record(
    root: Path, fake: FakeProvider, redis_server: RedisServer
) -> None:
    lines: list[str] = []
    run = session(root, fake, redis_server.url, lines)
    run.suite_result(Suite("only", dataset="data.jsonl", base_dir=root))
    closed = run.finish()
    assert closed is not None
    assert closed.record.cache_outages == []
    assert not any(line.startswith("cache: ") for line in summary_lines(closed))
    assert "response cache lost" not in (run.run_dir / "report.html").read_text()


def test_a_workers_outage_reaches_run_json_through_its_part(tmp_path: Path) -> None:
    outage = CacheOutage(
        at=1_700_000_005.0, kind="timeout", store="redis://[redacted]@cache:6379/0",
        message="Redis at redis://[redacted]@cache:6379/0: GET failed: Timeout reading from "
        "socket", calls_without_cache=3, answers_not_cached=2, worker="gw1",
    )  # fmt: skip
    run_dir = tmp_path / "reports" / "r1"
    write_part(run_dir, "gw1", [], {"s": "suite 's': stopped"}, None, [outage])
    config = EvalkitConfig.model_validate({"reports_dir": tmp_path / "reports"})
    closed = finalize_run(
        run_dir, config, suites=[], errors={}, started=1_700_000_000.0, interrupted=False
    )
    assert closed is not None
    assert closed.record.cache_outages == [outage]
    assert read_run(run_dir) == closed.record
    assert f"cache: {outage.note(1_700_000_000.0)}" in summary_lines(closed)
    assert outage.note(1_700_000_000.0) == (
        "response cache lost in worker gw1: Redis at redis://[redacted]@cache:6379/0: GET "
        "failed: Timeout reading from socket (timeout, at 2023-11-14 22:13:25 UTC, 5 s into the "
        "run); the run went on without it: 3 calls went to their models without it and 2 "
        "answers were not cached"
    )
