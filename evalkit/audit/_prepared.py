"""A validated judgments table with the derived tables the statistics share.

Every public statistic validates its input and derives what it needs (combined verdicts, the
judges' values per unit). :func:`~evalkit.audit.run_audit` computes a dozen statistics from one
table, so it validates once and derives each table once, through :class:`Prepared`.
"""

from __future__ import annotations

import functools

import pandas as pd

from evalkit.audit._agreement import Ratings, ratings_by_mode
from evalkit.audit._table import audited, score_ok, verdict_ok
from evalkit.panel import combine_orders


class Prepared:
    """A table that passed :func:`validate_judgments`, and its derived tables, made on demand.

    ``table`` holds the judges' rows only: deterministic graders' rows are left out (see
    :func:`~evalkit.audit._table.judges_only`).
    """

    def __init__(self, valid: pd.DataFrame) -> None:
        self.table = valid

    @classmethod
    def of(cls, table: pd.DataFrame) -> Prepared:
        """Validate ``table`` and leave graders' rows out (UsageError if it is invalid)."""
        return cls(audited(table))

    @functools.cached_property
    def combined(self) -> pd.DataFrame:
        """Combined verdicts per (item, judge, sample), disagreeing orders counted as a tie."""
        return combine_orders(self.table, "tie")

    @functools.cached_property
    def ratings(self) -> list[Ratings]:
        """The judges' values per unit, one :class:`Ratings` per mode."""
        return ratings_by_mode(self.table, self.combined)

    @functools.cached_property
    def judges(self) -> pd.DataFrame:
        """One row per judge: judge, judge_family, n_rows, n_usable (calls with a verdict/score)."""
        usable = verdict_ok(self.table) | score_ok(self.table)
        return (
            self.table.assign(usable=usable)
            .groupby("judge", sort=True)
            .agg(
                judge_family=("judge_family", "first"),
                n_rows=("usable", "size"),
                n_usable=("usable", "sum"),
            )
            .reset_index()
        )
