"""The leaderboard's lines in the terminal summary: a pure formatting of the run record."""

from __future__ import annotations

from evalkit.records._run import LeaderboardRecord, StandingRecord

#: Widths of the rating, win-rate and length-controlled columns (their headers' lengths).
_RATING, _RATE = 17, 20
_FIGURES = _RATING + 2 + _RATE + 2 + _RATING


def _rating(value: float | None, low: float | None, high: float | None) -> str:
    if value is None or low is None or high is None:
        return f"{'n/a':<{_RATING}}"
    return f"{value:4.0f} [{low:4.0f}, {high:4.0f}]"


def _rate(value: float | None, low: float | None, high: float | None) -> str:
    if value is None or low is None or high is None:
        return f"{'n/a':<{_RATE}}"
    return f"{value:5.1%} [{low:5.1%}, {high:5.1%}]"


def _row(s: StandingRecord, width: int, baseline: str) -> str:
    rank = f"{s.rank:>4}" if s.rank is not None else "   -"
    if s.is_baseline:
        anchor = "1000 (baseline)"
        figures = f"{anchor:<{_RATING}}  {'':<{_RATE}}  {anchor:<{_RATING}}"
    elif s.rank is None:
        figures = f"{'cannot be ranked against ' + baseline:<{_FIGURES}}"
    else:
        figures = (
            f"{_rating(s.rating, s.low, s.high)}  {_rate(s.win_rate, s.win_low, s.win_high)}  "
            f"{_rating(s.lc_rating, s.lc_low, s.lc_high)}"
        )
    return f"  {rank}  {s.model:<{width}}  {figures}  {s.items:>5}"


def leaderboard_lines(board: LeaderboardRecord) -> list[str]:
    """The leaderboard as aligned lines: rank, model, rating, win rate, length-controlled.

    >>> from evalkit.records._run import StandingRecord
    >>> def standing(model, rank, rating, base=False):
    ...     return StandingRecord(model=model, rank=rank, is_baseline=base, rating=rating,
    ...         low=rating - 20, high=rating + 20, win_rate=0.6, win_low=0.5, win_high=0.7,
    ...         lc_rating=rating, lc_low=rating - 25, lc_high=rating + 25, items=50,
    ...         comparisons=50)
    >>> board = LeaderboardRecord(baseline="base", n_items=50, n_comparisons=100,
    ...     n_abstained=0, confidence=0.95, n_boot=1000, seed=0, prior=0.01,
    ...     standings=[standing("good", 1, 1070.0), standing("base", 2, 1000.0, True)],
    ...     notes=["ranks 1 and 2 are not separated: their intervals overlap"])
    >>> for line in leaderboard_lines(board):
    ...     print(line)
      leaderboard (Elo scale, base = 1000; 95% intervals over 50 items):
      rank  model  rating [interval]  win rate vs baseline  length-controlled  items
         1  good   1070 [1050, 1090]  60.0% [50.0%, 70.0%]  1070 [1045, 1095]     50
         2  base   1000 (baseline)                          1000 (baseline)       50
      note: ranks 1 and 2 are not separated: their intervals overlap
    """
    width = max(5, *(len(s.model) for s in board.standings))
    lines = [
        f"  leaderboard (Elo scale, {board.baseline} = 1000; {board.confidence:.0%} intervals "
        f"over {board.n_items} items):",
        f"  rank  {'model':<{width}}  rating [interval]  win rate vs baseline  "
        "length-controlled  items",
    ]
    lines += [_row(s, width, board.baseline) for s in board.standings]
    lines += [f"  note: {note}" for note in board.notes]
    return lines
