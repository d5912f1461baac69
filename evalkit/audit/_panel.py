"""The candidate's win rate over the panel's verdicts.

The verdicts themselves come from :mod:`evalkit.panel` (one rule for the whole run); this
module only counts them, with an interval.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from evalkit.audit._intervals import Interval, finite_or_none, wilson_interval
from evalkit.errors import UsageError
from evalkit.records._judgments import VERDICTS


@dataclasses.dataclass(frozen=True, slots=True)
class WinRateEstimate:
    """The candidate's win rate over the items the panel decided.

    ``rate = (wins + ties/2) / n`` with ``n = wins + losses + ties`` (abstained items are
    reported but not in n). ``interval`` is a Wilson interval on ``wins + ties/2`` successes out
    of n: counting a tie as half a win is the usual convention for pairwise win rates, and since
    a {0, ½, 1} outcome has variance at most p(1-p), the interval errs on the wide side.
    ``standard_error`` is the standard error of the mean of those {0, ½, 1} outcomes
    (sample standard deviation / √n, NaN below two items): the figure leaderboards such as
    AlpacaEval print beside a win rate.
    """

    wins: int
    losses: int
    ties: int
    abstained: int
    n: int
    rate: float
    interval: Interval
    standard_error: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; NaN becomes None."""
        return {
            "wins": self.wins,
            "losses": self.losses,
            "ties": self.ties,
            "abstained": self.abstained,
            "n": self.n,
            "rate": finite_or_none(self.rate),
            "interval": self.interval.to_dict(),
            "standard_error": finite_or_none(self.standard_error),
        }


def standard_error(wins: int, losses: int, ties: int) -> float:
    """Standard error of the win rate, each item's outcome 1 (won), ½ (tied) or 0 (lost).

    ``sd / √n`` with the sample standard deviation (n - 1), as ``pandas.Series.sem`` gives it;
    NaN with fewer than two items.

    >>> round(standard_error(wins=2, losses=1, ties=1), 4)
    0.2394
    """
    n = wins + losses + ties
    if n < 2:
        return math.nan
    mean = (wins + ties / 2.0) / n
    squares = wins * (1.0 - mean) ** 2 + ties * (0.5 - mean) ** 2 + losses * mean**2
    return math.sqrt(squares / (n - 1) / n)


def win_rate(panel: pd.DataFrame, confidence: float = 0.95) -> WinRateEstimate:
    """Count the panel's verdicts (:func:`evalkit.panel.item_verdicts`) into an estimate.

    Raises:
        UsageError: ``panel`` lacks the verdict or abstained column.
    """
    if not {"verdict", "abstained"} <= set(panel.columns):
        raise UsageError(
            "win_rate needs panel verdicts (columns verdict, abstained): see evalkit.panel"
        )
    decided = panel.loc[~panel["abstained"].astype(bool), "verdict"]
    wins, losses, ties = (int((decided == label).sum()) for label in VERDICTS)
    n = wins + losses + ties
    interval = wilson_interval(wins + ties / 2.0, n, confidence)
    return WinRateEstimate(
        standard_error=standard_error(wins, losses, ties),
        wins=wins,
        losses=losses,
        ties=ties,
        abstained=int(len(panel) - len(decided)),
        n=n,
        rate=interval.estimate,
        interval=interval,
    )
