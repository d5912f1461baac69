"""The response cache on a real Redis server: same keys, values and modes as the local folder,
and an outage that costs the cache, never the run nor a right answer."""

import asyncio
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from _redis import INSTALL_HINT, RedisServer, find_redis_server, free_port

from evalkit.config import load_config
from evalkit.errors import CacheMiss, EvalkitError
from evalkit.models import Completion, ConcurrencyLimits, ModelClient, ResponseCache, RetryPolicy
from evalkit.models._cache import CACHE_FORMAT, cache_key
from evalkit.models._cache_redis import KEY_PREFIX, RedisStore
from evalkit.records._run import CacheOutage
from evalkit.testing import FakeProvider

SECRET = "sk-evalkit-SECRET-123"
PASSWORD = "hunter2-redis-pw"

pytestmark = pytest.mark.usefixtures("litellm_loaded")

ANSWER = Completion(text="Paris", input_tokens=3, output_tokens=1, cost_usd=0.25, latency_s=0.5)


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client of the test server, to look at what evalkit wrote."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


class Warnings(list[str]):
    """Collects what a cache warns about (the ``warn`` callback)."""

    def __call__(self, line: str) -> None:
        self.append(line)


def _client(location: str | Path, mode: str = "use", **cache: object) -> ModelClient:
    return ModelClient(
        cache=ResponseCache(location, mode, **cache),  # type: ignore[arg-type]
        retry=RetryPolicy(1, 0.01, 0.05),
        timeout_s=5.0,
        limits=ConcurrencyLimits(32),
        rng=random.Random(0),
    )


def test_the_fixture_fails_with_how_to_install_redis_when_it_is_missing() -> None:
    with pytest.raises(FileNotFoundError) as caught:
        find_redis_server("no-such-redis-server-for-evalkit")
    assert str(caught.value) == INSTALL_HINT
    assert "apt-get install -y redis-server" in INSTALL_HINT


def test_redis_holds_the_same_key_and_json_value_as_the_folder(
    redis_server: RedisServer, raw: redis.Redis, tmp_path: Path
) -> None:
    folder, shared = ResponseCache(tmp_path, "use"), ResponseCache(redis_server.url, "use")
    for cache in (folder, shared):
        assert cache.put("k1", ANSWER, model="openai/m")
    assert raw.keys() == [f"evalkit:response:v{CACHE_FORMAT}:k1"]
    assert raw.get(KEY_PREFIX + "k1") == folder.store.get("k1")
    assert json.loads(raw.get(KEY_PREFIX + "k1") or "") == {
        "text": "Paris", "input_tokens": 3, "output_tokens": 1, "cost_usd": 0.25,
        "latency_s": 0.5, "finish_reason": None, "text_repaired": False, "model": "openai/m",
    }  # fmt: skip
    hit = shared.get("k1")
    assert hit == folder.get("k1")
    assert hit is not None
    assert (hit.text, hit.cached, hit.cost_usd, hit.input_tokens) == ("Paris", True, 0.0, 3)
    assert shared.evict("k1") is True
    assert shared.evict("k1") is False
    assert shared.get("k1") is None


def test_entries_expire_after_the_ttl_and_never_without_one(
    redis_server: RedisServer, raw: redis.Redis
) -> None:
    ResponseCache(redis_server.url, "use", ttl_s=3600).put("short", ANSWER, model="m")
    ResponseCache(redis_server.url, "use").put("forever", ANSWER, model="m")
    assert 3_590_000 < raw.pttl(KEY_PREFIX + "short") <= 3_600_000
    assert raw.pttl(KEY_PREFIX + "forever") == -1  # no expiry


def test_the_ttl_applies_to_the_folder_too(tmp_path: Path) -> None:
    import diskcache

    ResponseCache(tmp_path, "use", ttl_s=3600).put("short", ANSWER, model="m")
    ResponseCache(tmp_path, "use").put("forever", ANSWER, model="m")
    with diskcache.Cache(str(tmp_path / "responses")) as raw_folder:
        _, expires = raw_folder.get("short", expire_time=True)
        _, never = raw_folder.get("forever", expire_time=True)
    assert expires is not None
    assert never is None


def test_the_config_chooses_redis_and_its_ttl(redis_server: RedisServer, raw: redis.Redis) -> None:
    config = load_config(
        environ={"EVALKIT_CACHE_URL": redis_server.url, "EVALKIT_CACHE_TTL_S": "60"}
    )
    c = ModelClient.from_config(config)
    assert isinstance(c.cache.store, RedisStore)
    assert (c.cache.store.name, c.cache.ttl_s) == (redis_server.url, 60.0)


def test_a_second_runner_hits_what_the_first_recorded(
    redis_server: RedisServer, fake_provider: FakeProvider
) -> None:
    requests = [fake_provider.chat_request("m", f"q{i}") for i in range(40)]
    first = asyncio.run(_client(redis_server.url).complete_many(requests))
    again = asyncio.run(_client(redis_server.url).complete_many(requests))  # a new process's
    assert fake_provider.requests("m") == 40
    for before, after in zip(first, again, strict=True):
        assert isinstance(before, Completion)
        assert isinstance(after, Completion)
        assert (after.text, after.cached, before.cached) == (before.text, True, False)


@pytest.mark.parametrize(
    ("mode", "requests_made", "hit"),
    [("use", 1, True), ("refresh", 2, False), ("off", 2, False)],
)
def test_modes_behave_as_with_the_folder(
    redis_server: RedisServer,
    raw: redis.Redis,
    fake_provider: FakeProvider,
    mode: str,
    requests_made: int,
    hit: bool,
) -> None:
    request = fake_provider.chat_request("m")
    c = _client(redis_server.url, mode)
    asyncio.run(c.complete(request))
    second = asyncio.run(c.complete(request))
    assert (fake_provider.requests("m"), second.cached) == (requests_made, hit)
    assert raw.dbsize() == (0 if mode == "off" else 1)


def test_replay_reads_redis_and_a_miss_is_an_error(
    redis_server: RedisServer, fake_provider: FakeProvider
) -> None:
    recorded = fake_provider.chat_request("m", "recorded")
    asyncio.run(_client(redis_server.url).complete(recorded))
    replay = _client(redis_server.url, "replay")
    assert asyncio.run(replay.complete(recorded)).cached
    with pytest.raises(CacheMiss, match=r"not in the cache at redis://127.0.0.1:\d+/0"):
        asyncio.run(replay.complete(fake_provider.chat_request("m", "never recorded")))
    assert fake_provider.requests("m") == 1


def test_an_unreadable_entry_is_a_miss_and_is_evicted(
    redis_server: RedisServer, raw: redis.Redis
) -> None:
    raw.set(KEY_PREFIX + "k", "{not json")
    assert ResponseCache(redis_server.url, "use").get("k") is None
    assert raw.get(KEY_PREFIX + "k") is None


def test_api_key_and_password_never_reach_redis(
    redis_server: RedisServer, raw: redis.Redis, fake_provider: FakeProvider
) -> None:
    raw.config_set("requirepass", PASSWORD)
    url = f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    c = _client(url)
    asyncio.run(c.complete(fake_provider.chat_request("m", api_key=SECRET)))
    assert fake_provider.received()[0].headers["Authorization"] == f"Bearer {SECRET}"
    authed = redis.Redis.from_url(url, decode_responses=True)
    names = authed.keys()
    assert len(names) == 1
    for name in names:
        stored = name + (authed.get(name) or "")
        assert "SECRET" not in stored
        assert PASSWORD not in stored
    authed.close()


def test_cache_calls_run_off_the_event_loop(
    redis_server: RedisServer, fake_provider: FakeProvider
) -> None:
    threads: list[int] = []

    class Recording(RedisStore):
        def get(self, key: str) -> str | None:
            threads.append(threading.get_ident())
            return super().get(key)

        def set(self, key: str, value: str, ttl_s: float | None) -> None:
            threads.append(threading.get_ident())
            super().set(key, value, ttl_s)

    loop_threads: list[int] = []

    async def run(c: ModelClient) -> None:
        loop_threads.append(threading.get_ident())
        await c.complete_many([fake_provider.chat_request("m", f"q{i}") for i in range(32)])

    c = _client(Recording(redis_server.url))  # type: ignore[arg-type]
    asyncio.run(run(c))
    asyncio.run(run(c))  # hits, in a new event loop (each suite runs in one of its own)
    assert len(threads) == 32 * 3  # 32 misses + 32 writes, then 32 hits
    assert loop_threads[0] not in threads
    assert loop_threads[1] not in threads


# --- outages: the run goes on without a cache, with one warning, and every answer is right ---


def _answers_are_right(answers: list[Completion | EvalkitError]) -> None:
    for i, answer in enumerate(answers):
        assert isinstance(answer, Completion), answer
        assert answer.text == f"echo: answer {i}"  # its own answer, not another's


def test_connection_refused_at_start_runs_without_a_cache_and_warns_once(
    fake_provider: FakeProvider,
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    warned = Warnings()
    c = _client(url, warn=warned)
    requests = [fake_provider.chat_request("m", f"answer {i}") for i in range(40)]
    for _ in range(2):
        answers = asyncio.run(c.complete_many(requests))
        _answers_are_right(answers)
    assert fake_provider.requests("m") == 80  # nothing was cached, nothing was lost
    assert len(warned) == 1
    (line,) = warned
    assert PASSWORD not in line
    assert f"redis://[redacted]@127.0.0.1:{url.rsplit(':', 1)[1]}" in line
    assert "refused" in line.lower()
    assert "the run goes on without it" in line


def test_a_server_that_dies_mid_run_costs_the_cache_not_the_run(
    redis_server: RedisServer, fake_provider: FakeProvider
) -> None:
    warned = Warnings()
    c = _client(redis_server.url, warn=warned)
    requests = [fake_provider.chat_request("m", f"answer {i}") for i in range(40)]
    _answers_are_right(asyncio.run(c.complete_many(requests[:20])))
    redis_server.stop()
    answers = asyncio.run(c.complete_many(requests))
    _answers_are_right(answers)
    assert fake_provider.requests("m") == 60  # the first 20 again, since their cache is gone
    assert len(warned) == 1
    assert redis_server.url in warned[0]


def test_an_outage_is_on_record_with_its_time_kind_and_the_calls_it_cost(
    redis_server: RedisServer, raw: redis.Redis, fake_provider: FakeProvider
) -> None:
    raw.config_set("requirepass", PASSWORD)
    url = f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    warned = Warnings()
    c = _client(url, warn=warned, clock=lambda: 1_700_000_123.0)
    requests = [fake_provider.chat_request("m", f"answer {i}") for i in range(40)]
    _answers_are_right(asyncio.run(c.complete_many(requests[:20])))
    assert c.cache.outage() is None  # 20 misses and 20 writes: nothing lost yet
    redis_server.stop()
    _answers_are_right(asyncio.run(c.complete_many(requests)))
    outage = c.cache.outage()
    assert outage is not None
    store = f"redis://[redacted]@127.0.0.1:{redis_server.port}/0"
    assert outage == CacheOutage(
        at=1_700_000_123.0, kind="connection", store=store, message=outage.message,
        calls_without_cache=40, answers_not_cached=40,
    )  # fmt: skip
    assert outage.message.startswith(f"Redis at {store}: GET failed: ")
    assert PASSWORD not in outage.model_dump_json()
    assert outage.message in warned[0]  # the warning and the record say the same
    # A later call without the cache adds to the count; the time stays the first failure's.
    asyncio.run(c.complete_many([fake_provider.chat_request("m", "one more")]))
    assert c.cache.outage() == outage.model_copy(
        update={"calls_without_cache": 41, "answers_not_cached": 41}
    )


def test_the_kind_of_an_outage_says_timeout_or_a_rejected_password(
    redis_server: RedisServer, raw: redis.Redis, fake_provider: FakeProvider
) -> None:
    request = fake_provider.chat_request("m", "answer 0")
    wrong = ResponseCache(f"redis://:not-it@127.0.0.1:{redis_server.port}/0", warn=Warnings())
    raw.config_set("requirepass", PASSWORD)
    assert wrong.get(cache_key(request)) is None
    refused = wrong.outage()
    assert refused is not None
    assert (refused.kind, refused.calls_without_cache) == ("auth", 1)
    paused = ResponseCache(
        f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0", timeout_s=0.2, warn=Warnings()
    )
    assert paused.get(cache_key(request)) is None  # connected: a miss, not an outage
    assert paused.outage() is None
    redis_server.pause()
    try:
        assert paused.get(cache_key(request)) is None
    finally:
        redis_server.resume()
    outage = paused.outage()
    assert outage is not None
    assert (outage.kind, outage.calls_without_cache, outage.answers_not_cached) == ("timeout", 1, 0)


def test_a_server_that_stops_answering_times_out_and_the_run_goes_on(
    redis_server: RedisServer, fake_provider: FakeProvider
) -> None:
    warned = Warnings()
    c = _client(redis_server.url, warn=warned, timeout_s=0.2)
    requests = [fake_provider.chat_request("m", f"answer {i}") for i in range(32)]
    asyncio.run(c.complete_many(requests[:4]))  # connected, and 4 entries written
    redis_server.pause()
    try:
        answers = asyncio.run(c.complete_many(requests))
    finally:
        redis_server.resume()
    _answers_are_right(answers)
    assert len(warned) == 1
    assert "timeout" in warned[0].lower()
    assert c.cache.down is not None
    # Once down, the cache stays out of the way for the rest of the run.
    assert c.cache.get(cache_key(requests[0])) is None


def test_replay_with_the_server_down_names_the_outage(fake_provider: FakeProvider) -> None:
    c = _client(f"redis://127.0.0.1:{free_port()}/0", "replay", warn=Warnings())
    with pytest.raises(CacheMiss, match=r"the cache could not be used .*--evalkit-cache-url"):
        asyncio.run(c.complete(fake_provider.chat_request("m")))
    assert fake_provider.requests("m") == 0


def test_a_rejected_password_is_an_outage_too(
    redis_server: RedisServer, raw: redis.Redis, fake_provider: FakeProvider
) -> None:
    raw.config_set("requirepass", PASSWORD)
    warned = Warnings()
    wrong = f"redis://:not-{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    c = _client(wrong, warn=warned)
    requests = [fake_provider.chat_request("m", f"answer {i}") for i in range(8)]
    _answers_are_right(asyncio.run(c.complete_many(requests)))
    assert len(warned) == 1
    assert PASSWORD not in warned[0]
    assert "redis://[redacted]@127.0.0.1" in warned[0]
