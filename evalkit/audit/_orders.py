"""Both orders of a pairwise judgment: combining them, and measuring position bias.

Pairwise judgments run in both orders (AB: candidate shown first; BA: baseline shown first) with
verdicts mapped back to the original labels, so an unbiased, consistent judge gives the same
verdict twice. From that design (DESIGN.md, "Definitions the audit uses"):

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

from typing import Final, Literal

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
from evalkit.errors import UsageError
from evalkit.records import FAILED_STATUSES

Disagreement = Literal["tie", "abstain"]
#: What a judge's combined verdict is when its two orders disagree.
_ON_DISAGREEMENT: Final[dict[str, str | None]] = {"tie": "tie", "abstain": None}
#: One (item, sample) judged by one judge.
PAIR_KEYS: Final = (*ITEM, "judge", "sample")
#: Per-item facts carried through to the combined table for later statistics.
_CARRIED: Final = (
    "judge_family",
    "candidate_family",
    "baseline_family",
    "len_candidate",
    "len_baseline",
    "human_label",
)
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


def _row_status(table: pd.DataFrame) -> pd.Series:
    """Why a pairwise row has, or lacks, a usable verdict."""
    return pd.Series(
        np.select(
            [verdict_ok(table), table["status"].isin(FAILED_STATUSES), ~table["parse_ok"]],
            ["ok", "call failed", "unparseable"],
            default="no verdict",
        ),
        index=table.index,
    )


def _combine(table: pd.DataFrame, disagreement: Disagreement) -> pd.DataFrame:
    """:func:`combine_orders` on a table that is already validated."""
    if disagreement not in _ON_DISAGREEMENT:
        raise UsageError(
            f"disagreement must be one of {', '.join(_ON_DISAGREEMENT)}, got {disagreement!r}"
        )
    keys = list(PAIR_KEYS)
    rows = table.loc[table["mode"] == "pairwise"].copy()
    rows["status"] = _row_status(rows)
    rows["valid_verdict"] = rows["verdict"].where(rows["status"] == "ok")
    wide = rows.pivot(index=keys, columns="order", values=["valid_verdict", "status"])
    wide = wide.reindex(
        columns=pd.MultiIndex.from_product([["valid_verdict", "status"], ["AB", "BA"]])
    )
    out = rows.groupby(keys, sort=True)[list(_CARRIED)].first()
    ab = wide[("valid_verdict", "AB")].astype("string")
    ba = wide[("valid_verdict", "BA")].astype("string")
    out["verdict_ab"], out["verdict_ba"] = ab, ba
    both = ab.notna() & ba.notna()
    agree = both & (ab == ba).fillna(False)
    flipped = both & ~agree
    on_flip = _ON_DISAGREEMENT[disagreement]
    out["verdict"] = ab.where(agree) if on_flip is None else ab.where(agree).mask(flipped, on_flip)
    out["consistent"] = agree.astype("boolean").where(both)
    out["n_valid_orders"] = ab.notna().astype(int) + ba.notna().astype(int)
    flip_reason = "orders disagree: " + ab.fillna("") + " (AB) vs " + ba.fillna("") + " (BA)"
    status = {o: wide[("status", o)].astype("string").fillna("missing") for o in ("AB", "BA")}
    missing = [
        ("no valid " + order + " verdict (" + status[order] + ")").where(status[order] != "ok")
        for order in ("AB", "BA")
    ]
    lost = missing[0].str.cat(missing[1], sep="; ", na_rep="").str.strip("; ")
    out["reason"] = lost.mask(flipped, flip_reason).mask(agree, pd.NA)
    return out.reset_index()


def combine_orders(table: pd.DataFrame, disagreement: Disagreement = "tie") -> pd.DataFrame:
    """Each judge's combined verdict per (suite, item_id, sample), from its two orders.

    Returns one row per (suite, item_id, judge, sample) of the pairwise rows, with columns
    suite, item_id, judge, sample, judge_family, candidate_family, baseline_family,
    len_candidate, len_baseline, human_label, verdict_ab, verdict_ba (each the order's valid
    verdict or missing), verdict, consistent, n_valid_orders, reason. ``verdict`` is:

    - the shared verdict when both orders agree (``consistent`` True, ``reason`` missing);
    - when they disagree, ``'tie'`` (``disagreement='tie'``, the default: the judge could not
      separate the answers) or missing (``'abstain'``), with ``reason`` naming both verdicts;
    - missing when an order has no valid verdict (``consistent`` missing), with ``reason``
      saying which order and why: call failed, unparseable, no verdict, or missing.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`) or ``disagreement``
            is not ``'tie'`` or ``'abstain'``.
    """
    return _combine(audited(table), disagreement)


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
    (Wilson) and p_value (exact two-sided binomial test against 0.5). Rates are NaN when their
    n is 0.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    valid = audited(table)
    return position_bias_of(valid, _combine(valid, "tie"), confidence)


def position_bias_of(
    valid: pd.DataFrame, combined: pd.DataFrame, confidence: float
) -> pd.DataFrame:
    """:func:`position_bias` of a validated table and its combined verdicts."""
    rows = valid.loc[valid["mode"] == "pairwise"]
    if rows.empty:
        return pd.DataFrame(columns=list(RATE_COLUMNS))
    counts = _judge_rows(rows, verdict_ok(rows)).join(_position_counts(combined))
    return _with_rates(counts.reset_index(), confidence)


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
