"""Both orders of a pairwise judgment: measuring position bias.

Pairwise judgments run in both orders (AB: candidate shown first; BA: baseline shown first) with
verdicts mapped back to the original labels, so an unbiased, consistent judge gives the same
verdict twice (the orders are combined by :func:`evalkit.panel.combine_orders`). From that
design (DESIGN.md, "Definitions the audit uses"):

- consistency = share of (item, sample) pairs whose two valid verdicts agree; flip rate = 1 -
  consistency; the number of pairs missing a valid order is reported beside them;
- first-position rate = share of decisive single-order verdicts that pick the answer shown first.
  Because every counted item contributes one verdict in each order, a judge without position
  bias sits at 0.5 whatever the candidate's real quality; it is tested with an exact two-sided
  binomial test and reported with a Wilson interval.

The same measures apply to pointwise judges whose rubric options were listed both ways (column
``option_order``, see :mod:`evalkit.audit._table`): :func:`option_order_bias`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from evalkit.audit._intervals import binomial_p_value, wilson_bounds
from evalkit.audit._table import (
    ITEM,
    OPTION_ORDER,
    audited,
    score_ok,
    verdict_ok,
)
from evalkit.panel import combine_orders

#: ``basis`` of a judge measured on single verdicts whose order varied between items.
RANDOMISED_ORDER: Final = "one randomised order per item"
#: ``basis`` of a judge whose every call was made in the same order: nothing to measure.
ONE_ORDER_ONLY: Final = "one order only"
RATE_COLUMNS: Final = (
    "judge",
    "judge_family",
    "n_rows",
    "n_invalid",
    "n_items",
    "n_missing_order",
    "consistency",
    "flip_rate",
    "flip_low",
    "flip_high",
    "n_decisive",
    "n_first",
    "first_position_rate",
    "fp_low",
    "fp_high",
    "p_value",
)


def _with_rates(counts: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Add flip rate and first-position rate, with Wilson intervals and binomial p-values."""
    out = counts.copy()
    count_columns = [
        "n_rows",
        "n_invalid",
        "n_items",
        "n_missing_order",
        "n_consistent",
        "n_decisive",
        "n_first",
    ]
    # A judge with no usable pair is absent from the joined counts: it counted zero.
    out[count_columns] = out[count_columns].fillna(0).astype("int64")
    n_items = out["n_items"].to_numpy(dtype=float)
    flips = n_items - out["n_consistent"].to_numpy(dtype=float)
    flip, out["flip_low"], out["flip_high"] = wilson_bounds(flips, n_items, confidence)
    out["consistency"], out["flip_rate"] = 1.0 - flip, flip
    fp, out["fp_low"], out["fp_high"] = wilson_bounds(
        out["n_first"].to_numpy(dtype=float), out["n_decisive"].to_numpy(dtype=float), confidence
    )
    out["first_position_rate"] = fp
    out["p_value"] = [
        binomial_p_value(k, n) for k, n in zip(out["n_first"], out["n_decisive"], strict=True)
    ]
    return out.loc[:, list(RATE_COLUMNS)]


def _judge_rows(rows: pd.DataFrame, ok: pd.Series) -> pd.DataFrame:
    """Per judge: its family, its rows and how many of them carried nothing usable."""
    return (
        rows.assign(invalid=~ok)
        .groupby("judge", sort=True)
        .agg(
            judge_family=("judge_family", "first"),
            n_rows=("invalid", "size"),
            n_invalid=("invalid", "sum"),
        )
    )


def _position_counts(combined: pd.DataFrame) -> pd.DataFrame:
    """Per judge: pairs with both orders valid, consistent ones, decisive and first-pick counts.

    Only pairs with both orders valid are counted for the first-position rate: a pair missing
    an order would let the candidate's real quality leak into the rate, which the balanced
    design otherwise cancels.
    """
    both = combined["n_valid_orders"] == 2
    ab = combined["verdict_ab"].where(both)
    ba = combined["verdict_ba"].where(both)
    frame = pd.DataFrame(
        {
            "judge": combined["judge"],
            "n_items": both,
            "n_missing_order": ~both,
            "n_consistent": combined["consistent"].fillna(False).astype(bool),
            "n_decisive": (
                ab.isin(["candidate", "baseline"]).astype(int)
                + ba.isin(["candidate", "baseline"]).astype(int)
            ),
            # The answer shown first is the candidate in AB and the baseline in BA.
            "n_first": (ab == "candidate").fillna(False).astype(int)
            + (ba == "baseline").fillna(False).astype(int),
        }
    )
    return frame.groupby("judge", sort=True).sum()


def position_bias(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per-judge position bias of the pairwise judgments.

    One row per judge with columns: judge, judge_family, n_rows (pairwise rows),
    n_invalid (rows without a usable verdict), n_items ((item, sample) pairs with both orders
    valid), n_missing_order (pairs missing a valid order), consistency, flip_rate with
    flip_low/flip_high (Wilson), n_decisive (decisive single-order verdicts on those pairs),
    n_first (of them, picks of the answer shown first), first_position_rate with fp_low/fp_high
    (Wilson) and p_value (exact two-sided binomial test against 0.5), and basis (``both
    orders``; ``one randomised order per item`` for a judge never judged in both orders whose
    single orders were AB on some items and BA on others, the first-position rate then being
    measured on those single verdicts; ``one order only`` for a judge whose every call was in
    the same order; missing otherwise, when there is nothing to measure). Rates are NaN when
    their n is 0.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    valid = audited(table)
    return position_bias_of(valid, combine_orders(valid, "tie"), confidence)


def _one_order_counts(combined: pd.DataFrame) -> pd.DataFrame:
    """Per judge judged in one order per item, with that order randomised: decisive, first picks.

    A log with one order per item (most production logs) says nothing about position unless
    the order varied between items; when it was randomised, the candidate's quality is spread
    evenly over both positions and the share of picks of the answer shown first is again 0.5
    for a judge without position bias. Judges whose single orders are all the same order are
    left out: there, that share is the win rate, not a bias.
    """
    single = combined.loc[combined["n_valid_orders"] == 1]
    ab, ba = single["verdict_ab"], single["verdict_ba"]
    frame = pd.DataFrame(
        {
            "judge": single["judge"],
            "n_ab": ab.notna(),
            "n_ba": ba.notna(),
            "n_decisive": ab.isin(["candidate", "baseline"]) | ba.isin(["candidate", "baseline"]),
            "n_first": (ab == "candidate").fillna(False) | (ba == "baseline").fillna(False),
        }
    )
    counts = frame.groupby("judge", sort=True).sum()
    return counts.loc[(counts["n_ab"] > 0) & (counts["n_ba"] > 0), ["n_decisive", "n_first"]]


def position_bias_of(
    valid: pd.DataFrame, combined: pd.DataFrame, confidence: float
) -> pd.DataFrame:
    """:func:`position_bias` of a validated table and its combined verdicts."""
    rows = valid.loc[valid["mode"] == "pairwise"]
    if rows.empty:
        return pd.DataFrame(columns=[*RATE_COLUMNS, "basis"])
    counts = _judge_rows(rows, verdict_ok(rows)).join(_position_counts(combined))
    # A judge never judged in both orders, but in randomised single orders, is measured on those.
    one = _one_order_counts(combined)
    one = one.loc[one.index.isin(counts.index[counts["n_items"].fillna(0) == 0])]
    counts.loc[one.index, ["n_decisive", "n_first"]] = one.to_numpy()
    out = _with_rates(counts.reset_index(), confidence)
    # Judges whose every row is in the same order: a log of one order, not failed calls.
    orders = rows.groupby("judge", sort=True)["order"].nunique()
    single = out["judge"].isin(orders.index[orders == 1])
    basis = pd.Series("both orders", index=out.index, dtype="object").where(out["n_items"] > 0)
    basis = basis.mask(single & (out["n_items"] == 0), ONE_ORDER_ONLY)
    out["basis"] = basis.mask(out["judge"].isin(one.index), RANDOMISED_ORDER)
    return out


def option_order_bias(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per-judge option-order bias of pointwise judges whose options were listed both ways.

    Uses the pointwise/reference rows with an ``option_order`` of ``ascending`` (lowest-score
    option listed first) or ``descending``. For each (item, candidate, judge, sample) scored
    validly in both listings: consistent when the two scores are equal. Among the discordant
    pairs, the score moved *toward the option listed first* when the ascending listing gave
    the lower score. Without option-order bias that direction is a coin flip, so the same
    columns as :func:`position_bias` are returned, with n_decisive = discordant pairs and
    n_first = those that moved toward the first-listed option (a sign test). Empty when the
    table has no ``option_order`` column.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return option_order_bias_of(audited(table), confidence)


def option_order_bias_of(valid: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """:func:`option_order_bias` of a validated table."""
    if OPTION_ORDER not in valid.columns:
        return pd.DataFrame(columns=list(RATE_COLUMNS))
    rows = valid.loc[valid[OPTION_ORDER].notna() & valid["mode"].isin(("pointwise", "reference"))]
    if rows.empty:
        return pd.DataFrame(columns=list(RATE_COLUMNS))
    keys = [*ITEM, "candidate", "judge", "sample"]
    scored = rows.assign(valid_score=rows["score"].where(score_ok(rows)))
    wide = scored.pivot(index=keys, columns=OPTION_ORDER, values="valid_score")
    wide = wide.reindex(columns=["ascending", "descending"])
    both = wide.notna().all(axis=1)
    diff = (wide["ascending"] - wide["descending"]).where(both)
    pairs = (
        pd.DataFrame(
            {
                "n_items": both,
                "n_missing_order": ~both,
                "n_consistent": np.isclose(diff.fillna(1.0), 0.0),
                "n_decisive": both & ~np.isclose(diff.fillna(0.0), 0.0),
                "n_first": (diff < 0).fillna(False),
            }
        )
        .groupby(level="judge", sort=True)
        .sum()
    )
    counts = _judge_rows(rows, score_ok(rows)).join(pairs)
    return _with_rates(counts.reset_index(), confidence)
