"""Benchmark: the leaderboard of 10 models x 2,000 items, both orders, 1,000 bootstrap resamples.

Builds a pairwise judgments table (seeded) in which 9 candidates are each judged against the
baseline on 2,000 items by 3 judges in both orders (108,000 rows; with --round-robin every
pair of the 10 models, 540,000 rows), then times, on 2 cores:

- the panel's item verdicts of every pair (``comparisons``: one ``item_verdicts`` per pair);
- the fit with 1,000 bootstrap resamples, plain and length-controlled (``fit_leaderboard``);

and prints the peak RSS of the process (which includes building the table).

    python bench/leaderboard.py [--items 2000] [--models 10] [--boot 1000] [--round-robin]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pandas as pd

from evalkit.leaderboard._comparisons import comparisons
from evalkit.leaderboard._fit import SCALE, fit_leaderboard

JUDGES = (("judge-a", "fam-a"), ("judge-b", "fam-b"), ("judge-c", "fam-c"))


def table(
    n_models: int, n_items: int, round_robin: bool, seed: int
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Judgments of every pair (candidate vs baseline, or all pairs) by three noisy judges."""
    rng = np.random.default_rng(seed)
    names = ["base", *(f"model-{k}" for k in range(1, n_models))]
    strength = dict(zip(names, [0.0, *rng.normal(0.0, 0.6, n_models - 1)], strict=True))
    pairs = (
        [(a, b) for i, a in enumerate(names) for b in names[i + 1 :] if a != "base"]
        + [(a, "base") for a in names[1:]]
        if round_robin
        else [(a, "base") for a in names[1:]]
    )
    lengths = {m: rng.integers(50, 600, n_items) for m in names}
    item = np.repeat(np.arange(n_items), len(JUDGES) * 2)
    judge = np.tile(np.repeat(np.arange(len(JUDGES)), 2), n_items)
    order = np.tile(np.array(["AB", "BA"]), n_items * len(JUDGES))
    frames = []
    for a, b in pairs:
        # An item-level latent plus judge noise: the judges agree more often than chance.
        latent = strength[a] - strength[b] + rng.normal(0.0, 1.0, n_items)
        noise = rng.normal(0.0, 0.7, len(item))
        score = latent[item] + noise
        verdict = np.where(score > 0.35, "candidate", np.where(score < -0.35, "baseline", "tie"))
        frames.append(
            pd.DataFrame(
                {
                    "run_id": "bench", "suite": "bench", "item_id": item.astype(str),
                    "mode": "pairwise", "candidate": a, "baseline": b,
                    "judge": np.array([j for j, _ in JUDGES])[judge],
                    "judge_family": np.array([f for _, f in JUDGES])[judge],
                    "order": order, "sample": 0, "verdict": verdict, "parse_ok": True,
                    "error": None, "len_candidate": lengths[a][item],
                    "len_baseline": lengths[b][item],
                }
            )
        )  # fmt: skip
    return pd.concat(frames, ignore_index=True), strength


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--round-robin", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    judgments, strength = table(args.models, args.items, args.round_robin, args.seed)
    print(f"{len(judgments):,} judgment rows, {args.models} models, {args.items:,} items")
    # Wall time, and CPU time beside it: on a shared machine the wall time swings with load.
    wall, cpu = time.perf_counter(), time.process_time()
    comps = comparisons(judgments)
    panel = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    board = fit_leaderboard(comps, "base", n_boot=args.boot, seed=args.seed)
    both = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    fit_leaderboard(comps, "base", n_boot=args.boot, seed=args.seed, length_control=False)
    plain = (time.perf_counter() - wall, time.process_time() - cpu)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"panel item verdicts ({len(comps):,} comparisons): {panel[0]:.2f} s ({panel[1]:.2f} s CPU)"
    )
    print(
        f"fit + {args.boot} resamples, plain and length-controlled: {both[0]:.2f} s "
        f"({both[1]:.2f} s CPU)"
    )
    print(f"fit + {args.boot} resamples, plain only: {plain[0]:.2f} s ({plain[1]:.2f} s CPU)")
    print(f"peak RSS: {peak_mb:.0f} MB")
    for s in board.standings:
        print(
            f"  {s.rank!s:>2} {s.model:<9} {s.rating:7.1f} [{s.low:7.1f}, {s.high:7.1f}]"
            f"  lc {s.lc_rating:7.1f}  (simulated latent {1000 + SCALE * strength[s.model]:7.1f})"
        )
    for note in board.notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    sys.exit(main())
