"""Benchmark: `evalkit audit FILE` on a large judge log, wall time and peak memory.

    python bench/audit_log.py                 # 100,000 rows: 5 judges x 10,000 items x 2 orders
    python bench/audit_log.py --items 100000  # 1,000,000 rows

Writes a seeded log (Parquet by default, with a long text column the audit does not need),
then runs the real command in a fresh process (`python -m evalkit.cli audit FILE -o ...`,
1,000 bootstrap resamples), best of --repeat runs, and reports its wall and CPU time and peak
RSS. Targets (issue #15): 100,000 rows in < 10 s and < 1 GB;
1,000,000 rows in < 60 s.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FAMILIES = ("openai", "anthropic", "google", "meta", "mistral")


def make_log(n_items: int, n_judges: int = 5, seed: int = 0) -> pd.DataFrame:
    """A seeded pairwise judge log: every judge, every item, both orders; some human labels.

    Judges differ in position bias (judge k picks the answer shown first with an extra
    probability 0.05 k), so the audit has something to find.
    """
    rng = np.random.default_rng(seed)
    quality = rng.normal(0.0, 1.0, n_items)  # > 0: the candidate is better
    len_c = rng.integers(20, 600, n_items)
    len_b = rng.integers(20, 600, n_items)
    human = np.where(quality > 0.3, "candidate", np.where(quality < -0.3, "baseline", "tie"))
    labelled = rng.random(n_items) < 0.2
    parts = []
    for k in range(n_judges):
        for order in ("AB", "BA"):
            noise = rng.normal(0.0, 0.8, n_items)
            first_bias = 0.05 * k * (1 if order == "AB" else -1)
            p = 1 / (1 + np.exp(-(quality + noise))) + first_bias
            u = rng.random(n_items)
            verdict = np.where(u < p - 0.1, "candidate", np.where(u > p + 0.1, "baseline", "tie"))
            parts.append(
                pd.DataFrame(
                    {
                        "suite": "bench",
                        "item_id": [f"q{i}" for i in range(n_items)],
                        "mode": "pairwise",
                        "candidate": "model-c",
                        "candidate_family": "openai",
                        "baseline": "model-b",
                        "baseline_family": "meta",
                        "judge": f"judge-{k}",
                        "judge_family": FAMILIES[k % len(FAMILIES)],
                        "order": order,
                        "sample": 0,
                        "verdict": verdict,
                        "parse_ok": True,
                        "human_label": np.where(labelled, human, None),
                        "len_candidate": len_c,
                        "len_baseline": len_b,
                        "raw_output": "The first answer is more complete. " * 12,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--judges", type=int, default=5)
    parser.add_argument("--format", choices=("parquet", "jsonl", "csv"), default="parquet")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log.{args.format}"
        log = make_log(args.items, args.judges)
        if args.format == "parquet":
            log.to_parquet(path)
        elif args.format == "csv":
            log.to_csv(path, index=False)
        else:
            log.to_json(path, orient="records", lines=True)
        rows = len(log)
        del log
        size = path.stat().st_size / 1e6
        runs = []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "evalkit.cli", "audit", str(path),
                 "-o", str(Path(tmp) / "a.json")],
                capture_output=True, text=True,
            )  # fmt: skip
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            runs.append((wall, cpu))
        # ru_maxrss of children is the largest child's peak: every run reads the same file.
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(done.stdout)
    wall, cpu = min(runs)
    print(
        f"{rows:,} rows ({args.format}, {size:.1f} MB): best of {len(runs)} {wall:.2f} s wall "
        f"({cpu:.2f} s CPU), median {sorted(r[0] for r in runs)[len(runs) // 2]:.2f} s; "
        f"{peak:.0f} MB peak RSS"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
