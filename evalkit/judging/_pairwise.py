"""Position swaps for pairwise judging, and mapping a shown label back to the original one.

Every pairwise item is judged in both orders: ``AB`` shows the candidate first, ``BA`` shows
the baseline first. The judge answers in shown labels (A, B, tie); :func:`to_verdict` maps that
back to the original labels so that the judgments table never depends on the order.

>>> a, b = present("BA", candidate="cand", baseline="base")
>>> (a, b)
('base', 'cand')
>>> to_verdict("BA", "A")
'baseline'
>>> all(to_verdict(o, shown_label(o, v)) == v for o in ORDERS for v in VERDICTS)
True
"""

from __future__ import annotations

from typing import Final, TypeVar

from evalkit.judging._parsers import Label
from evalkit.records._judgments import ORDERS, VERDICTS, Order, Verdict

__all__ = ["ORDERS", "VERDICTS", "present", "shown_label", "to_verdict"]

T = TypeVar("T")
_FIRST: Final[dict[Order, Verdict]] = {"AB": "candidate", "BA": "baseline"}
_SECOND: Final[dict[Order, Verdict]] = {"AB": "baseline", "BA": "candidate"}


def present(order: Order, *, candidate: T, baseline: T) -> tuple[T, T]:
    """Return (answer shown as A, answer shown as B) for ``order`` (texts, or transcripts)."""
    return (candidate, baseline) if order == "AB" else (baseline, candidate)


def to_verdict(order: Order, label: Label) -> Verdict:
    """Map a label as the judge saw it back to the original verdict."""
    if label == "tie":
        return "tie"
    return _FIRST[order] if label == "A" else _SECOND[order]


def shown_label(order: Order, verdict: Verdict) -> Label:
    """The label the judge must give in ``order`` to mean ``verdict`` (inverse of to_verdict)."""
    if verdict == "tie":
        return "tie"
    return "A" if _FIRST[order] == verdict else "B"
