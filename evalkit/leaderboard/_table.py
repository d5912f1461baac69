"""The leaderboard of a judgments table: the panel's item verdicts, then the ratings."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evalkit.leaderboard._comparisons import comparisons
from evalkit.leaderboard._fit import DEFAULT_PRIOR, fit_leaderboard
from evalkit.leaderboard._result import Leaderboard
from evalkit.panel import PanelRule


def leaderboard(
    table: pd.DataFrame,
    rule: PanelRule | None = None,
    *,
    baseline: str | None = None,
    judge_weights: Mapping[str, float] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    prior: float = DEFAULT_PRIOR,
    length_control: bool = True,
) -> Leaderboard:
    """Rank every model of a pairwise judgments table against the baseline.

    Each (candidate, baseline) pair's item verdicts come from the panel under ``rule`` (the
    suite's :class:`~evalkit.panel.PanelRule`; ``judge_weights`` for a ``weighted`` rule);
    a tie counts half a win. The ratings are Bradley-Terry strengths on the Elo scale with the
    baseline at 1000 and 400/ln 10 points per logit, as arena-hard reports them, with
    percentile bootstrap intervals from ``n_boot`` resamples of the items (``seed``), the win
    rate against the baseline that they imply, and, when the table records answer lengths
    and ``length_control`` is on, length-controlled ratings (the rating at equal length).
    ``prior`` is the precision of a Gaussian prior on each strength in logits, which keeps the
    rating of a model that won or lost everything finite (such a model is noted). ``baseline``
    defaults to the one model never judged as the candidate.

    Raises:
        UsageError: the table has no pairwise judge rows, the baseline is unknown or cannot
            be told, or an argument is out of range (see :func:`fit_leaderboard`).
    """
    return fit_leaderboard(
        comparisons(table, rule, judge_weights),
        baseline,
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
        prior=prior,
        length_control=length_control,
    )
