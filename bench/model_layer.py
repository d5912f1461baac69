"""Benchmark: evalkit's model layer against plain litellm, on the fake provider.

1,000 simulated-judge calls, 200 ms of server latency each, 32 in flight:

1. plain litellm: ``asyncio.gather`` over ``litellm.acompletion`` behind a semaphore of 32;
2. evalkit: ``ModelClient.complete_many`` (cache in ``use`` mode, empty), concurrency 32;
3. the same 1,000 again through evalkit, now all cache hits: sequentially and concurrently.

Steps 1 and 2 run ``--rounds`` times in alternating order, with fresh prompts each round, and
the best time of each counts.

The floor is max(1,000 x 0.2 s / 32 = 6.25 s, plain litellm's time); the target is evalkit
within 1.15 x the floor, zero server requests on the rerun, and under 1 ms per cache hit.

    python bench/model_layer.py [--calls 1000] [--latency 0.2] [--concurrency 32]
                                [--server process|thread] [--rounds 2]

The fake provider runs in a child process (``--server process``, the default), as a real
provider does: its HTTP work takes its own core and GIL, not the client's, and the output
says so with the child's pid. ``--server thread`` runs it in this process instead, where it
competes with the client for one GIL (only for comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalkit.models import (
    Completion,
    ConcurrencyLimits,
    ModelClient,
    ModelRequest,
    ResponseCache,
    RetryPolicy,
)
from evalkit.models._litellm import load_litellm
from evalkit.testing import (
    FakeProvider,
    JudgeParams,
    ModelBehaviour,
    WriterParams,
    write_answer,
)

JUDGE = "sim-judge-bench"
KEY = "sk-bench-placeholder"

_CHILD = """
import sys
from evalkit.testing import FakeProvider, JudgeParams, ModelBehaviour
fake = FakeProvider(record=False).start()
fake.register_judge(sys.argv[1], JudgeParams(position_bias=0.6, seed=1))
fake.behave(sys.argv[1], ModelBehaviour(latency_s=float(sys.argv[2])))
print(fake.port, flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
print(fake.requests(), flush=True)
fake.stop()
"""


def judge_prompts(n: int, seed: int) -> list[str]:
    """``n`` pairwise judge prompts, each with two simulated answers of varied length."""
    rng = random.Random(seed)
    writers = [WriterParams("google", 0.6, 40, 160), WriterParams("meta", 0.5, 40, 160)]
    prompts = []
    for i in range(n):
        question = f"Question {seed}-{i}: explain item {rng.random():.6f}."
        a, b = (write_answer(w, question) for w in rng.sample(writers, 2))
        prompts.append(
            "You compare two answers to a question.\n"
            f"Question: {question}\n[A] {a}\n[B] {b}\n"
            "Which answer is better? End with [[A]], [[B]] or [[C]] for a tie."
        )
    return prompts


def requests_for(prompts: list[str], base: str) -> list[ModelRequest]:
    """The evalkit requests for ``prompts``."""
    return [
        ModelRequest(
            model=f"openai/{JUDGE}",
            messages=({"role": "user", "content": p},),
            params={"temperature": 0.0, "max_tokens": 64},
            api_base=base,
            api_key=KEY,
        )
        for p in prompts
    ]


async def plain_litellm(prompts: list[str], base: str, concurrency: int) -> float:
    """Time the workload through bare litellm with a semaphore; return seconds."""
    litellm = load_litellm()
    sem = asyncio.Semaphore(concurrency)

    async def one(prompt: str) -> Any:
        async with sem:
            return await litellm.acompletion(
                model=f"openai/{JUDGE}",
                messages=[{"role": "user", "content": prompt}],
                temperature=0.0,
                max_tokens=64,
                api_base=base,
                api_key=KEY,
                max_retries=0,
                num_retries=0,
                timeout=30,
            )

    start = time.perf_counter()
    results = await asyncio.gather(*(one(p) for p in prompts))
    elapsed = time.perf_counter() - start
    assert all(r.choices[0].message.content for r in results)
    return elapsed


async def evalkit_run(client: ModelClient, requests: list[ModelRequest]) -> float:
    """Time the workload through ``client.complete_many``; return seconds."""
    start = time.perf_counter()
    results = await client.complete_many(requests)
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not isinstance(r, Completion)]
    assert not failed, failed[:3]
    return elapsed


async def cached_sequential(client: ModelClient, requests: list[ModelRequest]) -> float:
    """Time one-by-one cache hits; return seconds."""
    start = time.perf_counter()
    for request in requests:
        answer = await client.complete(request)
        assert answer.cached
    return time.perf_counter() - start


class Server:
    """The fake provider, in this process or in a child process."""

    def __init__(self, where: str, latency: float) -> None:
        self.where = where
        self.fake: FakeProvider | None = None
        self.child: subprocess.Popen[str] | None = None
        if where == "thread":
            self.fake = FakeProvider(record=False).start()
            self.fake.register_judge(JUDGE, JudgeParams(position_bias=0.6, seed=1))
            self.fake.behave(JUDGE, ModelBehaviour(latency_s=latency))
            self.port = self.fake.port
        else:
            root = Path(__file__).resolve().parents[1]
            self.child = subprocess.Popen(
                [sys.executable, "-c", _CHILD, JUDGE, str(latency)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=root,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
            assert self.child.stdout is not None
            self.port = int(self.child.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}/v1"

    def placement(self) -> str:
        """Where the provider runs, for the output."""
        if self.child is not None:
            return f"in its own process (pid {self.child.pid}; this one is pid {os.getpid()})"
        return "in a thread of this process (sharing its GIL)"

    def requests(self) -> int | None:
        """Requests served so far (only known in-process while running)."""
        return self.fake.requests() if self.fake is not None else None

    def stop(self) -> int:
        """Stop and return the total number of requests served."""
        if self.fake is not None:
            total = self.fake.requests()
            self.fake.stop()
            return total
        assert self.child is not None
        assert self.child.stdin is not None
        self.child.stdin.close()
        assert self.child.stdout is not None
        total = int(self.child.stdout.readline())
        self.child.wait(timeout=30)
        return total


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print the figures; return the exit status."""
    server = Server(args.server, args.latency)
    print(
        f"provider: evalkit.testing.FakeProvider at {server.base}, {server.placement()}", flush=True
    )
    cache_root = Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    plain_times: list[float] = []
    evalkit_times: list[float] = []
    try:
        # Warm up: import litellm and let it build its HTTP clients, outside every timing.
        load_litellm()
        await plain_litellm(judge_prompts(8, seed=999), server.base, args.concurrency)

        # litellm finishes each call's logging in background threads, which spills into
        # whatever runs next; alternating the order per round keeps that from favouring one
        # side. Each round uses fresh prompts, so evalkit's cache starts empty.
        for round_ in range(args.rounds):
            prompts = judge_prompts(args.calls, seed=round_)
            client = ModelClient(
                cache=ResponseCache(cache_root / str(round_), "use"),
                limits=ConcurrencyLimits(args.concurrency),
                retry=RetryPolicy(max_retries=4),
                timeout_s=30.0,
            )
            requests = requests_for(prompts, server.base)
            if round_ % 2 == 0:
                plain_times.append(await plain_litellm(prompts, server.base, args.concurrency))
                evalkit_times.append(await evalkit_run(client, requests))
            else:
                evalkit_times.append(await evalkit_run(client, requests))
                plain_times.append(await plain_litellm(prompts, server.base, args.concurrency))

        # The rerun of the last round: every call is a cache hit; the server must see nothing.
        before_rerun = server.requests()
        concurrent_hits_s = await evalkit_run(client, requests)
        sequential_hits_s = await cached_sequential(client, requests)
        after_rerun = server.requests()
        client.close()
    finally:
        total = server.stop()

    n = args.calls
    plain_s, evalkit_s = min(plain_times), min(evalkit_times)
    floor = max(n * args.latency / args.concurrency, plain_s)
    ratio = evalkit_s / floor
    if before_rerun is not None and after_rerun is not None:
        rerun_requests = after_rerun - before_rerun
    else:  # child-process server: everything it served, less the calls that should reach it
        rerun_requests = total - 8 - 2 * n * args.rounds

    def seconds(times: list[float]) -> str:
        return ", ".join(f"{t:.3f}" for t in times)

    print(
        f"workload: {n} judge calls, {args.latency * 1000:.0f} ms latency, "
        f"concurrency {args.concurrency}, provider {server.placement()}, {args.rounds} rounds"
    )
    print(f"plain litellm (gather + semaphore): best {plain_s:6.3f} s  ({seconds(plain_times)})")
    print(
        f"evalkit ModelClient.complete_many:  best {evalkit_s:6.3f} s  ({seconds(evalkit_times)})"
    )
    print(
        f"floor = max({n} x {args.latency} / {args.concurrency} = "
        f"{n * args.latency / args.concurrency:.3f} s, plain) = {floor:.3f} s"
    )
    print(f"ratio evalkit / floor: {ratio:.3f}  (target <= 1.15)")
    print(f"rerun through the cache: {rerun_requests} server requests (target 0)")
    print(
        f"  concurrent hits: {concurrent_hits_s * 1000:7.1f} ms total, "
        f"{concurrent_hits_s / n * 1e3:.3f} ms per hit (target < 1 ms)"
    )
    print(
        f"  sequential hits: {sequential_hits_s * 1000:7.1f} ms total, "
        f"{sequential_hits_s / n * 1e3:.3f} ms per hit (target < 1 ms)"
    )
    ok = ratio <= 1.15 and rerun_requests == 0
    ok = ok and sequential_hits_s / n < 1e-3 and concurrent_hits_s / n < 1e-3
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    parser.add_argument("--rounds", type=int, default=2)
    sys.exit(asyncio.run(main(parser.parse_args())))
