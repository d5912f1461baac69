"""Benchmark: the per-item overhead of evaluating a callable candidate (``evalkit.app``).

N items (200 by default), an app that sleeps 200 ms, 16 in flight:

1. plain: ``asyncio.gather`` over the same function behind a semaphore of 16;
2. evalkit: the suite's answers phase as the session runs it: ``answer_all`` over the
   prepared suite, through the model client (response cache in ``use`` mode, empty; the
   app's concurrency limit and per-call timeout) with every answer appended to answers.jsonl.

Both run for an async app (``asyncio.sleep``) and for a sync one (``time.sleep``; evalkit runs
it in a thread of its own, the plain run in a 16-thread pool). Each pair runs ``--rounds``
times in alternating order with a fresh cache, and the best time of each counts. The floor
is ceil(N / 16) x 0.2 s; the target is evalkit within 1.10 x the plain run.

    python bench/app_overhead.py [--items 200] [--sleep 0.2] [--concurrency 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import evalkit
from evalkit.candidates._transport import AppTransport
from evalkit.config import EvalkitConfig
from evalkit.judging import JudgeRegistry
from evalkit.models import ModelClient
from evalkit.models._litellm import LiteLLMTransport
from evalkit.records._store import JsonlAppender
from evalkit.session._endpoints import Resolver
from evalkit.session._engine import answer_all
from evalkit.session._prepare import prepare_suite


def apps(sleep_s: float) -> dict[str, Callable[[dict[str, Any]], Any]]:
    async def answer_async(row: dict[str, Any]) -> str:
        await asyncio.sleep(sleep_s)
        return f"answer to {row['question']}"

    def answer_sync(row: dict[str, Any]) -> str:
        time.sleep(sleep_s)
        return f"answer to {row['question']}"

    return {"async": answer_async, "sync": answer_sync}


def plain(fn: Callable[..., Any], rows: list[dict[str, Any]], concurrency: int) -> float:
    """The same function over the rows with asyncio.gather and a semaphore: the floor."""

    async def main() -> None:
        sem = asyncio.Semaphore(concurrency)
        pool = concurrent.futures.ThreadPoolExecutor(concurrency)
        loop = asyncio.get_running_loop()

        async def one(row: dict[str, Any]) -> Any:
            async with sem:
                if asyncio.iscoroutinefunction(fn):
                    return await fn(row)
                return await loop.run_in_executor(pool, fn, row)

        await asyncio.gather(*(one(r) for r in rows))
        pool.shutdown()

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def through_evalkit(
    fn: Callable[..., Any], root: Path, concurrency: int, round_: int
) -> tuple[float, int]:
    """The answers phase of a suite whose candidate is ``evalkit.app(fn)``; fresh cache."""
    work = root / f"round-{round_}-{fn.__name__}"
    work.mkdir()
    config = EvalkitConfig(
        cache_dir=work / "cache", reports_dir=work / "reports", concurrency=concurrency,
        timeout_s=30.0, panel="local-rubric",
    )  # fmt: skip
    suite = evalkit.Suite("bench", dataset=root / "data.jsonl", mode="pointwise",
                          candidate=evalkit.app(fn, version="bench"))  # fmt: skip
    resolver = Resolver(config.cache_dir)
    ctx = prepare_suite(suite, config, JudgeRegistry(root / "judges"), resolver.resolve,
                        run_id="bench")  # fmt: skip
    transport = AppTransport(LiteLLMTransport())
    transport.add(suite.candidate)  # type: ignore[arg-type]
    client = ModelClient.from_config(config, transport=transport)
    out = JsonlAppender(work / "answers.jsonl")

    async def main() -> dict[str, Any]:
        try:
            return await answer_all(ctx, client, "candidate", ctx.candidate, out.append)
        finally:
            await client.aclose()

    start = time.perf_counter()
    answers = asyncio.run(main())
    elapsed = time.perf_counter() - start
    out.close()
    resolver.close()
    return elapsed, sum(a.status == "ok" for a in answers.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(args.items)]
    floor = math.ceil(args.items / args.concurrency) * args.sleep
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (root / "judges").mkdir()
        print(f"{args.items} items, app sleeps {args.sleep:g} s, concurrency "
              f"{args.concurrency}; floor {floor:.2f} s")  # fmt: skip
        for kind, fn in apps(args.sleep).items():
            best_plain, best_evalkit, ok = math.inf, math.inf, 0
            for r in range(args.rounds):
                order = ("plain", "evalkit") if r % 2 == 0 else ("evalkit", "plain")
                for which in order:
                    if which == "plain":
                        best_plain = min(best_plain, plain(fn, rows, args.concurrency))
                    else:
                        took, ok = through_evalkit(fn, root, args.concurrency, r)
                        best_evalkit = min(best_evalkit, took)
            per_item_ms = (best_evalkit - best_plain) / args.items * 1000
            print(
                f"{kind:>5} app: plain {best_plain:.3f} s, evalkit {best_evalkit:.3f} s "
                f"({ok}/{args.items} answers), ratio {best_evalkit / best_plain:.3f} "
                f"(target <= 1.10); overhead {per_item_ms:+.2f} ms per item"
            )


if __name__ == "__main__":
    main()
