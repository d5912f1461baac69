"""The leaderboard as values: one :class:`Standing` per model, and the notes that go with it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

#: Why a model's rating rests on the prior rather than on the data alone.
Record = Literal["won every comparison", "lost every comparison"]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclasses.dataclass(frozen=True, slots=True)
class Standing:
    """One model's place on the leaderboard.

    ``rating`` is on the Elo scale (the baseline at 1000, 400/ln 10 points per logit of
    strength); ``win_rate`` is the chance of beating the baseline that the ratings imply (a tie
    counting half); ``lc_rating`` is the length-controlled rating (see
    :func:`evalkit.leaderboard.leaderboard`). Each has a percentile bootstrap interval over
    items (``*_low``, ``*_high``). Every figure is NaN when the model cannot be ranked against
    the baseline (``rank`` is then None). ``items`` counts the items on which the model was
    compared with a panel verdict, ``comparisons`` those verdicts (an item can compare a model
    with several others). The baseline's rating is fixed by definition: its interval is a point.
    """

    model: str
    rank: int | None
    is_baseline: bool
    rating: float
    low: float
    high: float
    win_rate: float
    win_low: float
    win_high: float
    lc_rating: float
    lc_low: float
    lc_high: float
    items: int
    comparisons: int
    record: Record | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; NaN becomes None."""
        out = dataclasses.asdict(self)
        return {k: _finite(v) if isinstance(v, float) else v for k, v in out.items()}


@dataclasses.dataclass(frozen=True, slots=True)
class Leaderboard:
    """Bradley-Terry ratings of every model of a pairwise table, anchored at the baseline.

    ``standings`` are in rank order (best first), the models that cannot be ranked last.
    ``unranked`` lists the groups of models with no chain of comparisons to the baseline;
    ``unseparated`` the runs of consecutive ranks whose rating intervals overlap (the data do
    not order them). ``length_coef`` is the length-controlled model's coefficient of the
    normalised length difference (logits per unit; positive: the longer answer is favoured),
    with its interval; NaN when no lengths were recorded. ``notes`` say all of it in words.
    """

    baseline: str
    standings: tuple[Standing, ...]
    n_items: int
    n_comparisons: int
    n_abstained: int
    confidence: float
    n_boot: int
    seed: int
    prior: float
    length_coef: float
    length_low: float
    length_high: float
    unranked: tuple[tuple[str, ...], ...]
    unseparated: tuple[tuple[int, ...], ...]
    notes: tuple[str, ...]

    def standing(self, model: str) -> Standing:
        """The standing of ``model``.

        Raises:
            KeyError: no such model on the leaderboard.
        """
        for s in self.standings:
            if s.model == model:
                return s
        raise KeyError(model)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (what run.json records); NaN becomes None."""
        return {
            "baseline": self.baseline,
            "standings": [s.to_dict() for s in self.standings],
            "n_items": self.n_items,
            "n_comparisons": self.n_comparisons,
            "n_abstained": self.n_abstained,
            "confidence": self.confidence,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "prior": self.prior,
            "length_coef": _finite(self.length_coef),
            "length_low": _finite(self.length_low),
            "length_high": _finite(self.length_high),
            "unranked": [list(g) for g in self.unranked],
            "unseparated": [list(g) for g in self.unseparated],
            "notes": list(self.notes),
        }


def _ranks(group: Sequence[int]) -> str:
    if len(group) == 2:
        return f"ranks {group[0]} and {group[1]}"
    return f"ranks {group[0]} to {group[-1]}"


def _overlap(group: Sequence[int]) -> str:
    if len(group) == 2:
        return "their intervals overlap"
    return "each one's interval overlaps the next one's"


def notes(
    standings: Sequence[Standing],
    baseline: str,
    unranked: Sequence[Sequence[str]],
    unseparated: Sequence[Sequence[int]],
    n_abstained: int,
) -> tuple[str, ...]:
    """What a reader must know beside the numbers, one sentence each.

    >>> notes([], "base", [["x", "y"]], [[2, 3]], 4)
    ('ranks 2 and 3 are not separated: their intervals overlap', \
'x, y cannot be ranked against base: no chain of comparisons links them to it', \
'the panel abstained on 4 comparisons; they are not counted')
    """
    out = [f"{_ranks(g)} are not separated: {_overlap(g)}" for g in unseparated]
    out += [
        f"{', '.join(g)} cannot be ranked against {baseline}: "
        "no chain of comparisons links them to it"
        for g in unranked
    ]
    out += [
        f"{s.model} {s.record}: its rating is held finite by the prior; read it as a bound"
        for s in standings
        if s.record is not None
    ]
    if n_abstained:
        out.append(f"the panel abstained on {n_abstained} comparisons; they are not counted")
    return tuple(out)
