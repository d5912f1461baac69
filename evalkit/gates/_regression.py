"""The gate against the last accepted run: no significant regression on the shared items.

Each item's panel verdict is scored 1 (candidate won), 0.5 (tie) or 0 (baseline won); in a
scored suite (pointwise, reference) an item's figure is the candidate's panel score instead. On
the items both runs judged, the paired difference ``now - accepted`` is averaged and given a
bootstrap interval over items (percentile, seeded); the gate fails only when the whole interval
lies below ``-margin``, passes when it lies at or above it. For verdicts, an exact McNemar test
on the items whose win/not-win outcome changed is reported beside it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Final

import numpy as np
import pandas as pd

from evalkit.gates._gates import GateInputs, GateResult, decide, name_gate

_SCORE: Final = {"candidate": 1.0, "tie": 0.5, "baseline": 0.0}


def is_scored(panel: pd.DataFrame) -> bool:
    """Whether ``panel`` holds scores (a scored suite) rather than verdicts."""
    if "score" not in panel.columns:
        return False
    return "verdict" not in panel.columns or not panel["verdict"].notna().any()


def item_scores(panel: pd.DataFrame, candidate: str | None = None) -> pd.Series:
    """Each non-abstained item's figure, indexed by item id.

    Verdicts score 1 (win), 0.5 (tie) or 0 (loss). A scored panel gives the panel score of
    ``candidate``'s answer (every row's score when ``candidate`` is None or the panel does not
    name the scored model).
    """
    kept = panel.loc[~panel["abstained"].astype(bool)]
    if is_scored(panel):
        if candidate is not None and "candidate" in kept.columns:
            kept = kept.loc[kept["candidate"] == candidate]
        kept = kept.loc[kept["score"].notna()]
        return kept.groupby("item_id", sort=True)["score"].mean().astype(float)
    kept = kept.loc[kept["verdict"].notna()]
    return kept.set_index("item_id")["verdict"].map(_SCORE).astype(float)


def paired_bootstrap(
    diff: np.ndarray, *, confidence: float, seed: int, n_boot: int = 2000
) -> tuple[float, float, float]:
    """Mean of ``diff`` and its percentile bootstrap interval over items (vectorised).

    >>> paired_bootstrap(np.zeros(30), confidence=0.95, seed=0)
    (0.0, 0.0, 0.0)
    """
    if diff.size == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diff.size, size=(n_boot, diff.size))
    means = diff[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(diff.mean()), float(low), float(high)


def mcnemar_p(now_win: np.ndarray, before_win: np.ndarray) -> float:
    """Exact two-sided McNemar p-value on paired binary outcomes (1.0 with no discordance)."""
    gained = int(np.sum(now_win & ~before_win))
    lost = int(np.sum(~now_win & before_win))
    if gained + lost == 0:
        return 1.0
    from scipy import stats  # on first use: it adds half a second to importing evalkit

    return float(stats.binomtest(gained, gained + lost, 0.5).pvalue)


@dataclasses.dataclass(frozen=True, slots=True)
class NoRegression:
    """The candidate must not do significantly worse than in the last accepted run.

    ``margin`` is the tolerated drop in mean item score (0 = any significant drop fails), in
    score points on a scored suite.
    """

    margin: float = 0.0
    min_items: int = 20

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "no_regression")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from this run's and the accepted run's panel verdicts."""
        threshold = -self.margin
        if inputs.accepted is None:
            return GateResult(
                self.name, "inconclusive", math.nan, math.nan, math.nan, 0, threshold,
                "no accepted run to compare with; record one with --evalkit-accept",
            )  # fmt: skip
        now = item_scores(inputs.panel, inputs.candidate)
        before = item_scores(inputs.accepted)
        shared = now.index.intersection(before.index)
        a, b = now.loc[shared].to_numpy(), before.loc[shared].to_numpy()
        mean, low, high = paired_bootstrap(a - b, confidence=inputs.confidence, seed=inputs.seed)
        outcome = decide(low, high, threshold, n=len(shared), min_items=self.min_items)
        if is_scored(inputs.panel):
            # Scores have no win/not-win outcome for McNemar: the interval alone decides.
            what, test = "mean panel score of the candidate", ""
        else:
            what, test = "mean item score", f"; McNemar p={mcnemar_p(a == 1.0, b == 1.0):.3g}"
        message = (
            f"{what} changed by {mean:+.3f} [{low:+.3f}, {high:+.3f}] on "
            f"{len(shared)} shared items (paired bootstrap){test}; "
            f"fails only if the whole interval is below {threshold:+.3f}"
        )
        return GateResult(self.name, outcome, mean, low, high, len(shared), threshold, message)
