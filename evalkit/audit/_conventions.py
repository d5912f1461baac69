"""Conventions for counting a judge log, as options with stated defaults.

Papers and leaderboards count the same judgments differently; the audit makes each choice an
option, says which one it used, and computes every figure from the one panel rule
(:class:`evalkit.panel.PanelRule`) — a convention is a setting of that rule or of the rows,
never a second implementation.

``flip`` — what a judge's two orders disagreeing count as (``PanelRule.disagreement``):

- ``tie`` (default): the judge could not separate the answers. This is MT-Bench's rule for
  its pairwise GPT-4 judgments (a win only when both orders agree; inconsistent pairs are
  ties) and evalkit's own panels.
- ``abstain``: no vote from that judge on that item; the item is decided by the other judges
  or abstained (the "drop inconsistent pairs" reading some position-bias studies use).
- ``two``: each order is a verdict of its own and the judge's vote is split between them;
  agreement and accuracy are then averaged over the orders. This is the reading behind
  accuracy "averaged over both orders", and the only one a log with a single order per item
  allows (AlpacaEval's annotations, one randomised order per item, already mapped back; most
  production logs), which is why it is the default there.

``missing`` — what a row without a verdict (unparseable, failed, empty) counts as:

- ``missing`` (default): no verdict; counted and shown, in no denominator.
- ``tie``: a tie, as some harnesses record a judge answer they cannot parse.

Beside these, every audit reports both readings of accuracy against human labels: of the
combined verdict (``accuracy``) and averaged over the two orders (``accuracy_orders``, the
figure many papers report), and the win rate with both its Wilson interval and its standard
error (ties as half a win).
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

import pandas as pd

from evalkit.audit._table import verdict_ok
from evalkit.errors import UsageError
from evalkit.panel import PanelRule
from evalkit.panel._rule import Disagreement

Missing = Literal["missing", "tie"]
FLIPS: Final = ("tie", "abstain", "two")
MISSINGS: Final = ("missing", "tie")


@dataclasses.dataclass(frozen=True, slots=True)
class Conventions:
    """How a log is counted: ``flip`` and ``missing``.

    ``flip`` None means the default for the log's shape: ``two`` when it has one order per
    item, else ``tie``.
    """

    flip: Disagreement | None = None
    missing: Missing = "missing"

    def __post_init__(self) -> None:
        """Refuse a convention the audit does not know, naming the option."""
        if self.flip is not None and self.flip not in FLIPS:
            raise UsageError(f"--flip {self.flip!r}: use one of {', '.join(FLIPS)}")
        if self.missing not in MISSINGS:
            raise UsageError(f"--missing {self.missing!r}: use one of {', '.join(MISSINGS)}")

    def flip_for(self, table: pd.DataFrame) -> Disagreement:
        """The flip convention for ``table``: the chosen one, or the default for its shape."""
        if self.flip is not None:
            return self.flip
        return "two" if one_order_only(table) else "tie"

    def rule(self, table: pd.DataFrame, base: PanelRule | None = None) -> PanelRule:
        """``base`` (default: the default rule) with this flip convention."""
        return dataclasses.replace(base or PanelRule(), disagreement=self.flip_for(table))

    def apply(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows as the ``missing`` convention counts them (a validated table in and out)."""
        if self.missing == "missing":
            return table
        lost = (table["mode"] == "pairwise") & ~verdict_ok(table)
        if not lost.any():
            return table
        out = table.copy()
        out.loc[lost, "verdict"] = "tie"
        out.loc[lost, "parse_ok"] = True
        out.loc[lost, "error"] = pd.NA
        out.loc[lost, "status"] = "ok"
        return out

    def describe(self, table: pd.DataFrame) -> str:
        """One line saying which conventions were used, for the output."""
        flip = self.flip_for(table)
        why = " (one order per item)" if self.flip is None and flip == "two" else ""
        meaning = {
            "tie": "a tie",
            "abstain": "no vote",
            "two": "two verdicts, one per order",
        }[flip]
        single, pairs = _order_counts(table)
        lone = (
            f"; {single} of {pairs} judge-item pairs were judged in one order only and get no "
            "combined verdict (--flip two counts them)"
            if flip != "two" and single
            else ""
        )
        return (
            f"conventions: orders that disagree count as {meaning} (--flip {flip}){why}; "
            f"a missing verdict counts as {'a tie' if self.missing == 'tie' else 'missing'} "
            f"(--missing {self.missing}){lone}"
        )


def _order_counts(table: pd.DataFrame) -> tuple[int, int]:
    """Pairwise (item, judge, sample) pairs judged in one order only, and all of them."""
    rows = table.loc[table["mode"] == "pairwise"]
    if rows.empty:
        return 0, 0
    orders = rows.groupby(["suite", "item_id", "judge", "sample"], sort=False)["order"].nunique()
    return int((orders < 2).sum()), len(orders)


def one_order_only(table: pd.DataFrame) -> bool:
    """Whether no pairwise (item, judge, sample) of ``table`` was judged in both orders."""
    single, pairs = _order_counts(table)
    return pairs > 0 and single == pairs
