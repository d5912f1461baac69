"""The signature of swapped-order verdicts that were never mapped back to the original labels.

A classic mistake in judge logs: the answers are swapped for the second order, the judge says
"A" (the answer shown first), and "A" is recorded as the candidate in both orders. Audited as
they are, such verdicts look like a judge that flips on almost every item — yet, within each
order, its verdicts vary from item to item as a judge's who reads the answers would. A judge
with a real position bias flips too, but only by picking the same position on most items, so
each order alone is dominated by one label.

The signature, per judge, over the items with a valid verdict in both orders:

- consistency far below 0.5 (below :data:`MAX_CONSISTENCY`);
- consistency at least :data:`MIN_RELABELLED` once the BA verdicts' candidate and baseline are
  exchanged;
- within each order, no label holds more than :data:`MAX_LABEL_SHARE` of the decisive verdicts;
- at least :data:`MIN_ITEMS` such items.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

MAX_CONSISTENCY: Final = 0.35
MIN_RELABELLED: Final = 0.65
MAX_LABEL_SHARE: Final = 0.8
MIN_ITEMS: Final = 20
_EXCHANGED: Final = {"candidate": "baseline", "baseline": "candidate", "tie": "tie"}
COLUMNS: Final = (
    "judge",
    "n_items",
    "consistency",
    "consistency_relabelled",
    "label_share_ab",
    "label_share_ba",
    "unmapped",
)


def _label_share(verdicts: pd.Series) -> float:
    decisive = verdicts.loc[verdicts.isin(["candidate", "baseline"])]
    return float(decisive.value_counts(normalize=True).max()) if len(decisive) else np.nan


def swap_signature(combined: pd.DataFrame) -> pd.DataFrame:
    """Per judge, the figures of the signature and whether it is present (``unmapped``).

    ``combined`` is :func:`evalkit.panel.combine_orders` of the table (``tie``). One row per
    judge with columns :data:`COLUMNS`; rates are NaN for a judge with no item in both orders.
    """
    both = combined.loc[combined["n_valid_orders"] == 2]
    rows = []
    for judge, part in both.groupby("judge", sort=True):
        ab, ba = part["verdict_ab"].astype(str), part["verdict_ba"].astype(str)
        n = len(part)
        consistency = float((ab == ba).mean())
        relabelled = float((ab == ba.map(_EXCHANGED)).mean())
        share_ab, share_ba = _label_share(ab), _label_share(ba)
        unmapped = (
            n >= MIN_ITEMS
            and consistency < MAX_CONSISTENCY
            and relabelled >= MIN_RELABELLED
            and max(share_ab, share_ba) <= MAX_LABEL_SHARE
        )
        rows.append((judge, n, consistency, relabelled, share_ab, share_ba, bool(unmapped)))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def swap_warnings(signature: pd.DataFrame) -> list[str]:
    """One warning, with the fix, per judge whose verdicts carry the signature."""
    out = []
    for row in signature.loc[signature["unmapped"]].to_dict("records"):
        share = max(float(row["label_share_ab"]), float(row["label_share_ba"]))
        out.append(
            f"warning: judge {row['judge']}: its two orders disagree on "
            f"{1 - float(row['consistency']):.1%} of {int(row['n_items'])} items, yet within "
            f"each order its verdicts vary (no label above {share:.0%}), and exchanging "
            "candidate and baseline in its BA verdicts would make it "
            f"{float(row['consistency_relabelled']):.1%} consistent: the BA verdicts look like "
            "positions "
            "(A/B) never mapped back to candidate/baseline. If the log's verdicts name the "
            "position picked, map them to first/second (e.g. --map "
            "verdict=COLUMN:1=first,2=second,0=tie) and evalkit maps them back through the order"
        )
    return out
