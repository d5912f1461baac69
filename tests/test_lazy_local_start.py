"""A bundled model's server starts on the first cache miss for it, and never for a cached run.

The llama.cpp server is stood in for by the loopback FakeProvider: a :class:`LocalModelServer`
whose ``_start`` points at it instead of launching llama.cpp, counted by ``starts``.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from evalkit.errors import CacheMiss
from evalkit.models import (
    ConcurrencyLimits,
    ModelClient,
    ModelRequest,
    ResponseCache,
    RetryPolicy,
)
from evalkit.models._local import LocalEndpoint, LocalModel, LocalModelServer
from evalkit.session._endpoints import Resolver
from evalkit.testing import FakeProvider

SMOL = "local/smollm2-135m-instruct"
GEMMA = "local/gemma-3-270m"


class _FakeLlama(LocalModelServer):
    """Serves every bundled model from the fake provider, on its own port each time."""

    def __init__(self, cache_dir: Path, fake: FakeProvider) -> None:
        super().__init__(cache_dir)
        self.fake = fake

    def _start(self, local: LocalModel) -> LocalEndpoint:
        return LocalEndpoint(model=f"openai/{local.name}", api_base=self.fake.base_url, local=local)


def _client(cache_dir: Path, mode: str, resolver: Resolver) -> ModelClient:
    return ModelClient(
        cache=ResponseCache(cache_dir, mode),  # type: ignore[arg-type]
        retry=RetryPolicy(0, 0.01, 0.1),
        timeout_s=10.0,
        limits=ConcurrencyLimits(8),
        rng=random.Random(0),
        locate=resolver.locate,
    )


def _requests(resolver: Resolver, model: str, n: int) -> list[ModelRequest]:
    ep = resolver.resolve(model)
    return [
        ModelRequest(
            model=ep.model,
            messages=({"role": "user", "content": f"Question {i}?"},),
            params={"temperature": 0},
            api_base=ep.api_base,
            api_key=ep.api_key,
            cache_scope=ep.cache_scope,
        )
        for i in range(n)
    ]


def _run(cache_dir: Path, mode: str, fake: FakeProvider, models: list[str]) -> tuple[int, int]:
    """One "run": resolve the models, make 5 calls to each; return (servers started, requests)."""
    server = _FakeLlama(cache_dir, fake)
    resolver = Resolver(cache_dir, local=server)
    client = _client(cache_dir, mode, resolver)
    before = fake.requests()
    requests = [r for m in models for r in _requests(resolver, m, 5)]

    async def go() -> list[object]:
        try:
            return list(await client.complete_many(requests))
        finally:
            await client.aclose()

    results = asyncio.run(go())
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        raise errors[0]
    return server.starts, fake.requests() - before


def test_resolving_a_bundled_model_starts_nothing(
    tmp_path: Path, fake_provider: FakeProvider
) -> None:
    server = _FakeLlama(tmp_path, fake_provider)
    ep = Resolver(tmp_path, local=server).resolve(SMOL)
    assert (ep.model, ep.api_base, ep.cache_scope) == (
        "openai/smollm2-135m-instruct",
        None,
        "evalkit-local:smollm2-135m-instruct",
    )
    assert server.starts == 0


def test_the_first_miss_starts_the_server_once_and_a_cached_rerun_starts_none(
    tmp_path: Path, fake_provider: FakeProvider
) -> None:
    # Ten concurrent misses on two models: one start per model.
    assert _run(tmp_path, "use", fake_provider, [SMOL, GEMMA]) == (2, 10)
    # The rerun's servers would listen on other ports: the key holds the scope, not the port.
    assert _run(tmp_path, "use", fake_provider, [SMOL, GEMMA]) == (0, 0)
    assert _run(tmp_path, "replay", fake_provider, [SMOL, GEMMA]) == (0, 0)


def test_only_the_model_with_a_miss_is_started(tmp_path: Path, fake_provider: FakeProvider) -> None:
    assert _run(tmp_path, "use", fake_provider, [SMOL]) == (1, 5)
    assert _run(tmp_path, "use", fake_provider, [SMOL, GEMMA]) == (1, 5)


def test_replay_never_starts_a_server_even_on_a_miss(
    tmp_path: Path, fake_provider: FakeProvider
) -> None:
    with pytest.raises(CacheMiss, match="cache_mode=replay"):
        _run(tmp_path, "replay", fake_provider, [SMOL])
    server = _FakeLlama(tmp_path, fake_provider)
    assert server.starts == 0
    assert fake_provider.requests() == 0


def test_requests_with_an_address_are_sent_as_they_are(
    tmp_path: Path, fake_provider: FakeProvider
) -> None:
    server = _FakeLlama(tmp_path, fake_provider)
    request = fake_provider.chat_request("remote")
    assert asyncio.run(server.locate(request)) is request
    assert server.starts == 0
