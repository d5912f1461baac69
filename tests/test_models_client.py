"""ModelClient through litellm against the fake provider: retries, timeouts, limits, budget.

Nothing is mocked: every call goes through litellm and the OpenAI SDK to a real HTTP server.
"""

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from _clocks import RecordedSleep

from evalkit.config import EvalkitConfig
from evalkit.errors import (
    AuthError,
    BadRequest,
    BudgetExceeded,
    CallTimeout,
    ModelError,
    ProviderUnavailable,
    RateLimited,
    TransientModelError,
)
from evalkit.models import Budget, Completion, ConcurrencyLimits, ModelClient, ModelRequest
from evalkit.testing import FakeProvider, Fault, ModelBehaviour

SECRET = "sk-evalkit-SECRET-123"

pytestmark = pytest.mark.usefixtures("litellm_loaded")


def test_chat_call_returns_text_tokens_latency_and_zero_cost(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("sim-writer-google-q0.70", ModelBehaviour(latency_s=0.05))
    request = fake_provider.chat_request("sim-writer-google-q0.70")
    answer = asyncio.run(make_client().complete(request))
    assert answer.text.startswith("⟦sim family=google quality=0.70 tokens=")
    assert answer.output_tokens == len(answer.text.split())
    assert answer.input_tokens == 3
    assert answer.cost_usd == 0.0  # a local / unknown model is free
    assert answer.latency_s >= 0.05
    assert (answer.attempts, answer.cached, answer.finish_reason) == (1, False, "stop")
    assert fake_provider.received()[-1].path == "/v1/chat/completions"


def test_completion_style_request_goes_to_v1_completions(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    request = ModelRequest(
        model="openai/base-model", prompt="Q: 2+2?\nA:", api_base=fake_provider.base_url,
        api_key=SECRET, params={"max_tokens": 8, "temperature": 0.0},
    )  # fmt: skip
    answer = asyncio.run(make_client().complete(request))
    assert answer.text == "echo: Q: 2+2?\nA:"
    [received] = fake_provider.received()
    assert received.path == "/v1/completions"
    assert received.body["prompt"] == "Q: 2+2?\nA:"
    assert received.body["max_tokens"] == 8


def test_priced_models_cost_money_from_litellm_price_table(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    answer = asyncio.run(make_client().complete(fake_provider.chat_request("gpt-4o-mini")))
    assert 0.0 < answer.cost_usd < 0.001


@pytest.mark.parametrize(("header", "delay"), [("1", 1.0), ("1.0", 1.0), ("0.3", 0.3)])
def test_429_waits_for_retry_after_seconds(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    recorded_sleep: RecordedSleep,
    header: str,
    delay: float,
) -> None:
    fake_provider.script("limited", Fault.rate_limited(header), None)
    client = make_client(sleep=recorded_sleep)
    answer = asyncio.run(client.complete(fake_provider.chat_request("limited")))
    assert answer.attempts == 2
    assert fake_provider.requests("limited") == 2
    assert recorded_sleep.delays == [delay]


def test_429_with_an_http_date_waits_until_that_date(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    recorded_sleep: RecordedSleep,
) -> None:
    fake_provider.script("limited", Fault.rate_limited(date_in_s=30), None)
    client = make_client(max_backoff_s=60.0, sleep=recorded_sleep)
    answer = asyncio.run(client.complete(fake_provider.chat_request("limited")))
    assert answer.attempts == 2
    # HTTP-dates have one-second resolution: 30 s ahead is 29-30 s once truncated, less the
    # moment between the provider dating the header and the client reading it.
    [delay] = recorded_sleep.delays
    assert 25.0 <= delay <= 30.0


def test_retry_after_is_capped_by_max_backoff(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    recorded_sleep: RecordedSleep,
) -> None:
    fake_provider.script("limited", Fault.rate_limited("120"), None)
    client = make_client(max_backoff_s=0.2, sleep=recorded_sleep)
    answer = asyncio.run(client.complete(fake_provider.chat_request("limited")))
    assert answer.attempts == 2
    assert recorded_sleep.delays == [0.2]


def test_429_without_retry_after_backs_off_and_finally_raises_rate_limited(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("limited", *[Fault.rate_limited()] * 3)
    with pytest.raises(RateLimited, match=r"rate limited .*gave up after 3 attempts") as info:
        asyncio.run(make_client(retries=2).complete(fake_provider.chat_request("limited")))
    assert info.value.retry_after is None
    assert fake_provider.requests("limited") == 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_then_success_is_retried(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient], status: int
) -> None:
    fake_provider.script("flaky", Fault.http_error(status), None)
    answer = asyncio.run(make_client().complete(fake_provider.chat_request("flaky")))
    assert answer.attempts == 2
    assert answer.text == "echo: What is 2+2?"
    assert fake_provider.requests("flaky") == 2


def test_5xx_until_retries_run_out_raises_provider_unavailable(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("down", *[Fault.http_error(503)] * 3)
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503.*gave up after 3 attempts"):
        asyncio.run(make_client(retries=2).complete(fake_provider.chat_request("down")))
    assert fake_provider.requests("down") == 3


def test_hung_request_is_abandoned_after_timeout_and_retried(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("hangs", Fault.hang(), None)
    answer = asyncio.run(make_client(timeout_s=0.5).complete(fake_provider.chat_request("hangs")))
    assert answer.attempts == 2
    assert fake_provider.requests("hangs") == 2


def test_request_that_always_hangs_raises_call_timeout(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("hangs", Fault.hang(), Fault.hang())
    with pytest.raises(CallTimeout, match=r"did not answer within 0.3 s.*timeout_s"):
        asyncio.run(
            make_client(retries=1, timeout_s=0.3).complete(fake_provider.chat_request("hangs"))
        )


def test_dropped_connection_is_retried(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("drops", Fault.drop(), None)
    answer = asyncio.run(make_client().complete(fake_provider.chat_request("drops")))
    assert answer.attempts == 2
    assert fake_provider.requests("drops") == 2


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.no_choices()])
def test_malformed_body_is_retried_then_recorded_as_a_model_error(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient], fault: Fault
) -> None:
    fake_provider.script("garbled", fault, None)
    assert asyncio.run(make_client().complete(fake_provider.chat_request("garbled"))).attempts == 2

    fake_provider.script("garbled", fault, fault, fault)
    with pytest.raises(TransientModelError, match=r"malformed response .*gave up after 3"):
        asyncio.run(make_client(retries=2).complete(fake_provider.chat_request("garbled")))


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (401, AuthError), (403, AuthError), (404, BadRequest), (422, BadRequest)],
)
def test_client_errors_are_not_retried(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    status: int,
    error: type[ModelError],
) -> None:
    fake_provider.script("strict", Fault.http_error(status), None)
    with pytest.raises(error, match=f"HTTP {status}") as info:
        asyncio.run(make_client().complete(fake_provider.chat_request("strict")))
    assert fake_provider.requests("strict") == 1
    assert "gave up" not in str(info.value)
    assert "openai/strict" in str(info.value)


@pytest.mark.parametrize("style", ["chat", "completion"])
def test_neither_litellm_nor_the_openai_sdk_retry_on_their_own(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient], style: str
) -> None:
    fake_provider.script("once", Fault.http_error(500))
    request = fake_provider.chat_request("once")
    if style == "completion":
        request = ModelRequest(
            model="openai/once", prompt="x", api_base=fake_provider.base_url, api_key=SECRET
        )
    with pytest.raises(ProviderUnavailable):
        asyncio.run(make_client(retries=0).complete(request))
    assert fake_provider.requests("once") == 1


def test_http_clients_are_reused_across_calls(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client()

    async def sequential() -> None:
        for i in range(20):
            await c.complete(fake_provider.chat_request("reuse", f"question {i}"))

    asyncio.run(sequential())
    assert fake_provider.requests("reuse") == 20
    assert fake_provider.connections() == 1


def test_concurrency_is_bounded_per_model(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    for name in ("bounded-a", "bounded-b"):
        fake_provider.behave(name, ModelBehaviour(latency_s=0.05))
    requests = [
        fake_provider.chat_request(f"bounded-{m}", f"q{i}") for i in range(24) for m in "ab"
    ]
    results = asyncio.run(make_client(concurrency=4).complete_many(requests))
    assert all(isinstance(r, Completion) for r in results)
    assert fake_provider.max_in_flight("bounded-a") == 4
    assert fake_provider.max_in_flight("bounded-b") == 4
    assert fake_provider.max_in_flight() == 8  # the limit is per model, not global
    assert fake_provider.connections() <= 8


def test_complete_many_returns_answers_and_errors_in_order(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("bad", Fault.http_error(400))
    requests = [fake_provider.chat_request("good", "one"), fake_provider.chat_request("bad"),
                fake_provider.chat_request("good", "three")]  # fmt: skip
    results = asyncio.run(make_client().complete_many(requests))
    assert isinstance(results[0], Completion)
    assert results[0].text == "echo: one"
    assert isinstance(results[1], BadRequest)
    assert isinstance(results[2], Completion)
    assert results[2].text == "echo: three"


def test_iter_completed_yields_each_answer_as_it_finishes(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("slow", ModelBehaviour(latency_s=0.4))
    requests = [fake_provider.chat_request("slow"), fake_provider.chat_request("fast")]

    async def collect() -> list[tuple[int, str]]:
        out = []
        async for index, result in make_client().iter_completed(requests):
            assert isinstance(result, Completion)
            out.append((index, result.text))
        return out

    assert asyncio.run(collect()) == [(1, "echo: What is 2+2?"), (0, "echo: What is 2+2?")]


def test_leaving_iter_completed_early_cancels_the_rest(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("slow", ModelBehaviour(latency_s=5.0))
    requests = [fake_provider.chat_request("fast")] + [
        fake_provider.chat_request("slow", f"{i}") for i in range(3)
    ]

    client = make_client()

    async def first_only() -> tuple[int, int]:
        first = -1
        async with contextlib.aclosing(client.iter_completed(requests)) as results:
            async for first, _ in results:  # noqa: B007 (the first index is the result)
                break
        # Counted inside the event loop: asyncio.run would cancel leftovers on its way out.
        return first, client.in_flight

    assert asyncio.run(first_only()) == (0, 0)


def test_max_calls_budget_refuses_further_calls(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    budget = Budget(max_calls=2)
    c = make_client(budget=budget)

    async def three() -> None:
        await c.complete(fake_provider.chat_request("m", "1"))
        await c.complete(fake_provider.chat_request("m", "2"))
        await c.complete(fake_provider.chat_request("m", "3"))

    with pytest.raises(BudgetExceeded, match=r"max_calls=2 .*openai/m.*EVALKIT_MAX_CALLS"):
        asyncio.run(three())
    assert fake_provider.requests("m") == 2
    assert budget.calls == 2


def test_spend_budget_refuses_calls_once_spent(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    budget = Budget(budget_usd=1e-9)
    c = make_client(budget=budget)
    asyncio.run(c.complete(fake_provider.chat_request("gpt-4o-mini", "1")))
    assert budget.spent_usd > 1e-9
    with pytest.raises(BudgetExceeded, match=r"budget_usd=1e-09 reached"):
        asyncio.run(c.complete(fake_provider.chat_request("gpt-4o-mini", "2")))
    assert fake_provider.requests("gpt-4o-mini") == 1


def test_zero_budget_still_allows_free_local_calls(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(budget=Budget(budget_usd=0.0))
    for i in range(3):
        assert asyncio.run(c.complete(fake_provider.chat_request("local", str(i)))).cost_usd == 0.0


def test_from_config_wires_every_setting(fake_provider: FakeProvider, tmp_path: Path) -> None:
    config = EvalkitConfig(
        cache_dir=tmp_path / "c", cache_mode="refresh", concurrency=3, timeout_s=0.4,
        max_retries=1, backoff_s=0.01, max_backoff_s=0.5, budget_usd=2.0, max_calls=9, seed=5,
    )  # fmt: skip
    c = ModelClient.from_config(config)
    assert (c.cache.store.name, c.cache.mode) == (str(tmp_path / "c"), "refresh")
    assert (c.limits.default, c.timeout_s) == (3, 0.4)
    assert (c.retry.max_retries, c.retry.backoff_s, c.retry.max_backoff_s) == (1, 0.01, 0.5)
    assert (c.budget.budget_usd, c.budget.max_calls) == (2.0, 9)
    fake_provider.script("cfg", Fault.hang(), Fault.hang())
    with pytest.raises(CallTimeout, match="gave up after 2 attempts"):
        asyncio.run(c.complete(fake_provider.chat_request("cfg")))


def test_one_client_works_across_successive_event_loops(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(concurrency=2)
    for i in range(3):
        results = asyncio.run(
            c.complete_many([fake_provider.chat_request("loops", f"{i}-{j}") for j in range(4)])
        )
        assert all(isinstance(r, Completion) for r in results)
    assert fake_provider.requests("loops") == 12


def test_one_budget_is_shared_by_several_clients(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    budget = Budget(max_calls=3)
    candidates, judges = make_client(budget=budget), make_client(budget=budget)
    asyncio.run(candidates.complete(fake_provider.chat_request("writer", "1")))
    asyncio.run(judges.complete(fake_provider.chat_request("judge", "1")))
    asyncio.run(candidates.complete(fake_provider.chat_request("writer", "2")))
    with pytest.raises(BudgetExceeded):
        asyncio.run(judges.complete(fake_provider.chat_request("judge", "2")))
    assert fake_provider.requests() == 3


def test_per_model_concurrency_overrides_the_default(fake_provider: FakeProvider) -> None:
    fake_provider.behave("narrow", ModelBehaviour(latency_s=0.05))
    c = ModelClient(limits=ConcurrencyLimits(8, per_model={"openai/narrow": 2}))
    requests = [fake_provider.chat_request("narrow", str(i)) for i in range(8)]
    assert all(isinstance(r, Completion) for r in asyncio.run(c.complete_many(requests)))
    assert fake_provider.max_in_flight("narrow") == 2


def test_aclose_closes_the_loops_clients_and_the_client_stays_usable(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    c = make_client(mode="use")

    async def call_then_close(text: str) -> Completion:
        answer = await c.complete(fake_provider.chat_request("m", text))
        await c.aclose()
        return answer

    assert asyncio.run(call_then_close("one")).text == "echo: one"
    assert asyncio.run(call_then_close("two")).text == "echo: two"
    assert asyncio.run(call_then_close("one")).cached
