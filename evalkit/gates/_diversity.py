"""The gate against the accepted run's diversity: no collapse beyond ``max_drop``.

A fine-tune or a regenerated eval set can keep its score while its texts contract toward the
mean: the same openings, the same phrasing, the rare cases gone. An accepted run keeps a seeded
sample of its suite's inputs and its candidate's answers (:mod:`evalkit.records._texts`); this
gate measures the run under test on the same kind of sample and compares the two with
:func:`evalkit.data.compare_diversity`, on subsets of one common size.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

from evalkit.errors import ConfigError
from evalkit.gates._gates import GateInputs, GateResult, decide, name_gate, not_applicable
from evalkit.records._texts import SuiteTexts, TextSample

#: What the gate can measure: the suite's clean inputs, or the candidate's answers to them.
Of = Literal["inputs", "answers"]
_OF: tuple[Of, ...] = ("inputs", "answers")


@dataclasses.dataclass(frozen=True, slots=True)
class Diversity:
    """The run's ``of`` texts must keep their diversity: at most ``max_drop`` of it lost.

    The figure is ``metric``'s relative loss of diversity against the accepted run, ``1 -
    D(now) / D(accepted)`` (see :class:`evalkit.data._diversity.DiversityChange`): 0.25 means a
    quarter of the accepted run's diversity is gone, a negative figure that the run is more
    diverse. ``metric`` is one of :data:`evalkit.data._diversity.FIGURES`. Its interval is the
    spread of the loss over paired random subsets of one size (half the smaller sample). The
    gate fails when the interval's **lower** bound is above ``max_drop`` (the loss is beyond
    ``max_drop`` at the run's confidence), passes when its **upper** bound is at or below
    ``max_drop``, and is otherwise inconclusive; also when either side has fewer than
    ``min_items`` texts, or there is no accepted run (as :class:`NoRegression` is: record one
    with ``--evalkit-accept``).
    """

    max_drop: float = 0.1
    of: Of = "answers"
    metric: str = "distinct_2"
    min_items: int = 20

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "diversity")

    def check(self) -> None:
        """Check the settings before any call.

        Raises:
            ConfigError: ``max_drop`` is not strictly between 0 and 1, ``of`` is neither
                ``inputs`` nor ``answers``, ``metric`` is not a diversity figure, or
                ``min_items`` is below 4.
        """
        from evalkit.data._diversity import FIGURES

        if not 0.0 < self.max_drop < 1.0:
            raise ConfigError(
                f"max_drop={self.max_drop!r}; give the share of the accepted run's diversity "
                "that may be lost, strictly between 0 and 1, e.g. 0.1"
            )
        if self.of not in _OF:
            raise ConfigError(f"of={self.of!r}; give 'inputs' or 'answers'")
        if self.metric not in FIGURES:
            raise ConfigError(f"metric={self.metric!r}; give one of {', '.join(FIGURES)}")
        if self.min_items < 4:
            raise ConfigError(
                f"min_items={self.min_items!r}; give at least 4 (diversity needs 4 texts)"
            )

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the accepted run's kept texts and this run's."""
        if inputs.accepted_texts is None:
            why = (
                "no accepted run to compare with; record one with --evalkit-accept"
                if inputs.accepted is None
                else "the accepted run kept no texts (it was accepted by an older evalkit); "
                "accept a run again with --evalkit-accept"
            )
            return not_applicable(self.name, self.max_drop, why)
        if inputs.texts is None:
            return not_applicable(self.name, self.max_drop, "this run kept no texts to compare")
        before, after = _comparable(inputs.accepted_texts, inputs.texts, self.of)
        return self._decide(before, after, inputs)

    def _decide(self, before: TextSample, after: TextSample, inputs: GateInputs) -> GateResult:
        from evalkit.data import compare_diversity

        change = compare_diversity(
            before.texts, after.texts, seed=inputs.seed, confidence=inputs.confidence
        )
        loss = change.loss[self.metric]
        n = min(len(before.texts), len(after.texts))
        details: dict[str, Any] = {
            "kind": "diversity", "of": self.of, "metric": self.metric,
            "max_drop": self.max_drop, "n_accepted": before.n, "n_now": after.n,
            **change.to_dict(),
        }  # fmt: skip
        if loss.value is None or loss.low is None or loss.high is None:
            return GateResult(
                self.name, "inconclusive", math.nan, math.nan, math.nan, n, self.max_drop,
                f"{self.metric} of the {self.of} not measurable: {loss.reason}", details,
            )  # fmt: skip
        # A loss is bad when high: flip the signs so that decide's "pass when low >= threshold"
        # reads "pass when the upper bound <= max_drop, fail when the lower bound > max_drop".
        outcome = decide(-loss.high, -loss.low, -self.max_drop, n=n, min_items=self.min_items)
        old, new = change.before[self.metric], change.after[self.metric]
        message = (
            f"{self.metric} of the {self.of}: {_value(old.value)} accepted, {_value(new.value)} "
            f"now (subsets of {change.subset_size}); {loss.value:.1%} of the accepted run's "
            f"diversity lost [{loss.low:.1%}, {loss.high:.1%}]; fails when the lower bound is "
            f"above {self.max_drop:.1%}, passes when the upper bound is at or below it"
        )
        if n < self.min_items:
            message += f"; too few texts (need {self.min_items} on each side)"
        return GateResult(
            self.name, outcome, loss.value, loss.low, loss.high, n, self.max_drop, message,
            details,
        )  # fmt: skip


def _comparable(accepted: SuiteTexts, now: SuiteTexts, of: Of) -> tuple[TextSample, TextSample]:
    """The two samples of ``of``, each text cut to the shorter of the two runs' cuts.

    Both are kept by :func:`evalkit.data._kept.keep_texts`; should the accepted run have been
    kept with another cut, the longer texts are cut again so that length and n-gram figures
    are measured alike.
    """
    cut = min(accepted.max_chars, now.max_chars)
    before, after = getattr(accepted, of), getattr(now, of)
    return (
        TextSample(n=before.n, texts=[t[:cut] for t in before.texts]),
        TextSample(n=after.n, texts=[t[:cut] for t in after.texts]),
    )


def _value(value: float | None) -> str:
    return "not measurable" if value is None else f"{value:.3f}"
