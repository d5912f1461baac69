"""One judge's verdict on an item from its two orders (DESIGN.md, "Definitions the audit uses").

Pairwise judgments run in both orders (AB: candidate shown first; BA: baseline shown first) with
verdicts mapped back to the original labels. A judge whose two orders agree gives that verdict;
when they disagree the panel's rule decides: a ``tie`` (the judge could not separate the
answers), no vote at all (``abstain``), or ``two`` verdicts — each order counted as a judgment of
its own, the convention of benchmarks that average over both orders (and the only one a log
with a single order per item allows).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from evalkit.errors import UsageError
from evalkit.panel._rows import ITEM, verdict_ok
from evalkit.panel._rule import Disagreement
from evalkit.records._status import FAILED_STATUSES, derive_status

#: What a judge's combined verdict is when its two orders disagree.
_ON_DISAGREEMENT: Final[dict[str, str | None]] = {"tie": "tie", "abstain": None, "two": None}
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
    "generator_family",
)
#: Columns of :func:`combine_orders`.
COMBINED_COLUMNS: Final = (
    *PAIR_KEYS,
    *_CARRIED,
    "verdict_ab",
    "verdict_ba",
    "verdict",
    "consistent",
    "n_valid_orders",
    "reason",
)


def _row_status(table: pd.DataFrame) -> pd.Series:
    """Why a pairwise row has, or lacks, a usable verdict."""
    # A table recorded before rows carried a status gets it from the one rule in records.
    status = table["status"] if "status" in table.columns else derive_status(table)
    return pd.Series(
        np.select(
            [verdict_ok(table), status.isin(FAILED_STATUSES), ~table["parse_ok"]],
            ["ok", "call failed", "unparseable"],
            default="no verdict",
        ),
        index=table.index,
    )


def _each_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Each order's verdict as a judgment of its own: ``sample`` becomes 2·sample (+1 for BA)."""
    keys = list(PAIR_KEYS)
    valid = rows["status"] == "ok"
    is_ba = (rows["order"] == "BA").to_numpy()
    verdict = rows["verdict"].where(valid).astype("string")
    out = rows[[*keys, *_CARRIED]].copy()
    out["sample"] = rows["sample"].to_numpy() * 2 + is_ba
    out["verdict_ab"] = verdict.where(~is_ba)
    out["verdict_ba"] = verdict.where(is_ba)
    out["verdict"] = verdict
    out["consistent"] = pd.Series(pd.NA, index=rows.index, dtype="boolean")
    out["n_valid_orders"] = valid.astype(int)
    out["reason"] = ("no valid " + rows["order"] + " verdict (" + rows["status"] + ")").where(
        ~valid
    )
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def combine_orders(table: pd.DataFrame, disagreement: Disagreement = "tie") -> pd.DataFrame:
    """Each judge's combined verdict per (suite, item_id, sample), from its two orders.

    ``table`` is a judgments table of judges' rows (as written by evalkit, or validated by
    :func:`evalkit.audit._table.validate_judgments`); only its pairwise rows are read. Returns one
    row per (suite, item_id, judge, sample) with the columns :data:`COMBINED_COLUMNS`:
    verdict_ab, verdict_ba (each the order's valid verdict or missing), verdict, consistent,
    n_valid_orders, reason, and the item's facts (families, lengths, human label). ``verdict``
    is:

    - the shared verdict when both orders agree (``consistent`` True, ``reason`` missing);
    - when they disagree, ``'tie'`` (``disagreement='tie'``) or missing (``'abstain'``), with
      ``reason`` naming both verdicts;
    - missing when an order has no valid verdict (``consistent`` missing), with ``reason``
      saying which order and why: call failed, unparseable, no verdict, or missing.

    With ``disagreement='two'`` nothing is combined: each row is its own judgment, keyed by
    ``sample`` 2·s for order AB and 2·s+1 for BA, with its verdict (missing when invalid, with
    the reason); a judge's vote is then split between its two orders by the panel, and an
    order never recorded is simply absent.

    Raises:
        UsageError: ``disagreement`` is not ``'tie'``, ``'abstain'`` or ``'two'``.
    """
    if disagreement not in _ON_DISAGREEMENT:
        raise UsageError(
            f"disagreement must be one of {', '.join(_ON_DISAGREEMENT)}, got {disagreement!r}"
        )
    keys = list(PAIR_KEYS)
    # The item's facts are carried when the table has them; a bare table still combines.
    rows = table.loc[table["mode"] == "pairwise"].reindex(
        columns=list(dict.fromkeys([*table.columns, *_CARRIED]))
    )
    if rows.empty:
        return pd.DataFrame(columns=list(COMBINED_COLUMNS))
    rows["status"] = _row_status(rows)
    if disagreement == "two":
        return _each_order(rows)
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
