"""Eval data that matches reality: does the eval set look like production; has it collapsed.

Pure functions of lists of texts (no model is called, no judging code is imported).

- Does it look like production: :func:`compare` → :class:`Comparison` — a shift per text
  descriptor (length, case, punctuation, misspellings, chat register, …), a classifier test
  (cross-validated ROC AUC, 0.5 = indistinguishable), and the least covered texts both ways.
- Has it collapsed: :func:`diversity` → :class:`DiversityFigures`, and :func:`compare_diversity` for
  two versions of a dataset.

Every figure is an estimate with its n and interval, or "not measurable" with the reason.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from evalkit.data._compare import Comparison, compare
    from evalkit.data._diversity import DiversityFigures, compare_diversity, diversity

# scikit-learn and scipy take a second to import: a suite module that only declares
# perturbations (evalkit.data._perturb) must not pay for them at collection.
_WHERE = {
    "Comparison": "_compare", "compare": "_compare",
    "DiversityFigures": "_diversity", "compare_diversity": "_diversity", "diversity": "_diversity",
}  # fmt: skip


def __getattr__(name: str) -> _typing.Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'evalkit.data' has no attribute {name!r}")
    return getattr(_importlib.import_module(f"evalkit.data.{_WHERE[name]}"), name)


__all__ = [
    "Comparison",
    "DiversityFigures",
    "compare",
    "compare_diversity",
    "diversity",
]
