"""Which rows of a judgments table carry a usable verdict or score.

The panel counts only these, and so does every statistic of the audit: one definition, here.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

#: The identity of an item across the table.
ITEM: Final = ("suite", "item_id")
#: Modes whose rows carry a score rather than a verdict.
SCORE_MODES: Final = ("pointwise", "reference")


def verdict_ok(table: pd.DataFrame) -> pd.Series:
    """Pairwise rows that carry a usable verdict: parsed, no error, verdict present."""
    return (
        (table["mode"] == "pairwise")
        & table["parse_ok"]
        & table["error"].isna()
        & table["verdict"].notna()
    ).astype(bool)


def score_ok(table: pd.DataFrame) -> pd.Series:
    """Pointwise or reference rows that carry a usable score."""
    return (
        table["mode"].isin(SCORE_MODES)
        & table["parse_ok"]
        & table["error"].isna()
        & table["score"].notna()
    ).astype(bool)
