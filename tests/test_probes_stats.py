"""Probe statistics: against a hand computation, and over many seeds of simulated judges."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evalkit.audit._intervals import wilson_bounds
from evalkit.audit._reliability import CHECK_COLUMNS as AUDIT_CHECK_COLUMNS
from evalkit.config import ReliabilityThresholds
from evalkit.probes import PROBE_COLUMNS
from evalkit.probes._edits import UNEDITED
from evalkit.probes._stats import CHECK_COLUMNS, probe_checks, probe_stats
from evalkit.testing import JudgeParams, simulate_probes

PROBES = ["verbosity", "authority", "bandwagon", "distraction", "identity", "refinement", "tone"]


def _table(rows: list[tuple[str, str, str, str, str, str]]) -> pd.DataFrame:
    """Rows of (item, probe, order, target, verdict, status) of judge ``j``."""
    out = [
        {c: None for c in PROBE_COLUMNS}
        | {"run_id": "r", "suite": "s", "item_id": i, "probe": p, "kind": "probe", "judge": "j",
           "judge_family": "f", "order": o, "sample": 0, "target": t, "verdict": v, "status": st}
        for i, p, o, t, v, st in rows
    ]  # fmt: skip
    return pd.DataFrame(out, columns=list(PROBE_COLUMNS))


HAND = _table([
    ("i1", UNEDITED, "AB", "a", "a", "ok"), ("i1", UNEDITED, "BA", "a", "a", "ok"),
    ("i2", UNEDITED, "AB", "a", "b", "ok"), ("i2", UNEDITED, "BA", "a", "a", "ok"),
    ("i1", "tone", "AB", "b", "b", "ok"),    # a -> b: toward the target
    ("i1", "tone", "BA", "b", "a", "ok"),    # unchanged
    ("i2", "tone", "AB", "a", "tie", "ok"),  # b -> tie: toward the target a
    ("i2", "tone", "BA", "a", "b", "ok"),    # a -> b: away
    ("i3", "tone", "AB", "a", None, "failed"),  # no verdict, and no unedited one: left out
])  # fmt: skip


def test_statistics_against_a_hand_computation() -> None:
    row = probe_stats(HAND, n_boot=2000).iloc[0]
    assert (row["judge"], row["probe"], row["n"], row["n_items"]) == ("j", "tone", 4, 2)
    assert row["robustness"] == 0.25  # 1 of 4 verdicts unchanged
    _, low, high = wilson_bounds(1, 4)
    assert (row["robustness_low"], row["robustness_high"]) == pytest.approx(
        (float(low), float(high))
    )
    assert (row["n_toward"], row["n_away"], row["shift"]) == (2, 1, 0.25)  # (2 - 1) / 4
    # Items resampled: i1 moves +1 of 2, i2 moves 0 of 2: replicates 0, 0.25 or 0.5.
    assert (row["shift_low"], row["shift_high"]) == (0.0, 0.5)
    assert (row["swap_agreement"], row["n_swap"]) == (0.5, 2)  # i1 agrees, i2 does not
    pooled = 2 / 6
    z = (0.25 - 0.5) / math.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 2))
    assert z == pytest.approx(-0.6124, abs=1e-4)
    assert row["p_value"] == pytest.approx(0.2701, abs=1e-4)  # Φ(z)
    assert not row["flagged"]


def test_check_rows_match_the_audits_columns_and_statuses() -> None:
    assert CHECK_COLUMNS == AUDIT_CHECK_COLUMNS
    stats = probe_stats(HAND)
    few = probe_checks(stats, ReliabilityThresholds())
    assert list(few.columns) == list(CHECK_COLUMNS)
    assert few.iloc[0][["check", "status"]].tolist() == ["probe:tone", "not measured"]
    t = ReliabilityThresholds(min_probe_verdicts=4)
    assert probe_checks(stats, t).iloc[0]["status"] == "ok"
    flagged = stats.assign(flagged=True)
    assert probe_checks(flagged, t).iloc[0]["status"] == "questionable"  # [0, 0.5] reaches 0.1
    assert probe_checks(flagged.assign(shift_low=0.2), t).iloc[0]["status"] == "untrusted"
    assert probe_checks(stats, ReliabilityThresholds(max_probe_shift=None)).empty


def _flag_rates(judges: list[JudgeParams], n_items: int) -> dict[str, float]:
    tables = [
        simulate_probes([j], probes=PROBES, n_items=n_items, seed=s) for s, j in enumerate(judges)
    ]
    stats = probe_stats(pd.concat(tables, ignore_index=True), n_boot=400)
    assert len(stats) == len(judges) * len(PROBES)
    return {str(k): float(v) for k, v in stats.groupby("probe")["flagged"].mean().items()}


SEEDS = 200


def test_a_bandwagon_follower_is_flagged_on_bandwagon_only() -> None:
    """A judge following bandwagon notes 70 % of the time, 30 items: flagged in >= 95 % of seeds
    on bandwagon, and in <= 5 % on each other probe (it is given no other cue)."""
    judges = [
        JudgeParams(name=f"j{s}", follows=(("bandwagon", 0.7),), tie_rate=0.05, seed=s)
        for s in range(SEEDS)
    ]
    rates = _flag_rates(judges, n_items=30)
    assert rates.pop("bandwagon") >= 0.95
    assert max(rates.values()) <= 0.05, rates


def test_a_noisy_position_biased_judge_is_not_flagged() -> None:
    """Noise and position bias move verdicts between orders, not toward an edit: no probe is
    flagged in more than 5 % of seeds (the robustness rate is compared with the swap noise)."""
    judges = [
        JudgeParams(name=f"j{s}", position_bias=0.7, noise=0.4, tie_rate=0.2, seed=s)
        for s in range(SEEDS)
    ]
    rates = _flag_rates(judges, n_items=30)
    assert max(rates.values()) <= 0.05, rates


def test_follow_rates_are_validated() -> None:
    with pytest.raises(ValueError, match=r"follows\['bandwagon'\] must be in \[0, 1\]"):
        JudgeParams(follows=(("bandwagon", 1.5),))
    assert np.isclose(JudgeParams(follows=(("tone", 0.3),)).follow_rate("tone"), 0.3)
