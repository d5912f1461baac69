"""The response cache: keys, modes, what is (not) stored, sharing between processes."""

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from evalkit.errors import CacheMiss, PermanentModelError, ProviderUnavailable, UsageError
from evalkit.models import Completion, ModelClient, ModelRequest, ResponseCache
from evalkit.models._cache import cache_key
from evalkit.testing import FakeProvider, Fault, ModelBehaviour

SECRET = "sk-evalkit-SECRET-123"

pytestmark = pytest.mark.usefixtures("litellm_loaded")

BASE = ModelRequest(
    model="openai/m",
    messages=({"role": "user", "content": "hi"},),
    params={"temperature": 0.0, "max_tokens": 16},
    api_base="http://127.0.0.1:1/v1",
)


def _with(**changes: object) -> ModelRequest:
    import dataclasses

    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_cache_key_is_stable_and_ignores_param_order_and_api_key() -> None:
    same = _with(params={"max_tokens": 16, "temperature": 0.0}, api_key=SECRET)
    assert cache_key(BASE) == cache_key(same)
    assert len(cache_key(BASE)) == 64
    # Parameters that never change the answer stay out of the key.
    assert cache_key(BASE) == cache_key(_with(params={**BASE.params, "timeout": 3}))


@pytest.mark.parametrize(
    "changed",
    [
        _with(model="openai/other"),
        _with(api_base="http://127.0.0.1:2/v1"),
        _with(messages=({"role": "user", "content": "hi!"},)),
        _with(messages=({"role": "system", "content": "hi"},)),
        _with(params={"temperature": 0.7, "max_tokens": 16}),
        _with(params={"temperature": 0.0, "max_tokens": 16, "seed": 1}),
        _with(sample=1),
        _with(messages=(), prompt="hi"),
    ],
)
def test_everything_that_changes_the_answer_changes_the_key(changed: ModelRequest) -> None:
    assert cache_key(changed) != cache_key(BASE)


def test_cache_scope_stands_in_for_a_changing_api_base() -> None:
    run1 = _with(api_base="http://127.0.0.1:41001/v1", cache_scope="local:smollm2")
    run2 = _with(api_base="http://127.0.0.1:52002/v1", cache_scope="local:smollm2")
    assert cache_key(run1) == cache_key(run2)
    assert cache_key(run1) != cache_key(_with(cache_scope="local:gemma"))


def test_unserialisable_params_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="openai/m is not JSON-serialisable"):
        cache_key(_with(params={"stop": object()}))


def test_use_mode_second_call_makes_no_request(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    request = fake_provider.chat_request("sim-writer-meta-q0.60")
    first = asyncio.run(make_client(mode="use").complete(request))
    second = asyncio.run(make_client(mode="use").complete(request))
    assert fake_provider.requests() == 1
    assert second.text == first.text
    assert (second.cached, second.latency_s, second.attempts, second.cost_usd) == (True, 0, 0, 0)
    assert (second.input_tokens, second.output_tokens) == (first.input_tokens, first.output_tokens)
    assert second.finish_reason == first.finish_reason


def test_identical_calls_under_way_at_once_reach_the_model_once(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("m", ModelBehaviour(latency_s=0.2))
    request = fake_provider.chat_request("m")
    other = fake_provider.chat_request("m", sample=1)
    answers = asyncio.run(make_client(mode="use").complete_many([request, other, request, request]))
    assert fake_provider.requests("m") == 2  # `request` once, `other` once
    first, _, *twins = answers
    assert isinstance(first, Completion)
    assert not first.cached
    for twin in twins:
        assert isinstance(twin, Completion)
        assert (twin.text, twin.cached, twin.cost_usd) == (first.text, True, 0.0)


def test_a_call_waiting_for_an_identical_one_that_fails_makes_its_own(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("m", Fault.http_error(400))
    request = fake_provider.chat_request("m")
    failed, answer = asyncio.run(make_client(mode="use").complete_many([request, request]))
    assert isinstance(failed, PermanentModelError)
    assert isinstance(answer, Completion)
    assert not answer.cached
    assert fake_provider.requests("m") == 2


def test_a_cache_hit_costs_nothing_even_for_a_priced_model(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(mode="use")
    first = asyncio.run(c.complete(fake_provider.chat_request("gpt-4o-mini")))
    hit = asyncio.run(c.complete(fake_provider.chat_request("gpt-4o-mini")))
    assert first.cost_usd > 0
    assert hit.cached
    assert hit.cost_usd == 0.0


def test_sample_index_separates_cache_entries(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(mode="use")

    async def run() -> None:
        for _ in range(2):
            for sample in (0, 1, 2):
                await c.complete(fake_provider.chat_request("sampled", sample=sample))

    asyncio.run(run())
    assert fake_provider.requests("sampled") == 3


def test_refresh_mode_calls_again_and_rewrites(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    request = fake_provider.chat_request("m")
    fake_provider.behave("m", ModelBehaviour(reply="old"))
    asyncio.run(make_client(mode="use").complete(request))
    fake_provider.behave("m", ModelBehaviour(reply="new"))
    refreshed = asyncio.run(make_client(mode="refresh").complete(request))
    assert (refreshed.text, refreshed.cached) == ("new", False)
    assert fake_provider.requests("m") == 2
    hit = asyncio.run(make_client(mode="use").complete(request))
    assert (hit.text, hit.cached) == ("new", True)
    assert fake_provider.requests("m") == 2


def test_off_mode_neither_reads_nor_writes(
    fake_provider: FakeProvider, tmp_path: Path, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(mode="off")
    for _ in range(2):
        assert not asyncio.run(c.complete(fake_provider.chat_request("m"))).cached
    assert fake_provider.requests("m") == 2
    assert not (tmp_path / "cache").exists()


def test_replay_mode_hits_without_requests_and_raises_on_a_miss(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    recorded = fake_provider.chat_request("m", "recorded")
    asyncio.run(make_client(mode="use").complete(recorded))
    replay = make_client(mode="replay")
    assert asyncio.run(replay.complete(recorded)).cached
    with pytest.raises(CacheMiss, match=r"openai/m .*cache_mode=use"):
        asyncio.run(replay.complete(fake_provider.chat_request("m", "never recorded")))
    assert fake_provider.requests("m") == 1


def test_failed_calls_are_not_cached(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("m", Fault.http_error(503), Fault.http_error(503))
    c = make_client(mode="use", retries=1)
    with pytest.raises(ProviderUnavailable):
        asyncio.run(c.complete(fake_provider.chat_request("m")))
    answer = asyncio.run(c.complete(fake_provider.chat_request("m")))
    assert not answer.cached
    assert fake_provider.requests("m") == 3


def test_empty_answers_are_returned_but_not_cached(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("mute", ModelBehaviour(reply="  "))
    c = make_client(mode="use")
    for _ in range(2):
        answer = asyncio.run(c.complete(fake_provider.chat_request("mute")))
        assert (answer.text, answer.cached) == ("  ", False)
    assert fake_provider.requests("mute") == 2


def test_an_unusable_answer_is_cached_and_replayed_as_it_is(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    # An unreadable reply is what this judge says to this prompt: asked again at temperature
    # 0 it says it again, so a rerun replays it instead of paying for it again.
    fake_provider.behave("judge", ModelBehaviour(reply="no verdict here"))
    c = make_client(mode="use")

    def parses(completion: Completion) -> bool:
        return "[[" in completion.text

    first = asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=parses))
    again = asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=parses))
    assert (first.text, first.cached) == ("no verdict here", False)
    assert (again.text, again.cached) == ("no verdict here", True)
    assert fake_provider.requests("judge") == 1


def test_retry_unparseable_asks_again_and_replaces_the_entry(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("judge", ModelBehaviour(reply="old format"))
    c = make_client(mode="use")
    asyncio.run(c.complete(fake_provider.chat_request("judge")))
    fake_provider.behave("judge", ModelBehaviour(reply="Verdict: [[B]]"))
    c.retry_unparseable = True

    def parses(completion: Completion) -> bool:
        return "[[" in completion.text

    again = asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=parses))
    assert (again.text, again.cached) == ("Verdict: [[B]]", False)
    # The new answer replaced the old one, and a usable hit is not asked again.
    third = asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=parses))
    assert (third.text, third.cached) == ("Verdict: [[B]]", True)
    assert fake_provider.requests("judge") == 2


def test_retry_unparseable_keeps_the_entry_when_asking_again_fails(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("judge", ModelBehaviour(reply="old format"))
    c = make_client(mode="use", retries=0)
    asyncio.run(c.complete(fake_provider.chat_request("judge")))
    fake_provider.script("judge", Fault.http_error(400))
    c.retry_unparseable = True
    with pytest.raises(PermanentModelError):
        asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=lambda x: False))
    c.retry_unparseable = False
    kept = asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=lambda x: False))
    assert (kept.text, kept.cached) == ("old format", True)


def test_replay_returns_an_unusable_entry_even_when_told_to_retry(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("judge", ModelBehaviour(reply="old format"))
    asyncio.run(make_client(mode="use").complete(fake_provider.chat_request("judge")))
    c = make_client(mode="replay")
    c.retry_unparseable = True
    hit = asyncio.run(c.complete(fake_provider.chat_request("judge"), validate=lambda x: False))
    assert (hit.text, hit.cached) == ("old format", True)
    assert fake_provider.requests("judge") == 1


def test_forget_evicts_one_request(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(mode="use")
    request = fake_provider.chat_request("m")
    asyncio.run(c.complete(request))
    assert c.forget(request) is True
    assert c.forget(request) is False
    assert not asyncio.run(c.complete(request)).cached
    assert fake_provider.requests("m") == 2


def test_api_key_never_reaches_the_cache_files(
    fake_provider: FakeProvider,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., ModelClient],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    c = make_client(mode="use")
    asyncio.run(c.complete(fake_provider.chat_request("m", api_key=SECRET)))
    asyncio.run(c.complete(fake_provider.chat_request("m", "env key", api_key=None)))
    c.close()
    # The key did reach the provider (that is its job) ...
    assert fake_provider.received()[0].headers["Authorization"] == f"Bearer {SECRET}"
    # ... but nothing evalkit wrote contains it, nor any part of it.
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data
        assert b"SECRET-123" not in data


def test_an_unreadable_entry_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, "use")
    cache.store.set(cache_key(BASE), "{not json", None)
    assert cache.get(cache_key(BASE)) is None
    assert cache.store.get(cache_key(BASE)) is None


_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from evalkit.models import Completion, ResponseCache
    directory, me, other, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cache = ResponseCache(directory, "use")
    def answer(text):
        return Completion(text=text, input_tokens=1, output_tokens=2, cost_usd=0.5, latency_s=0.1)
    for i in range(n):
        cache.put(f"{me}-{i}", answer(f"{me} {i}"), model="m")
        cache.put(f"shared-{i}", answer(f"shared {i}"), model="m")
        cache.get(f"shared-{(i * 7) % n}")
    seen, deadline = set(), time.time() + 30
    while len(seen) < n and time.time() < deadline:
        for i in range(n):
            hit = cache.get(f"{other}-{i}")
            if hit is not None:
                assert hit.text == f"{other} {i}" and hit.cached, hit
                seen.add(i)
    print(json.dumps({"seen": len(seen)}))
    """
)


def test_two_processes_can_share_one_cache_directory(tmp_path: Path) -> None:
    n = 300
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(tmp_path), me, other, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=root,
            text=True,
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert json.loads(out) == {"seen": n}  # every value the other wrote was a hit here
    cache = ResponseCache(tmp_path, "use")
    for i in range(n):
        for key, text in (
            (f"a-{i}", f"a {i}"),
            (f"b-{i}", f"b {i}"),
            (f"shared-{i}", f"shared {i}"),
        ):
            hit = cache.get(key)
            assert hit is not None
            assert hit.text == text
