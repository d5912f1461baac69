"""Scale-out, simulated on one machine: N shards as N processes, one Redis cache, one merge.

Writes a project whose one suite grades ``--items`` recorded answers with a pointwise panel of
two simulated judges (so ``2 x items`` judge calls; 50,000 items = 100,000 calls), starts the
loopback fake provider in a process of its own (``--latency-ms`` per call) and a real
``redis-server`` (Debian's, on a free loopback port) that every shard uses as its response cache,
then runs ``pytest suites/ --evalkit-shard=K/N`` for K = 1..N as N concurrent processes — the
way N CI runners of a matrix job would — and ``evalkit merge`` on their folders.

Reported: the wall time of the shards and of the merge, judge calls per second, each process's
peak memory (``ru_maxrss`` from ``wait4``), the merged report's size, and the proof that nothing
was lost or duplicated: the merged judgments hold exactly one row per (item, judge), every item
of the dataset, and the provider served exactly one request per judge call (the shards' item
sets are disjoint and the cache is shared). A second pass (``--rerun``) runs the shards again
against the warm Redis: 0 requests.

    python bench/scale_shards.py                         # 50,000 items, 8 shards (minutes)
    python bench/scale_shards.py --items 2000 --shards 4 # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _redis import RedisServer  # noqa: E402  (the tests' own redis-server helper)

from evalkit.testing import WriterParams, write_answer  # noqa: E402

_PROVIDER = """
import sys
from evalkit.testing import FakeProvider, JudgeParams, ModelBehaviour
fake = FakeProvider(record=False).start()
latency = float(sys.argv[1])
for name, family, seed in (("sim-judge-a", "anthropic", 1), ("sim-judge-b", "openai", 2)):
    fake.register_judge(name, JudgeParams(self_family=family, seed=seed))
    fake.behave(name, ModelBehaviour(latency_s=latency))
print(fake.port, flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
print(fake.requests(), flush=True)
fake.stop()
"""

_SUITE = """import evalkit

suite = evalkit.Suite(
    "scale",
    dataset="data.jsonl",
    mode="pointwise",
    candidate=evalkit.recorded(column="answer"),
    gates=[evalkit.gates.MeanScore(at_least=1)],
)
test_item, test_gate = suite.tests()
"""


def write_project(root: Path, *, items: int, base_url: str, cache_url: str) -> None:
    """The benchmark's project: two rubric judges, one recorded-answers suite, Redis cache."""
    (root / "judges").mkdir(parents=True)
    for name, family in (("a", "anthropic"), ("b", "openai")):
        (root / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {base_url}\nmode: pointwise\ntemplate: rubric_chat.j2\n"
            "parser: rating\nscale: {min: 1, max: 10}\n"
        )
    (root / "judges" / "p.yaml").write_text(
        "kind: panel\njudges: [a, b]\naggregation: mean\nquorum: 1\n"
    )
    (root / "pyproject.toml").write_text(
        "[tool.evalkit]\n"
        'panel = "p"\n'
        f'cache_url = "{cache_url}"\n'
        'reports_dir = "reports"\n'
        "max_retries = 2\n"
        "concurrency = 32\n"
    )
    suites = root / "suites"
    suites.mkdir()
    (suites / "test_scale.py").write_text(_SUITE)
    # The simulated judges score an answer by the quality marker its simulated writer left in
    # it (evalkit.testing), so the recorded answers are written by one.
    writer = WriterParams("mistral", 0.7, min_tokens=20, max_tokens=60, quality_sd=0.15)
    with (suites / "data.jsonl").open("w") as out:
        for i in range(items):
            question = f"What is {i} plus {i % 97}?"
            row = {
                "id": f"q{i:06d}",
                "question": question,
                "answer": write_answer(writer, question),
            }
            out.write(json.dumps(row) + "\n")


def run_many(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """Run ``commands`` concurrently; each one's exit code, wall time and peak memory (MB)."""
    started = time.perf_counter()
    procs = {}
    for command in commands:
        # Closed below, once the process has ended and its output was read.
        log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs[proc.pid] = (proc, log, command)
    results: dict[int, dict[str, Any]] = {}
    while len(results) < len(procs):
        pid, status, usage = os.wait4(-1, 0)
        if pid not in procs:
            continue
        proc, log, command = procs[pid]
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        results[pid] = {
            "command": " ".join(command[3:]),
            "exit": proc.returncode,
            "wall_s": time.perf_counter() - started,
            "max_rss_mb": usage.ru_maxrss / 1024,
            "tail": log.read()[-1500:],
        }
        log.close()
        os.unlink(log.name)
    return [results[pid] for pid in procs]


def shard_pass(root: Path, shards: int, env: dict[str, str]) -> tuple[float, list[dict[str, Any]]]:
    """Run every shard as its own process; the wall time of the whole pass and each result."""
    commands = [
        [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider",
         f"--evalkit-shard={k}/{shards}"]
        for k in range(1, shards + 1)
    ]  # fmt: skip
    start = time.perf_counter()
    results = run_many(commands, root, env)
    return time.perf_counter() - start, results


def check(merged: Path, items: int) -> dict[str, Any]:
    """What the merged run holds: rows, items, duplicates."""
    import pandas as pd

    table = pd.read_json(merged / "judgments.jsonl", lines=True)
    key = ["suite", "item_id", "judge", "order", "sample", "option_order"]
    key = [k for k in key if k in table.columns]
    return {
        "rows": len(table),
        "items": int(table["item_id"].nunique()),
        "duplicated": int(table.duplicated(key).sum()),
        "missing_items": items - int(table["item_id"].nunique()),
        "ok_rows": int((table["status"] == "ok").sum()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rerun", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", help="build the project in this folder and keep it")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="evalkit-scale-"))
    redis = RedisServer(work / "redis-data")
    (work / "redis-data").mkdir(parents=True, exist_ok=True)
    redis.start()
    provider = subprocess.Popen(
        [sys.executable, "-c", _PROVIDER, str(args.latency_ms / 1000)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert provider.stdout is not None
    assert provider.stdin is not None
    try:
        port = int(provider.stdout.readline())
        project = work / "project"
        write_project(
            project, items=args.items, base_url=f"http://127.0.0.1:{port}/v1", cache_url=redis.url
        )
        env = {
            **os.environ, "OPENAI_API_KEY": "sk-evalkit-bench", "EVALKIT_RUN_GROUP": "scale-bench",
            "CI": "", "PYTHONPATH": str(ROOT),
        }  # fmt: skip
        env.pop("CI")
        calls = 2 * args.items
        print(f"{args.items:,} items x 2 judges = {calls:,} judge calls, {args.shards} shards "
              f"as {args.shards} processes, {args.latency_ms:.0f} ms per call, cache on "
              f"Redis ({redis.url}); {os.cpu_count()} cores")  # fmt: skip
        wall, shards = shard_pass(project, args.shards, env)
        for r in shards:
            print(f"  {r['command']:<60} exit {r['exit']}  {r['wall_s']:6.1f} s  "
                  f"{r['max_rss_mb']:6.0f} MB")  # fmt: skip
            if r["exit"] not in (0, 1):
                print(r["tail"])
        print(f"shards: {wall:.1f} s wall, {calls / wall:,.0f} judge calls/s")
        folders = sorted(p for p in (project / "reports").iterdir() if p.is_dir())
        merge_start = time.perf_counter()
        (merge,) = run_many(
            [[sys.executable, "-m", "evalkit.cli", "merge", *map(str, folders), "-o",
              str(project / "merged")]],
            project, env,
        )  # fmt: skip
        merge_s = time.perf_counter() - merge_start
        print(f"merge: exit {merge['exit']}, {merge_s:.1f} s wall, {merge['max_rss_mb']:.0f} MB")
        if merge["exit"] not in (0, 1):
            print(merge["tail"])
            return 1
        merged = project / "merged"
        report = merged / "report.html"
        figures = check(merged, args.items)
        print(f"merged: {figures['rows']:,} judgment rows ({figures['ok_rows']:,} ok) over "
              f"{figures['items']:,} items; duplicated rows {figures['duplicated']}, missing "
              f"items {figures['missing_items']}; report {report.stat().st_size / 1e6:.1f} MB, "
              f"judgments {(merged / 'judgments.jsonl').stat().st_size / 1e6:.1f} MB")  # fmt: skip
        if args.rerun:
            rewall, _ = shard_pass(project, args.shards, env)
            print(f"rerun of the {args.shards} shards on the warm Redis cache: {rewall:.1f} s")
    finally:
        provider.stdin.close()
        served = int(provider.stdout.readline() or 0)
        provider.wait(timeout=30)
        redis.stop()
    print(f"provider served {served:,} requests for {calls:,} judge calls "
          f"({'exactly one each' if served == calls else 'MISMATCH'})")  # fmt: skip
    lost = figures["missing_items"] or figures["duplicated"] or figures["rows"] != calls
    return 1 if lost or served != calls else 0


if __name__ == "__main__":
    raise SystemExit(main())
