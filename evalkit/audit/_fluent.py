"""Fluent but wrong: answers the judges rate like right ones while a deterministic check fails.

A judge that rewards fluency scores a wrong answer as high as a right one. Where a suite has
deterministic graders beside its judges, the graders say which answers are right (every grader
passes) and which are wrong (one fails), so each judge can be measured against them:

- scored suites (pointwise, reference): a wrong answer *fools* a judge when the judge scores it
  at least as high as the median score it gave the right answers (scale-free: the judge's own
  idea of a right answer's score). Beside that rate, the judge's *separation*: the probability
  that it scores a random right answer above a random wrong one (ROC AUC, ties as half; 0.5 is a
  judge that cannot tell them apart), with a Hanley-McNeil interval.
- pairwise suites: on items where exactly one of the two answers passes the checks, a judge is
  fooled when its combined verdict (both orders, :func:`evalkit.panel.combine_orders`) prefers
  the failing answer.

An answer (or a pairwise item) is listed as fluent-but-wrong when most judges who judged it were
fooled; the suite's rate is the share of wrong answers (decisive items) so listed, with a Wilson
interval. Everything is read from the judgments table; nothing is re-judged.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalkit.audit._intervals import wilson_bounds, z_value
from evalkit.audit._table import GRADER_FAMILY
from evalkit.panel import combine_orders
from evalkit.panel._rows import score_ok
from evalkit.panel._rule import Disagreement
from evalkit.records._run import table_rows

Kind = Literal["scored", "pairwise"]

_JUDGE_COLUMNS = (
    "judge", "n_right", "n_wrong", "fooled", "rate", "low", "high", "auc", "auc_low", "auc_high",
)  # fmt: skip
_ANSWER = ["suite", "item_id", "candidate"]


@dataclasses.dataclass(frozen=True, slots=True)
class FluentButWrong:
    """Judges against deterministic checks: who is fooled by wrong answers, and how often.

    ``judges`` has one row per judge (:data:`_JUDGE_COLUMNS`; ``auc`` columns only for scored
    suites); ``items`` one row per fluent-but-wrong answer (scored) or item (pairwise), with
    the judges it fooled. ``reason`` says why nothing could be measured (no graders, no wrong
    answers, ...); the figures are then NaN.
    """

    kind: Kind
    n_wrong: int
    n_fooled: int
    rate: float
    low: float
    high: float
    confidence: float
    judges: pd.DataFrame
    items: pd.DataFrame
    reason: str | None = None

    @property
    def measurable(self) -> bool:
        """Whether there were wrong answers (decisive items) that judges judged."""
        return self.reason is None

    def most_fooled(self) -> str | None:
        """The judge fooled most often (ties broken by name), or None."""
        rated = self.judges.dropna(subset=["rate"])
        if rated.empty:
            return None
        return str(rated.sort_values(["rate", "judge"], ascending=[False, True]).iloc[0]["judge"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (NaN becomes None)."""

        def num(x: float) -> float | None:
            return None if math.isnan(x) else float(x)

        return {
            "kind": self.kind, "n_wrong": self.n_wrong, "n_fooled": self.n_fooled,
            "rate": num(self.rate), "low": num(self.low), "high": num(self.high),
            "confidence": self.confidence, "reason": self.reason,
            "most_fooled": self.most_fooled(),
            "judges": table_rows(self.judges), "items": table_rows(self.items),
        }  # fmt: skip


def _checks(table: pd.DataFrame) -> pd.Series:
    """Per scored answer (suite, item_id, candidate model): True when every grader passed."""
    graded = table.loc[(table["judge_family"] == GRADER_FAMILY) & score_ok(table)]
    return (graded.groupby(_ANSWER)["score"].min() >= 1.0).rename("right")


def _empty(kind: Kind, confidence: float, reason: str) -> FluentButWrong:
    nan = math.nan
    return FluentButWrong(
        kind, 0, 0, nan, nan, nan, confidence,
        pd.DataFrame(columns=list(_JUDGE_COLUMNS)), pd.DataFrame(), reason,
    )  # fmt: skip


def _auc(right: np.ndarray, wrong: np.ndarray, z: float) -> tuple[float, float, float]:
    """Mann-Whitney AUC of right-vs-wrong scores (ties half), Hanley-McNeil interval."""
    m, n = len(right), len(wrong)
    if m == 0 or n == 0:
        return math.nan, math.nan, math.nan
    greater = (right[:, None] > wrong[None, :]).sum()
    ties = (right[:, None] == wrong[None, :]).sum()
    auc = float((greater + 0.5 * ties) / (m * n))
    q1, q2 = auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1 - auc) + (m - 1) * (q1 - auc**2) + (n - 1) * (q2 - auc**2)) / (m * n)
    half = z * math.sqrt(max(var, 0.0))
    return auc, max(0.0, auc - half), min(1.0, auc + half)


def _finish(
    kind: Kind, per_judge: pd.DataFrame, fooled: pd.DataFrame, keys: list[str], confidence: float
) -> FluentButWrong:
    """Rates per judge and per answer/item from a frame of (keys, judge, fooled) judgements."""
    rate, low, high = wilson_bounds(per_judge["fooled"], per_judge["n_wrong"], confidence)
    per_judge = per_judge.assign(rate=rate, low=low, high=high)
    votes = fooled.groupby(keys).agg(
        judges_fooled=("fooled", "sum"), n_judges=("fooled", "size"),
        fooled_by=("judge", lambda s: ", ".join(sorted(s[fooled.loc[s.index, "fooled"]]))),
    )  # fmt: skip
    listed = votes["judges_fooled"] * 2 > votes["n_judges"]
    n_wrong, n_fooled = len(votes), int(listed.sum())
    est, lo, hi = wilson_bounds(n_fooled, n_wrong, confidence)
    items = votes.loc[listed].reset_index().sort_values(keys, kind="stable")
    return FluentButWrong(
        kind, n_wrong, n_fooled, float(est), float(lo), float(hi), confidence,
        per_judge.reindex(columns=list(_JUDGE_COLUMNS)).reset_index(drop=True),
        items.reset_index(drop=True),
    )  # fmt: skip


def _scored(table: pd.DataFrame, right: pd.Series, confidence: float) -> FluentButWrong:
    judged = table.loc[(table["judge_family"] != GRADER_FAMILY) & score_ok(table)]
    # Several samples of one judge on one answer count as one score: their mean.
    scores = judged.groupby([*_ANSWER, "judge"])["score"].mean().reset_index()
    scores = scores.join(right, on=_ANSWER, how="inner")
    if not (~scores["right"]).any():
        return _empty("scored", confidence, "every judged answer passed the checks")
    if not scores["right"].any():
        return _empty("scored", confidence, "no judged answer passed the checks")
    # A judge's idea of a right answer's score: the median it gave the right answers.
    bar = scores.loc[scores["right"]].groupby("judge")["score"].median().rename("bar")
    scores = scores.join(bar, on="judge")
    wrong = scores.loc[~scores["right"]].assign(fooled=lambda f: f["score"] >= f["bar"])
    z = z_value(confidence)
    rows = []
    for judge, group in scores.groupby("judge", sort=True):  # one row per judge, not per item
        ok, bad = group.loc[group["right"], "score"], group.loc[~group["right"], "score"]
        auc, auc_low, auc_high = _auc(ok.to_numpy(float), bad.to_numpy(float), z)
        n_fooled = int(wrong.loc[wrong["judge"] == judge, "fooled"].sum())
        rows.append((judge, len(ok), len(bad), n_fooled, auc, auc_low, auc_high))
    per_judge = pd.DataFrame(
        rows, columns=["judge", "n_right", "n_wrong", "fooled", "auc", "auc_low", "auc_high"]
    )
    return _finish("scored", per_judge, wrong, _ANSWER, confidence)


def _pairwise(
    table: pd.DataFrame, right: pd.Series, confidence: float, disagreement: Disagreement
) -> FluentButWrong:
    judged = table.loc[(table["judge_family"] != GRADER_FAMILY) & (table["mode"] == "pairwise")]
    combined = combine_orders(judged, disagreement).dropna(subset=["verdict"])
    if combined.empty:
        return _empty("pairwise", confidence, "no combined pairwise verdicts")
    # The combined table keeps families, not model names: take each item's pair from its rows.
    pair = judged.groupby(["suite", "item_id"])[["candidate", "baseline"]].first()
    frame = combined.join(pair, on=["suite", "item_id"])
    checks = right.reset_index()
    for role in ("candidate", "baseline"):
        named = checks.rename(columns={"candidate": role, "right": f"{role}_right"})
        frame = frame.merge(named, on=["suite", "item_id", role], how="left")
    decisive = frame.loc[
        frame["candidate_right"].notna()
        & frame["baseline_right"].notna()
        & (frame["candidate_right"] != frame["baseline_right"])
    ]
    if decisive.empty:
        return _empty("pairwise", confidence, "no item where exactly one answer passed the checks")
    wrong_side = np.where(decisive["candidate_right"].astype(bool), "baseline", "candidate")
    fooled = decisive.assign(fooled=(decisive["verdict"] == wrong_side).to_numpy())
    # Several samples of one judge on one item: fooled when most of them were.
    keys = ["suite", "item_id"]
    per_call = fooled.groupby([*keys, "judge"])["fooled"].mean().reset_index()
    per_call["fooled"] = per_call["fooled"] > 0.5
    per_judge = (
        per_call.groupby("judge", sort=True)
        .agg(n_wrong=("fooled", "size"), fooled=("fooled", "sum"))
        .reset_index()
    )
    return _finish("pairwise", per_judge, per_call, keys, confidence)


def fluent_but_wrong(
    table: pd.DataFrame, *, confidence: float = 0.95, disagreement: Disagreement = "tie"
) -> FluentButWrong:
    """Measure how often the judges rate wrong answers like right ones (see the module doc).

    ``table`` is a judgments table with both the judges' and the deterministic graders' rows
    (as the run writes it). ``disagreement`` is the panel rule's treatment of orders that
    disagree, used to combine pairwise verdicts. A table without graders, or without wrong
    answers, gives a result that is not measurable, with the reason.
    """
    pairwise = "mode" in table.columns and bool((table["mode"] == "pairwise").any())
    kind: Kind = "pairwise" if pairwise else "scored"
    if "judge_family" not in table.columns or not (table["judge_family"] == GRADER_FAMILY).any():
        return _empty(kind, confidence, "the suite has no deterministic graders")
    right = _checks(table)
    if right.empty:
        return _empty(kind, confidence, "no grader gave a usable score")
    if kind == "pairwise":
        return _pairwise(table, right, confidence, disagreement)
    return _scored(table, right, confidence)
