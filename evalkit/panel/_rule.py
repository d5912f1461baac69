"""The panel's rule: how judge rows become item verdicts, as one small value.

The session builds a :class:`PanelRule` from the suite's panel spec and hands the same value to
the audit, the gates and the report, so that every figure comes from one rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from evalkit.errors import UsageError

Disagreement = Literal["tie", "abstain", "two"]
#: What each reliability verdict weighs under ``aggregation: weighted`` unless the panel says.
DEFAULT_RELIABILITY_WEIGHTS: Final[Mapping[str, float]] = {
    "trusted": 1.0,
    "questionable": 0.5,
    "untrusted": 0.0,
}


def check_quorum(quorum: object) -> int:
    """Return ``quorum`` as a whole number of judges, at least 1.

    Raises:
        UsageError: anything else (a bool, a fraction, zero or less).
    """
    if isinstance(quorum, bool) or not isinstance(quorum, int | np.integer) or quorum < 1:
        raise UsageError(f"quorum must be a whole number of judges, at least 1; got {quorum!r}")
    return int(quorum)


def default_quorum(n_judges: int) -> int:
    """Return a majority of the panel's judges: 1 of 1, 2 of 2 or 3, 3 of 4 or 5, and so on."""
    return n_judges // 2 + 1


@dataclasses.dataclass(frozen=True, slots=True)
class PanelRule:
    """How a panel turns its judges' rows into one verdict (or score) per item.

    ``aggregation`` names a registered method (:data:`evalkit.panel.AGGREGATORS`); a mode of
    the other kind (scores in a verdict rule, or the reverse) uses ``majority`` for verdicts and
    ``mean`` for scores. ``quorum`` is the fewest judges with a valid value an item needs (None:
    a majority of the mode's judges). ``disagreement`` is what a judge's two orders disagreeing
    count as: ``tie``, ``abstain`` (no vote) or ``two`` (each order's verdict is a verdict of
    its own, the judge's vote split between them; see :func:`combine_orders`). ``weights``
    maps each reliability verdict of the audit (trusted, questionable, untrusted) to a judge's
    weight under ``weighted``.
    """

    aggregation: str = "majority"
    quorum: int | None = None
    disagreement: Disagreement = "tie"
    weights: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: dict(DEFAULT_RELIABILITY_WEIGHTS)
    )

    def __post_init__(self) -> None:
        """Refuse a rule no panel could apply, naming the field."""
        if self.disagreement not in ("tie", "abstain", "two"):
            raise UsageError(
                f"disagreement must be 'tie', 'abstain' or 'two', got {self.disagreement!r}"
            )
        if self.quorum is not None:
            check_quorum(self.quorum)

    def quorum_for(self, n_judges: int) -> int:
        """The quorum of a mode with ``n_judges`` judges."""
        return self.quorum if self.quorum is not None else default_quorum(n_judges)

    def judge_weights(self, reliability: pd.DataFrame) -> dict[str, float]:
        """Each judge's weight from its reliability verdict (columns judge, verdict).

        Raises:
            UsageError: a verdict has no weight in ``weights``.
        """
        missing = sorted(set(map(str, reliability["verdict"])) - set(self.weights))
        if missing:
            raise UsageError(
                f"the panel's reliability_weights give no weight to {', '.join(missing)}; add it"
            )
        return {
            str(j): float(self.weights[str(v)])
            for j, v in zip(reliability["judge"], reliability["verdict"], strict=True)
        }

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (what run.json records of the rule)."""
        return {
            "aggregation": self.aggregation,
            "quorum": self.quorum,
            "disagreement": self.disagreement,
            "weights": dict(self.weights),
        }
