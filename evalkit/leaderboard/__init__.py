"""The leaderboard: Bradley-Terry ratings of several candidates, from the panel's verdicts.

Pure functions of a pairwise judgments table in which several candidate models were each
judged against the baseline (and optionally against each other, round-robin). Item verdicts
come from :mod:`evalkit.panel` under the suite's rule; a tie is half a win.

- :func:`leaderboard` — the whole computation, returning a :class:`Leaderboard`: one
  :class:`Standing` per model with its rating (Elo scale, the baseline at 1000) and bootstrap
  interval, the implied win rate against the baseline, the length-controlled rating, and
  notes on what the data cannot say (models that cannot be ranked against the baseline,
  neighbours whose intervals overlap, models that won or lost everything).
"""

from evalkit.leaderboard._result import Leaderboard, Standing
from evalkit.leaderboard._table import leaderboard

__all__ = ["Leaderboard", "Standing", "leaderboard"]
