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
from evalkit.panel._rule import Disagreement


class Prepared:
    """A table that passed :func:`validate_judgments`, and its derived tables, made on demand.

    ``table`` holds the judges' rows only: deterministic graders' rows are left out (see
    :func:`~evalkit.audit._table.judges_only`).
    """

    def __init__(self, valid: pd.DataFrame, disagreement: Disagreement = "tie") -> None:
        self.table = valid
        self.disagreement = disagreement

    @classmethod
    def of(cls, table: pd.DataFrame, disagreement: Disagreement = "tie") -> Prepared:
        """Validate ``table`` and leave graders' rows out (UsageError if it is invalid).

        ``disagreement`` is the panel rule's: under ``two`` each order's verdict is a unit of
        the agreement statistics (and of accuracy against humans) of its own.
        """
        return cls(audited(table), disagreement)

    @functools.cached_property
    def combined(self) -> pd.DataFrame:
        """Combined verdicts per (item, judge, sample), disagreeing orders counted as a tie."""
        return combine_orders(self.table, "tie")

    @functools.cached_property
    def each_order(self) -> pd.DataFrame:
        """Each order's verdict as a judgment of its own (``combine_orders(table, "two")``)."""
        return combine_orders(self.table, "two")

    @functools.cached_property
    def ratings(self) -> list[Ratings]:
        """The judges' values per unit, one :class:`Ratings` per mode."""
        units = self.each_order if self.disagreement == "two" else self.combined
        return ratings_by_mode(self.table, units)

    @functools.cached_property
    def order_ratings(self) -> Ratings | None:
        """The judges' pairwise verdicts with each order a unit (None without pairwise rows)."""
        pairwise = [r for r in ratings_by_mode(self.table, self.each_order) if r.mode == "pairwise"]
        return pairwise[0] if pairwise else None

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
