"""The exam's figures: each judge's accuracy on pairs whose better answer is known.

Read from the probe table (:data:`~evalkit.probes.PROBE_COLUMNS`, rows with ``kind == "exam"``)
and computed for every judge and every kind of exam question at once (grouped, no loop over
rows). How the orders, samples and ties count is the audit's rule for accuracy against a known
label averaged over the orders (``accuracy_orders`` of :func:`evalkit.audit._human.human_agreement`;
a test holds the two to the same numbers), not a second rule:

- every valid verdict of a pair (each order, each sample) is right when it names the target
  and wrong otherwise — a **tie is wrong**: the judge did not pick the answer known to be
  better;
- a pair's score is the share of its valid verdicts that are right (so a judge that picks
  whatever is shown first scores ½ on every pair); verdicts that could not be read (status
  not ``ok``) are left out and counted in ``n_invalid``, and a pair with none is not counted;
- the accuracy is the mean of the pairs' scores, with a Wilson interval over the pairs (a
  fractional count, as the audit's ``wilson_bounds`` allows; conservative for such scores).

``probe == "exam"`` rows pool every kind of question; the others are per kind
(``exam:graded``, ``exam:number``, ...).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from evalkit.audit._intervals import wilson_bounds

#: The pooled row's ``probe``: every kind of exam question together.
ALL_KINDS: Final = "exam"
EXAM_COLUMNS: Final = (
    "judge", "judge_family", "probe", "n_pairs", "n_invalid", "correct", "accuracy", "low",
    "high",
)  # fmt: skip
MISTAKE_COLUMNS: Final = ("judge", "suite", "item_id", "probe", "n_verdicts", "score", "verdicts")
_PAIR: Final = ["suite", "item_id", "probe"]
_VERDICTS: Final = ("a", "b", "tie")


def _valid(table: pd.DataFrame) -> pd.Series:
    return (table["status"] == "ok") & table["verdict"].isin(_VERDICTS)


def _exam_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = table.loc[table["kind"] == "exam"]
    return rows.assign(valid=_valid(rows), right=rows["verdict"] == rows["target"])


def pair_scores(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (judge, exam pair) judged validly at least once, and its score.

    Columns: judge, judge_family, suite, item_id, probe, n_verdicts (valid verdicts), score
    (share of them naming the target).
    """
    rows = _exam_rows(table)
    rows = rows.loc[rows["valid"]]
    return (
        rows.groupby(["judge", *_PAIR], sort=True)
        .agg(
            judge_family=("judge_family", "first"),
            n_verdicts=("right", "size"),
            score=("right", "mean"),
        )
        .reset_index()
    )


def exam_accuracy(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Each judge's exam accuracy, pooled (``probe == "exam"``) and per kind of question.

    One row per (judge, probe) with columns :data:`EXAM_COLUMNS`: n_pairs (pairs with a valid
    verdict), n_invalid (calls without one), correct (sum of the pairs' scores), accuracy and
    its Wilson interval at ``confidence`` (NaN accuracy, interval [0, 1], when no pair was
    judged validly). Empty when the table has no exam rows. See the module docstring for how
    orders, samples and ties count.
    """
    rows = _exam_rows(table)
    if rows.empty:
        return pd.DataFrame(columns=list(EXAM_COLUMNS))
    scores = pair_scores(table)
    invalid = (~rows["valid"]).groupby([rows["judge"], rows["probe"]]).sum()
    family = rows.groupby("judge")["judge_family"].first()
    kinds = pd.concat([scores, scores.assign(probe=ALL_KINDS)], ignore_index=True)
    per = kinds.groupby(["judge", "probe"]).agg(n_pairs=("score", "size"), correct=("score", "sum"))
    all_invalid = invalid.groupby(level="judge").sum()
    invalid = pd.concat([invalid, pd.concat({ALL_KINDS: all_invalid}, names=["probe"]).swaplevel()])
    # Judges or kinds whose every call was unusable have invalid calls and no pair: kept, n = 0.
    index = per.index.union(invalid.index)
    out = per.reindex(index).fillna(0.0).reset_index()
    out["n_pairs"] = out["n_pairs"].astype("int64")
    out["n_invalid"] = invalid.reindex(index).fillna(0).astype("int64").to_numpy()
    out["judge_family"] = out["judge"].map(family)
    est, low, high = wilson_bounds(out["correct"], out["n_pairs"], confidence)
    out["accuracy"], out["low"], out["high"] = est, low, high
    # The pooled row first, then the kinds in name order, for every judge.
    out["pooled"] = np.where(out["probe"] == ALL_KINDS, 0, 1)
    out = out.sort_values(["judge", "pooled", "probe"], kind="stable")
    return out.loc[:, list(EXAM_COLUMNS)].reset_index(drop=True)


def exam_mistakes(table: pd.DataFrame) -> pd.DataFrame:
    """The pairs each judge got wrong: a valid verdict that did not name the known-better answer.

    Columns :data:`MISTAKE_COLUMNS` — ``verdicts`` lists the valid verdicts by order and
    sample (``AB: b, BA: a``) — the worst score first (0: wrong in every order), then by
    judge and pair.
    """
    keys = ["judge", *_PAIR]
    scores = pair_scores(table)
    wrong = scores.loc[scores["score"] < 1.0, [*keys, "n_verdicts", "score"]]
    rows = _exam_rows(table)
    rows = rows.loc[rows["valid"]].merge(wrong[keys], on=keys)
    # Joined for the wrong pairs only: a string per group is the slow part of a groupby.
    shown = (
        rows.assign(shown=rows["order"].astype(str) + ": " + rows["verdict"].astype(str))
        .sort_values(["order", "sample"], kind="stable")
        .groupby(keys, sort=False)["shown"]
        .agg(", ".join)
        .rename("verdicts")
    )
    return (
        wrong.join(shown, on=keys)
        .sort_values(["score", *keys], kind="stable")
        .loc[:, list(MISTAKE_COLUMNS)]
        .reset_index(drop=True)
    )
