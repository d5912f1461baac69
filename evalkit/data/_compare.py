"""Does the eval set look like production? Descriptor shifts, a classifier test, coverage.

Coverage is twofold: the texts of each side with no close neighbour on the other, and the
kinds of production request (clusters, :mod:`evalkit.data._clusters`) the eval set never asks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

import pandas as pd

from evalkit.data._classifier import ClassifierTest, classifier_test
from evalkit.data._clusters import Coverage, coverage
from evalkit.data._coverage import Neighbour, least_covered
from evalkit.data._descriptors import descriptor_frames
from evalkit.data._estimate import check_confidence, not_measurable
from evalkit.data._sample import NEIGHBOUR_QUERIES, NEIGHBOUR_REFERENCE, seeded_sample
from evalkit.data._shift import DescriptorShift, descriptor_shifts

#: Share of words unknown to the English dictionary past which a sample is called non-English.
NOT_ENGLISH: Final = 0.4
#: Texts per side the descriptors are compared on; past this the distance's interval is
#: already about ±0.02 wide, and the string scans would dominate the run time.
DESCRIPTOR_ROWS: Final = 50_000
#: Texts per side the classifier sees (half to train, half to test); the held-out AUC's
#: interval is then about ±0.01 wide.
CLASSIFIER_ROWS: Final = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """Eval inputs against production inputs: every figure with its n and interval.

    ``least_like_production`` are eval texts whose nearest production text is least similar;
    ``least_covered_production`` are production texts with no close eval text.
    """

    n_eval: int
    n_prod: int
    seed: int
    confidence: float
    shifts: tuple[DescriptorShift, ...]
    classifier: ClassifierTest
    least_like_production: tuple[Neighbour, ...]
    least_covered_production: tuple[Neighbour, ...]
    notes: tuple[str, ...] = ()
    #: production's kinds of request (clusters) and those the eval set does not ask.
    coverage: Coverage | None = None

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready values."""
        return dataclasses.asdict(self)

    def flagged(self) -> tuple[DescriptorShift, ...]:
        """The descriptors that moved by at least a small effect, surely."""
        return tuple(s for s in self.shifts if s.flagged)

    def summary_lines(self, examples: int = 3) -> list[str]:
        """A short terminal summary: the AUC, the flagged descriptors, a few examples."""
        auc = self.classifier.auc
        lines = [
            f"eval {self.n_eval} texts vs production {self.n_prod} texts "
            f"(seed {self.seed}, {self.confidence:.0%} intervals)",
            f"classifier AUC {auc} — 0.5 means indistinguishable",
        ]
        lines += [f"  note: {note}" for note in self.notes]
        if self.classifier.eval_features:
            lines.append("  marks eval: " + ", ".join(map(repr, self.classifier.eval_features[:5])))
        if self.classifier.prod_features:
            lines.append(
                "  marks production: " + ", ".join(map(repr, self.classifier.prod_features[:5]))
            )
        flagged = self.flagged()
        lines.append(f"descriptors that differ ({len(flagged)} of {len(self.shifts)}):")
        lines += [f"  {s.name}: eval inputs {s.direction}; d = {s.distance}" for s in flagged]
        if self.coverage is not None:
            lines += self.coverage.summary_lines()
        for title, rows in (
            ("eval items least like production", self.least_like_production),
            ("production inputs least covered by the eval set", self.least_covered_production),
        ):
            if rows:
                lines.append(f"{title}:")
                lines += [f"  {r.similarity:.2f}  {r.text[:100]!r}" for r in rows[:examples]]
        return lines


def _language_notes(frame: pd.DataFrame, side: str) -> list[str]:
    """A warning when a side is mostly not English: the spelling descriptors assume English."""
    if frame.empty:
        return []
    unknown = float(frame["misspelling_rate"].mean())
    if unknown < NOT_ENGLISH:
        return []
    return [
        f"{unknown:.0%} of the {side} words are not in the English dictionary: is it another "
        "language? misspelling_rate and has_misspelling measure English spelling only"
    ]


def compare(
    eval_texts: Sequence[str],
    prod_texts: Sequence[str],
    *,
    seed: int = 0,
    confidence: float = 0.95,
    top: int = 10,
    prod_tags: Sequence[str] | None = None,
) -> Comparison:
    """Compare eval inputs with a sample of production inputs (no labels needed).

    Descriptors use up to :data:`DESCRIPTOR_ROWS` texts per side, the classifier up to
    :data:`CLASSIFIER_ROWS`, and the neighbour search :data:`NEIGHBOUR_QUERIES` against
    :data:`NEIGHBOUR_REFERENCE`, each a sample drawn with ``seed`` (said in ``notes``).
    ``prod_tags`` (one per production text) make the kinds of request the tags rather than
    clusters (see :func:`evalkit.data._clusters.coverage`).
    Samples too small to measure, or identical, give "not measurable" figures with the reason
    instead of an error.

    Raises:
        ConfigError: ``confidence`` is not between 0 and 1.
    """
    check_confidence(confidence)
    ev, pv = [str(t) for t in eval_texts], [str(t) for t in prod_texts]
    notes: list[str] = []
    d_e, d_p = seeded_sample(ev, DESCRIPTOR_ROWS, seed), seeded_sample(pv, DESCRIPTOR_ROWS, seed)
    if (len(d_e), len(d_p)) != (len(ev), len(pv)):
        notes.append(
            f"descriptors on a seeded sample of {len(d_e)} eval and {len(d_p)} production texts"
        )
    eval_frame, prod_frame = descriptor_frames(d_e, d_p)
    notes += _language_notes(eval_frame, "eval") + _language_notes(prod_frame, "production")
    shifts = descriptor_shifts(eval_frame, prod_frame, seed=seed, confidence=confidence)
    kinds = coverage(ev, pv, seed=seed, confidence=confidence, prod_tags=prod_tags)
    notes += kinds.notes
    if sorted(ev) == sorted(pv):
        reason = "the eval and production samples are the same texts"
        # Nothing can differ; leave-one-out OOV would still differ (a text finds its own copy).
        gone = not_measurable(reason, len(ev) + len(pv), confidence)
        shifts = tuple(dataclasses.replace(s, distance=gone, flagged=False) for s in shifts)
        classifier = ClassifierTest(
            not_measurable(reason, len(ev) + len(pv), confidence), len(ev), len(pv), 0, (), ()
        )
        return Comparison(
            len(ev), len(pv), seed, confidence, shifts, classifier, (), (), tuple(notes), kinds
        )
    cls_e, cls_p = (
        seeded_sample(ev, CLASSIFIER_ROWS, seed),
        seeded_sample(pv, CLASSIFIER_ROWS, seed),
    )
    if (len(cls_e), len(cls_p)) != (len(ev), len(pv)):
        notes.append(
            f"classifier on a seeded sample of {len(cls_e)} eval and {len(cls_p)} production texts"
        )
    classifier = classifier_test(cls_e, cls_p, seed=seed, confidence=confidence)
    q_e, q_p = (
        seeded_sample(ev, NEIGHBOUR_QUERIES, seed),
        seeded_sample(pv, NEIGHBOUR_QUERIES, seed),
    )
    r_e = seeded_sample(ev, NEIGHBOUR_REFERENCE, seed)
    r_p = seeded_sample(pv, NEIGHBOUR_REFERENCE, seed)
    if len(q_e) < len(ev) or len(q_p) < len(pv):
        notes.append(
            f"neighbours: {len(q_e)} eval and {len(q_p)} production texts searched, "
            f"against up to {NEIGHBOUR_REFERENCE} of the other side"
        )
    return Comparison(
        len(ev),
        len(pv),
        seed,
        confidence,
        shifts,
        classifier,
        least_covered(q_e, r_p, top=top),
        least_covered(q_p, r_e, top=top),
        tuple(notes),
        kinds,
    )
