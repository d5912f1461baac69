import os

# Set before anything imports litellm: offline, its price-table download would retry for ~15 s.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _clocks import RecordedSleep
from _redis import RedisServer

from evalkit.models import (
    ConcurrencyLimits,
    ModelClient,
    ResponseCache,
    RetryPolicy,
)
from evalkit.testing import FakeProvider, JudgeParams


def pytest_configure(config: pytest.Config) -> None:
    # litellm hides pydantic's "`ReadOnly` qualifier" UserWarning with a global filter at
    # import; pytest's per-test filters (filterwarnings = error) override that, and the warning
    # fires whenever litellm first builds one of its TypedDict adapters mid-call. Not ours.
    config.addinivalue_line("filterwarnings", "ignore:.*`ReadOnly` qualifier:UserWarning")


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A fresh fake OpenAI-compatible provider on a free loopback port, stopped afterwards."""
    with FakeProvider(seed=0) as fake:
        yield fake


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """A fake provider with one fair judge model, ``sim-judge-fair``, and an API key set.

    Test files whose suites need other judges define their own ``fake``, which overrides this.
    """
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        yield provider


@pytest.fixture(scope="session")
def litellm_loaded() -> None:
    """Import litellm up front, so that its seconds-long import never lands inside a timing."""
    from evalkit.models._litellm import load_litellm

    load_litellm()


@pytest.fixture
def make_client(tmp_path: Path) -> Callable[..., ModelClient]:
    """Build ModelClients with a cache under tmp_path and fast, seeded retries.

    Keywords: ``mode`` (cache mode, default off), ``retries``, ``backoff_s``,
    ``max_backoff_s``, ``timeout_s``, ``concurrency``, ``budget``, ``sleep`` (the client's
    wait between attempts; pass a :class:`RecordedSleep` to assert the delays, not the clock).
    """

    def build(
        *,
        mode: Any = "off",
        retries: int = 3,
        backoff_s: float = 0.01,
        max_backoff_s: float = 5.0,
        timeout_s: float = 5.0,
        concurrency: int = 16,
        budget: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> ModelClient:
        return ModelClient(
            cache=ResponseCache(tmp_path / "cache", mode),
            retry=RetryPolicy(retries, backoff_s, max_backoff_s),
            timeout_s=timeout_s,
            limits=ConcurrencyLimits(concurrency),
            budget=budget,
            rng=random.Random(0),
            sleep=sleep,
        )

    return build


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, without persistence, stopped afterwards.

    Fails (never skips) when redis-server is not installed, saying how to install it.
    """
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:  # failed outside the except block, so the message is shown once
        pytest.fail(missing, pytrace=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def recorded_sleep() -> RecordedSleep:
    """A fresh :class:`RecordedSleep` for ``make_client(sleep=...)``."""
    return RecordedSleep()
