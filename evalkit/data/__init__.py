"""Eval data that matches reality: does the eval set look like production; has it collapsed.

Pure functions of lists of texts (no model is called, no judging code is imported); the one
file reader, :func:`read_texts`, sits at the edge.

- Descriptors: :func:`descriptor_frames` (length, case, punctuation, misspellings, chat
  register, several requests, question form, emoji / URLs / code, out-of-vocabulary rate),
  listed in :data:`DESCRIPTORS`.
- Does it look like production: :func:`compare` → :class:`Comparison` — a
  :class:`DescriptorShift` per descriptor, a :class:`ClassifierTest` (cross-validated ROC AUC,
  0.5 = indistinguishable), and the least covered texts both ways (:class:`Neighbour`).
- Has it collapsed: :func:`diversity` → :class:`Diversity`, and :func:`compare_diversity` →
  :class:`DiversityChange` for two versions of a dataset.

Every figure is an :class:`Estimate` with its n and interval, or "not measurable" with the
reason.
"""

from evalkit.data._classifier import ClassifierTest, classifier_test, delong_auc
from evalkit.data._compare import Comparison, compare
from evalkit.data._coverage import Neighbour
from evalkit.data._descriptors import DESCRIPTORS, Descriptor, descriptor_frames
from evalkit.data._diversity import (
    Diversity,
    DiversityChange,
    compare_diversity,
    compression_ratio,
    distinct_n,
    diversity,
    near_duplicate_flags,
    openings,
)
from evalkit.data._estimate import Estimate
from evalkit.data._read import Texts, read_texts
from evalkit.data._shift import DescriptorShift, describe_direction

__all__ = [
    "DESCRIPTORS",
    "ClassifierTest",
    "Comparison",
    "Descriptor",
    "DescriptorShift",
    "Diversity",
    "DiversityChange",
    "Estimate",
    "Neighbour",
    "Texts",
    "classifier_test",
    "compare",
    "compare_diversity",
    "compression_ratio",
    "delong_auc",
    "describe_direction",
    "descriptor_frames",
    "distinct_n",
    "diversity",
    "near_duplicate_flags",
    "openings",
    "read_texts",
]
