"""Eval data that matches reality: does the eval set look like production; has it collapsed.

Pure functions of lists of texts (no model is called, no judging code is imported).

- Does it look like production: :func:`compare` → :class:`Comparison` — a shift per text
  descriptor (length, case, punctuation, misspellings, chat register, …), a classifier test
  (cross-validated ROC AUC, 0.5 = indistinguishable), and the least covered texts both ways.
- Has it collapsed: :func:`diversity` → :class:`Diversity`, and :func:`compare_diversity` for
  two versions of a dataset.

Every figure is an estimate with its n and interval, or "not measurable" with the reason.
"""

from evalkit.data._compare import Comparison, compare
from evalkit.data._diversity import Diversity, compare_diversity, diversity

__all__ = [
    "Comparison",
    "Diversity",
    "compare",
    "compare_diversity",
    "diversity",
]
