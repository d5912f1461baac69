"""Benchmark: cache hits from Redis against hits from the local folder, at concurrency 32.

Fills a local cache folder and a fresh redis-server (Debian's, started here on a free loopback
port, no persistence; the same helper the tests use) with the same ``--entries`` answers, then
asks ``ModelClient.complete`` for every one of them through 32 workers, so every call is a hit.
For each store it reports:

- hits per second (wall time of all the hits);
- each hit's latency (median and 99th percentile, from the call to its answer) and the added
  median latency per hit against the folder;
- the event loop's worst stall: a ticker task asks to wake every 1 ms, and the longest it
  waited beyond that is how long something held the loop.

Stores compared: the folder (diskcache, called on the loop: today's path), Redis as shipped
(redis-py's sync client in a worker thread), and, for the decision between the two clients,
redis-py's sync client called on the loop and redis-py's asyncio client (bare GETs, no evalkit
around them).

    python bench/cache_redis.py [--entries 5000] [--concurrency 32] [--rounds 3]

Each store runs ``--rounds`` times, alternating, and the best round counts. The transport
raises if it is ever called: every answer must come from the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _redis import RedisServer  # the tests' own redis-server helper

from evalkit.models import Completion, ModelClient, ModelRequest, ResponseCache
from evalkit.models._cache import cache_key
from evalkit.models._cache_redis import KEY_PREFIX, RedisStore


class NoCalls:
    """A transport that fails the benchmark if a call is ever sent (every call must hit)."""

    async def attempt(self, request: ModelRequest, timeout_s: float) -> Completion:
        raise AssertionError(f"a cache miss reached the transport: {request.messages}")


class RedisOnTheLoop(RedisStore):
    """The shipped store, but called on the event loop (the rejected alternative)."""

    remote = False


def requests(n: int) -> list[ModelRequest]:
    return [
        ModelRequest(
            model="openai/bench-judge",
            messages=({"role": "user", "content": f"Which answer is better? item {i} " * 20},),
            params={"temperature": 0.0, "max_tokens": 64},
            api_base="http://127.0.0.1:9/v1",
        )
        for i in range(n)
    ]


def fill(cache: ResponseCache, reqs: list[ModelRequest]) -> None:
    for i, request in enumerate(reqs):
        answer = Completion(
            text=f"Verdict for item {i}: [[A]] because " + "it is clearer. " * 30,
            input_tokens=400, output_tokens=80, cost_usd=0.0004, latency_s=1.2,
        )  # fmt: skip
        cache.put(cache_key(request), answer, model=request.model)


async def _measure(
    one: Callable[[int], Awaitable[None]], n: int, concurrency: int
) -> dict[str, float]:
    """Run ``one(i)`` for i < n through ``concurrency`` workers; time it and the loop."""
    latencies: list[float] = []
    lags: list[float] = []
    running = True

    async def ticker() -> None:
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - before - 0.001)

    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            start = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - start)

    tick = asyncio.ensure_future(ticker())
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    running = False
    await tick
    latencies.sort()
    lags.sort()
    return {
        "hits_per_s": n / wall,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "lag_p99_ms": lags[int(0.99 * (len(lags) - 1))] * 1000,
        "lag_max_ms": lags[-1] * 1000,
    }


def through_client(
    cache: ResponseCache, reqs: list[ModelRequest], concurrency: int
) -> dict[str, float]:
    client = ModelClient(NoCalls(), cache=cache)

    async def one(i: int) -> None:
        hit = await client.complete(reqs[i])
        assert hit.cached

    async def run() -> dict[str, float]:
        await one(0)  # opened (database, connection, threads) before the clock starts
        try:
            return await _measure(one, len(reqs), concurrency)
        finally:
            await client.aclose()

    return asyncio.run(run())


def bare_asyncio_gets(url: str, reqs: list[ModelRequest], concurrency: int) -> dict[str, float]:
    import redis.asyncio

    keys = [KEY_PREFIX + cache_key(r) for r in reqs]

    async def run() -> dict[str, float]:
        client = redis.asyncio.Redis.from_url(url, decode_responses=True)

        async def one(i: int) -> None:
            assert await client.get(keys[i]) is not None

        await one(0)
        try:
            return await _measure(one, len(reqs), concurrency)
        finally:
            await client.aclose()

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    reqs = requests(args.entries)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            folder = Path(tmp) / "cache"
            fill(ResponseCache(folder, "use"), reqs)
            fill(ResponseCache(server.url, "use"), reqs)
            stores: dict[str, Callable[[int], dict[str, float]]] = {
                "folder (diskcache, on the loop)": lambda c: through_client(
                    ResponseCache(folder, "use"), reqs, c
                ),
                "redis, sync client in a thread (shipped)": lambda c: through_client(
                    ResponseCache(server.url, "use"), reqs, c
                ),
                "redis, sync client on the loop": lambda c: through_client(
                    ResponseCache(RedisOnTheLoop(server.url), "use"), reqs, c
                ),
                "redis.asyncio, bare GETs (no evalkit)": lambda c: bare_asyncio_gets(
                    server.url, reqs, c
                ),
            }
            for concurrency in (1, args.concurrency):
                best: dict[str, dict[str, float]] = {}
                for _ in range(args.rounds):
                    for name, measure in stores.items():
                        figures = measure(concurrency)
                        if name not in best or figures["hits_per_s"] > best[name]["hits_per_s"]:
                            best[name] = figures
                report(best, args.entries, concurrency, args.rounds)
        finally:
            server.stop()


def report(best: dict[str, dict[str, float]], n: int, concurrency: int, rounds: int) -> None:
    base = best["folder (diskcache, on the loop)"]["median_ms"]
    print(f"\n{n} cache hits, concurrency {concurrency}, best of {rounds} rounds; 0 model calls")
    print(f"{'store':42} {'hits/s':>7} {'median ms':>9} {'p99 ms':>7} {'+ms/hit':>8} "
          f"{'loop lag p99/max ms':>20}")  # fmt: skip
    for name, f in best.items():
        lag = f"{f['lag_p99_ms']:.2f} / {f['lag_max_ms']:.1f}"
        print(
            f"{name:42} {f['hits_per_s']:7.0f} {f['median_ms']:9.3f} {f['p99_ms']:7.2f} "
            f"{f['median_ms'] - base:+8.3f} {lag:>20}"
        )


if __name__ == "__main__":
    main()
