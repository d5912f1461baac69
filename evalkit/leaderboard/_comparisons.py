"""The leaderboard's input: one row per item and pair of models, with the panel's verdict.

A judgments table with several candidates holds, per pairwise row, a ``candidate`` and a
``baseline`` model: each candidate against the suite's baseline, and optionally round-robin
pairs between candidates (one of them then sits in the ``baseline`` column). The item verdict
of every pair comes from the one panel rule (:func:`evalkit.panel.item_verdicts`), applied to
that pair's rows: both orders combined per the rule, quorum and aggregation as everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from evalkit.errors import UsageError
from evalkit.graders._base import GRADER_FAMILY
from evalkit.panel import PanelRule, item_verdicts

#: Columns of :func:`comparisons`.
COMPARISON_COLUMNS: Final = (
    "suite",
    "item_id",
    "model_a",
    "model_b",
    "verdict",
    "score",
    "abstained",
    "len_a",
    "len_b",
)
#: What a panel verdict is worth to model_a (the row's candidate): a tie is half a win, the
#: convention of arena-hard and Chatbot Arena.
SCORES: Final[Mapping[str, float]] = {"candidate": 1.0, "tie": 0.5, "baseline": 0.0}
_PAIR: Final = ["candidate", "baseline"]
_LENGTHS: Final = ["len_candidate", "len_baseline"]


def comparisons(
    table: pd.DataFrame,
    rule: PanelRule | None = None,
    judge_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The panel's verdict for every item of every (candidate, baseline) pair of ``table``.

    Only pairwise rows of judges are read (deterministic graders are not judges). Returns one
    row per (suite, item_id, pair) with :data:`COMPARISON_COLUMNS`: ``model_a`` is the row's
    candidate, ``model_b`` its baseline, ``verdict`` the panel's (``candidate``, ``baseline``,
    ``tie``, or missing when abstained), ``score`` what it is worth to ``model_a`` (1, ½, 0;
    missing when abstained), and the two answers' lengths when the table has them.

    Raises:
        UsageError: the table has no pairwise rows, a column the panel needs is missing, or a
            row names no candidate or baseline, or the same model as both.
    """
    missing = sorted({"mode", "judge", "verdict", "order", *_PAIR} - set(table.columns))
    if missing:
        raise UsageError(
            f"the judgments table has no column {', '.join(missing)}: a leaderboard needs "
            "pairwise rows with candidate and baseline models"
        )
    rows = table.loc[table["mode"] == "pairwise"]
    if "judge_family" in rows.columns:
        rows = rows.loc[~(rows["judge_family"] == GRADER_FAMILY).fillna(False).astype(bool)]
    if rows.empty:
        raise UsageError("the judgments table has no pairwise judge rows to rank models by")
    unnamed = rows[_PAIR].isna().any(axis=1)
    if unnamed.any():
        raise UsageError(
            f"{int(unnamed.sum())} pairwise rows name no candidate or no baseline model "
            f"(first at row {rows.index[unnamed.to_numpy()][0]}); every pairwise row needs both"
        )
    same = rows["candidate"] == rows["baseline"]
    if same.any():
        raise UsageError(
            f"pairwise rows compare {rows.loc[same, 'candidate'].iloc[0]!r} with itself "
            f"(first at row {rows.index[same.to_numpy()][0]}); a model cannot be ranked "
            "against itself"
        )
    rule = rule or PanelRule()
    parts = []
    # One panel per pair of models: the panel keys items by (suite, item_id) alone.
    for (cand, base), pair in rows.groupby(_PAIR, sort=True):
        panel = item_verdicts(pair, rule, judge_weights)["pairwise"]
        lengths = pair.reindex(columns=["suite", "item_id", *_LENGTHS])
        lengths = lengths.groupby(["suite", "item_id"], sort=False)[_LENGTHS].first()
        panel = panel.merge(lengths, on=["suite", "item_id"], how="left")
        parts.append(
            pd.DataFrame(
                {
                    "suite": panel["suite"].astype(str),
                    "item_id": panel["item_id"].astype(str),
                    "model_a": str(cand),
                    "model_b": str(base),
                    "verdict": panel["verdict"].astype("string"),
                    "score": panel["verdict"].map(SCORES).astype(float),
                    "abstained": panel["abstained"].astype(bool),
                    "len_a": pd.to_numeric(panel["len_candidate"], errors="coerce"),
                    "len_b": pd.to_numeric(panel["len_baseline"], errors="coerce"),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["score"] = out["score"].where(~out["abstained"], np.nan)
    return out.reindex(columns=list(COMPARISON_COLUMNS))
