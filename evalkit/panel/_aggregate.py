"""The panel verdict per item: quorum, then an aggregation method looked up by name.

A panel verdict aggregates the judges' combined verdicts (one per judge, item and sample; see
:func:`evalkit.panel.combine_orders`) with a method registered by name in
:data:`AGGREGATORS`, the built-ins exactly as a user's would:

- ``majority`` (verdicts): one vote per judge;
- ``weighted`` (verdicts): each judge's vote counts its weight (from its reliability);
- ``mean`` and ``median`` (scores): the judges' mean scores per item, aggregated.

Rules shared by every method, so that no method can guess:

- a judge votes only with valid verdicts; a judge whose call failed or could not be parsed,
  or whose orders disagreed under ``disagreement: abstain``, casts no vote and so can never
  break a tie;
- a judge with several samples splits its one vote over the verdicts of its valid samples;
- the winner must strictly beat every other label; a tie at the top is ``tie`` — never decided
  by the order judges are listed in;
- fewer than ``quorum`` judges with a valid verdict → the item is abstained (verdict missing,
  ``abstained`` true) with the reason, never guessed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Final, Literal

import numpy as np
import pandas as pd

from evalkit._registry import Registry
from evalkit.errors import UsageError
from evalkit.panel._combine import combine_orders
from evalkit.panel._rows import ITEM, SCORE_MODES, score_ok
from evalkit.panel._rule import PanelRule, check_quorum
from evalkit.records._judgments import VERDICTS

AggregatorKind = Literal["verdict", "score"]
#: ``(ballots, weights) -> per-item totals``; see :func:`aggregator`.
AggregatorFunc = Callable[[pd.DataFrame, Mapping[str, float] | None], pd.DataFrame | pd.Series]
_LABELS: Final = list(VERDICTS)
_VOTE_COLUMNS: Final = [f"votes_{label}" for label in VERDICTS]
#: Columns of a verdict panel (see :func:`panel_verdicts`).
PANEL_COLUMNS: Final = (
    *ITEM,
    "verdict",
    "n_judges",
    "n_judges_valid",
    "abstained",
    "reason",
    *_VOTE_COLUMNS,
)
#: Columns of a score panel.
SCORE_PANEL_COLUMNS: Final = (
    *ITEM,
    "candidate",
    "score",
    "n_judges",
    "n_judges_valid",
    "abstained",
    "reason",
)
#: Two vote totals closer than this are equal (weights are floats).
_EPS = 1e-9
#: The method a mode of the other kind uses (see :class:`PanelRule`).
_DEFAULT_METHOD: Final[Mapping[str, str]] = {"verdict": "majority", "score": "mean"}


@dataclasses.dataclass(frozen=True, slots=True)
class Aggregator:
    """A panel aggregation method: what it combines (``kind``) and how (``func``)."""

    kind: AggregatorKind
    func: AggregatorFunc
    description: str


#: Panel aggregation methods by name (entry-point group ``evalkit.aggregators``); a panel
#: spec's ``aggregation:`` is looked up here.
AGGREGATORS: Registry[Aggregator] = Registry("panel method", "evalkit.aggregators")


class AggregatorKinds(Mapping[str, AggregatorKind]):
    """Each registered method's kind, by name, loading a plugin's method only when asked.

    What a judge spec is checked against (``aggregations=`` of
    :meth:`evalkit.judging.JudgeRegistry.panel`): looking up the panel's own method never
    imports another package's entry point, so a broken plugin stops only the panels that use it.
    """

    def __getitem__(self, name: str) -> AggregatorKind:
        if name not in AGGREGATORS.names():
            raise KeyError(name)
        return AGGREGATORS.get(name).kind

    def __iter__(self) -> Iterator[str]:
        return iter(AGGREGATORS.names())

    def __len__(self) -> int:
        return len(AGGREGATORS.names())


def aggregator(kind: AggregatorKind) -> Callable[[AggregatorFunc], Aggregator]:
    """Decorator: make an :class:`Aggregator` of ``kind`` from a function, to register it.

    A ``verdict`` method receives *ballots* — one row per (suite, item_id, judge) with columns
    ``candidate``, ``baseline``, ``tie`` holding the judge's share of its valid verdicts on each
    label (summing to 1) — and the ``weights`` mapping, and returns a DataFrame indexed by
    (suite, item_id) with those three columns as vote totals. A ``score`` method receives one row
    per (suite, item_id, candidate, judge) with a ``score`` column (the judge's mean valid score)
    and returns a Series of panel scores indexed by (suite, item_id, candidate).
    Quorum, tie and abstention rules are applied by :func:`panel_verdicts`, not by the method.
    The function's first docstring line becomes the description::

        @AGGREGATORS.register("veto")
        @aggregator("verdict")
        def veto(ballots, weights): ...
    """

    def make(func: AggregatorFunc) -> Aggregator:
        doc = (func.__doc__ or "").strip().splitlines()
        return Aggregator(kind, func, doc[0] if doc else "")

    return make


def _judge_weights(judges: pd.Series, weights: Mapping[str, float] | None) -> pd.Series:
    if weights is None:
        raise UsageError("a weighted method needs weights=: a mapping of judge name to weight")
    missing = sorted(set(judges) - set(weights))
    if missing:
        raise UsageError(f"weights= has no weight for judge(s) {', '.join(missing)}; add them")
    w = judges.map(lambda j: float(weights[j]))
    if (w < 0).any() or not np.isfinite(w).all():
        raise UsageError("judge weights must be finite and not negative")
    return w


@AGGREGATORS.register("majority")
@aggregator("verdict")
def _majority(ballots: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.DataFrame:
    """One vote per judge; the label with the most votes wins."""
    return ballots.groupby(list(ITEM), sort=True)[_LABELS].sum()


@AGGREGATORS.register("weighted")
@aggregator("verdict")
def _weighted(ballots: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.DataFrame:
    """Each judge's vote counts its weight (e.g. its reliability)."""
    w = _judge_weights(ballots["judge"], weights)
    return ballots[_LABELS].mul(w, axis=0).groupby([ballots[c] for c in ITEM], sort=True).sum()


@AGGREGATORS.register("mean")
@aggregator("score")
def _mean(scores: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.Series:
    """Average the judges' scores."""
    return scores.groupby([*ITEM, "candidate"], sort=True)["score"].mean()


@AGGREGATORS.register("median")
@aggregator("score")
def _median(scores: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.Series:
    """Take the median of the judges' scores."""
    return scores.groupby([*ITEM, "candidate"], sort=True)["score"].median()


def _quorum_reason(valid: pd.Series, judges: pd.Series, quorum: int) -> pd.Series:
    return (
        "below quorum: "
        + valid.astype(str)
        + " of "
        + judges.astype(str)
        + f" judges gave a verdict (quorum {quorum})"
    )


def _verdict_panel(
    combined: pd.DataFrame, agg: Aggregator, quorum: int, weights: Mapping[str, float] | None
) -> pd.DataFrame:
    items = list(ITEM)
    if combined.empty:
        return pd.DataFrame(columns=list(PANEL_COLUMNS))
    n_judges = combined.groupby(items, sort=True)["judge"].nunique()
    voted = combined.loc[combined["verdict"].notna()]
    # One vote per judge, split over the verdicts of its valid samples.
    onehot = pd.get_dummies(voted["verdict"].astype(str)).reindex(columns=_LABELS, fill_value=0)
    ballots = (
        pd.concat([voted[[*items, "judge"]], onehot.astype(float)], axis=1)
        .groupby([*items, "judge"], sort=True)[_LABELS]
        .mean()
        .reset_index()
    )
    totals = pd.DataFrame(agg.func(ballots, weights)).reindex(n_judges.index, fill_value=0.0)
    n_valid = ballots.groupby(items)["judge"].nunique().reindex(n_judges.index, fill_value=0)
    votes = totals[_LABELS].to_numpy(dtype=float)
    top = votes.max(axis=1, keepdims=True)
    at_top = votes >= top - _EPS
    index = n_judges.index
    unique_top = pd.Series(at_top.sum(axis=1) == 1, index=index)
    below = n_valid < quorum
    no_weight = pd.Series(top[:, 0] <= _EPS, index=index)
    abstained = below | no_weight
    winner = pd.Series(np.array(_LABELS)[votes.argmax(axis=1)], index=index, dtype="string")
    tied = pd.Series([" and ".join(np.array(_LABELS)[row]) for row in at_top], index=index)
    reason = (
        ("no majority: votes tied between " + tied.astype("string"))
        .where(~unique_top)
        .mask(no_weight, "every judge that gave a verdict has weight 0")
        .mask(below, _quorum_reason(n_valid, n_judges, quorum))
    )
    out = pd.DataFrame(index=index)
    out["verdict"] = winner.where(unique_top, "tie").mask(abstained)
    out["n_judges"] = n_judges
    out["n_judges_valid"] = n_valid
    out["abstained"] = abstained
    out["reason"] = reason
    out[_VOTE_COLUMNS] = votes
    return out.reset_index()


def _score_panel(
    table: pd.DataFrame, agg: Aggregator, quorum: int, weights: Mapping[str, float] | None
) -> pd.DataFrame:
    keys = [*ITEM, "candidate"]
    rows = table.loc[table["mode"].isin(SCORE_MODES)]
    n_judges = rows.groupby(keys, sort=True, dropna=False)["judge"].nunique()
    ok = rows.loc[score_ok(rows)]
    per_judge = ok.groupby([*keys, "judge"], sort=True, dropna=False)["score"].mean().reset_index()
    n_valid = per_judge.groupby(keys, dropna=False)["judge"].nunique()
    n_valid = n_valid.reindex(n_judges.index, fill_value=0)
    score = pd.Series(agg.func(per_judge, weights)).reindex(n_judges.index)
    abstained = n_valid < quorum
    out = pd.DataFrame(
        {
            "score": score.where(~abstained),
            "n_judges": n_judges,
            "n_judges_valid": n_valid,
            "abstained": abstained,
            "reason": _quorum_reason(n_valid, n_judges, quorum).where(abstained).astype("string"),
        }
    )
    return out.reset_index()


def panel_verdicts(
    combined: pd.DataFrame,
    method: str = "majority",
    quorum: int = 2,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return the panel's verdict (or score) per item, with the quorum applied.

    ``combined`` is the output of :func:`combine_orders` (which applies the disagreement rule);
    score methods (``mean``, ``median``) take the judges' rows of the judgments table instead.
    ``weights`` maps each judge to its weight (``weighted`` only). Most callers want
    :func:`item_verdicts`, which applies a whole :class:`PanelRule`.

    For verdict methods, one row per (suite, item_id) with columns: verdict (``candidate``,
    ``baseline``, ``tie``, or missing when abstained), n_judges (judges with a row for the
    item), n_judges_valid (judges with a valid combined verdict), abstained, reason (why it was
    abstained or tied), votes_candidate, votes_baseline, votes_tie. For score methods, one row
    per (suite, item_id, candidate) with ``score`` instead of the verdict and votes.

    Raises:
        UsageError: unknown method, quorum below 1, missing or invalid weights for a weighted
            method, or a table that does not fit the method.
    """
    agg = AGGREGATORS.get(method)
    quorum = check_quorum(quorum)
    if agg.kind == "score":
        if "score" not in combined.columns or "mode" not in combined.columns:
            raise UsageError(f"method {method!r} aggregates scores: pass the judgments table")
        return _score_panel(combined, agg, quorum, weights)
    missing = {"judge", "verdict", *ITEM} - set(combined.columns)
    if missing or "mode" in combined.columns:
        raise UsageError(
            f"method {method!r} aggregates combined verdicts: pass combine_orders(table, ...)"
        )
    return _verdict_panel(combined, agg, quorum, weights)


def item_verdicts(
    table: pd.DataFrame,
    rule: PanelRule,
    judge_weights: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Apply ``rule`` to the judges' rows of ``table``: the panel of each mode that has rows.

    ``pairwise`` gets a verdict panel (:data:`PANEL_COLUMNS`) of the judges' orders combined
    under ``rule.disagreement``; ``pointwise`` and ``reference`` get score panels. A mode whose
    kind differs from the rule's method uses ``majority`` (verdicts) or ``mean`` (scores).
    ``judge_weights`` (judge → weight, see :meth:`PanelRule.judge_weights`) is needed when the
    rule's method is ``weighted``. Every mode with rows has a panel, even one where no call
    gave a value (an outage): its items are then abstained with the reason, never missing.

    Raises:
        UsageError: unknown method, or ``weighted`` without a weight for every judge.
    """
    chosen = AGGREGATORS.get(rule.aggregation)
    out = {}
    for mode, rows in table.groupby("mode", sort=True):
        kind: AggregatorKind = "verdict" if mode == "pairwise" else "score"
        agg = chosen if chosen.kind == kind else AGGREGATORS.get(_DEFAULT_METHOD[kind])
        quorum = rule.quorum_for(int(rows["judge"].nunique()))
        if kind == "verdict":
            combined = combine_orders(rows, rule.disagreement)
            out[str(mode)] = _verdict_panel(combined, agg, quorum, judge_weights)
        else:
            out[str(mode)] = _score_panel(rows, agg, quorum, judge_weights)
    return out
