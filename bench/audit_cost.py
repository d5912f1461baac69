"""Benchmark: what the audit of a suite's judgments table costs, beside the judge calls it audits.

The session audits each suite's table once (``run_audit`` with the run's defaults: 1,000
bootstrap resamples, the panel's rule) and measures position bias beside it; this times exactly
those two calls on seeded simulated tables (``tests/audit_sim.py``) of two shapes:

- ``bench``: the peers bench's workload, one judge scoring each item once (one call per item);
- ``panel``: three judges of three families judging each pair in both orders (six per item);

each at 200 and 10,000 items (``--items``), best of ``--repeat``. ``--table FILE`` adds a
recorded judgments table (a run folder or a ``judgments.jsonl``, e.g. from the peers bench).

The budget: the judge calls the audit follows, at ``--latency`` s each and ``--concurrency``
in flight (10,000 items x 0.2 s / 32 = 62.5 s for ``bench``); the audit must cost less.

    python bench/audit_cost.py [--items 200 10000] [--repeat 3] [--table RUN_DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the audit's seeded table simulator

from audit_sim import SimJudge, panel_of_three, simulate_pairwise, simulate_pointwise  # noqa: E402

from evalkit.audit import position_bias, run_audit  # noqa: E402
from evalkit.panel import PanelRule  # noqa: E402
from evalkit.records import read_judgments  # noqa: E402


def bench_table(n_items: int) -> pd.DataFrame:
    """One judge, one score per item: the peers bench's shape."""
    return simulate_pointwise([SimJudge("judge-a", "beta")], n_items=n_items, option_orders=False)


def panel_table(n_items: int) -> pd.DataFrame:
    """Three judges of three families, every pair in both orders."""
    return simulate_pairwise(panel_of_three(first_position=0.6), n_items=n_items)


SHAPES: dict[str, Callable[[int], pd.DataFrame]] = {"bench": bench_table, "panel": panel_table}


def audit_once(table: pd.DataFrame, rule: PanelRule) -> float:
    """Seconds for the session's audit of ``table``: ``run_audit`` and ``position_bias``."""
    start = time.perf_counter()
    report = run_audit(table, rule=rule)
    position_bias(table)
    elapsed = time.perf_counter() - start
    assert len(report.judges), "the audit saw no judge"
    return elapsed


def measure(
    label: str, table: pd.DataFrame, rule: PanelRule, args: argparse.Namespace
) -> tuple[float, float]:
    """Time the audit of ``table`` (best of ``args.repeat``); print and return (audit, calls) s."""
    items = table["item_id"].nunique()
    calls = len(table)
    times = [audit_once(table, rule) for _ in range(args.repeat)]
    budget = calls * args.latency / args.concurrency
    best = min(times)
    print(
        f"{label:<22} {items:>6} items {calls:>6} judge calls: audit best {best:7.3f} s "
        f"(runs {', '.join(f'{t:.3f}' for t in times)}); judge calls at "
        f"{args.latency * 1000:.0f} ms / {args.concurrency} in flight {budget:7.2f} s; "
        f"audit / calls {best / budget:.3f}"
    )
    return best, budget


def main() -> int:
    """Run the benchmark; exit 1 if an audit costs as much as the calls it audits."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[200, 10_000])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=sorted(SHAPES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--table", type=Path, help="also audit this recorded judgments table")
    args = parser.parse_args()

    print("audit = run_audit (1,000 bootstrap resamples, seeded) + position_bias, as the session")
    # The first audit in a process imports scipy and statsmodels; a run pays that once, in
    # its imports, so it is timed apart from the audits.
    start = time.perf_counter()
    for shape, make in SHAPES.items():
        audit_once(make(20), PanelRule(aggregation="mean") if shape == "bench" else PanelRule())
    print(f"first audit in the process (its imports): {time.perf_counter() - start:.2f} s")
    ok = True
    for shape in args.shapes:
        # Scores aggregate by mean, verdicts by majority; the quorum is the panel's majority.
        rule = PanelRule(aggregation="mean") if shape == "bench" else PanelRule(quorum=2)
        for n in args.items:
            audit_s, calls_s = measure(f"{shape}", SHAPES[shape](n), rule, args)
            ok = ok and audit_s < calls_s
    if args.table is not None:
        table = read_judgments(args.table)
        scored = table["mode"].iloc[0] != "pairwise"
        rule = PanelRule(aggregation="median") if scored else PanelRule()
        audit_s, calls_s = measure(f"table {args.table.name}", table, rule, args)
        ok = ok and audit_s < calls_s
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
