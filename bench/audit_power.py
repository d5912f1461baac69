"""Power, false alarms and speed of the bias auditor on simulated judges, over many seeds.

    python bench/audit_power.py --seeds 500

The default test run checks the same thing on 100 seeds (tests/test_audit_power.py); this script
measures it more precisely and times the audit. Panel: judge-alpha, judge-beta, judge-gamma of
three families; candidate from alpha, baseline from beta; 300 items in both orders; a judge is
flagged when its test gives p < 0.01.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evalkit.audit import position_bias, run_audit, self_preference, verbosity_bias
from evalkit.testing import simulate_judgments
from evalkit.testing._tables import panel_of_three

JUDGES = ["judge-alpha", "judge-beta", "judge-gamma"]
SCENARIOS = {
    "position": (position_bias, "first_position_rate", {"first_position": 0.65}),
    "self-preference": (
        lambda t: self_preference(t, n_boot=0),
        "self_preference",
        {"self_preference": 1.0},
    ),
    "verbosity": (verbosity_bias, "odds_ratio", {"verbosity": 0.5}),
}


def run(statistic, column, bias, seeds, n_items):
    p, est = [], []
    for seed in seeds:
        frame = statistic(simulate_judgments(panel_of_three(**bias), n_items=n_items, seed=seed))
        frame = frame.set_index("judge").reindex(JUDGES)
        p.append(frame["p_value"].to_numpy(float))
        est.append(frame[column].to_numpy(float))
    return np.array(p), np.array(est)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    seeds = range(args.seeds)
    rows = []
    for name, (statistic, column, bias) in SCENARIOS.items():
        start = time.perf_counter()
        p, est = run(statistic, column, bias, seeds, args.items)
        p0, _ = run(statistic, column, {}, seeds, args.items)
        seconds = time.perf_counter() - start
        flagged, flagged0 = np.nan_to_num(p, nan=1) < 0.01, np.nan_to_num(p0, nan=1) < 0.01
        rows.append(
            {
                "bias": name,
                "power (biased judge)": flagged[:, 0].mean(),
                "others flagged": flagged[:, 1:].mean(),
                "false alarm (any judge, no bias)": flagged0.any(axis=1).mean(),
                "estimate mean": est[:, 0].mean(),
                "estimate sd": est[:, 0].std(),
                "ms per seed and statistic": 1000 * seconds / (2 * args.seeds),
            }
        )
    print(f"{args.seeds} seeds, {args.items} items, 3 judges, flag at p < 0.01")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    table = simulate_judgments(panel_of_three(), n_items=args.items, seed=0, human_labels=True)
    start = time.perf_counter()
    run_audit(table, n_boot=1000)
    print(
        f"run_audit, {len(table)} rows, 1000 bootstrap resamples: "
        f"{time.perf_counter() - start:.2f} s"
    )


if __name__ == "__main__":
    main()
