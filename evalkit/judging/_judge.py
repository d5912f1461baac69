"""A validated judge and panel, and what a judge's prompt and reply look like in each mode.

Template variables by mode (every judge template of that mode gets exactly these):

- ``pairwise``: ``question``, ``answer_a``, ``answer_b`` (in the order of the call, see
  :mod:`evalkit.judging._pairwise`);
- ``pointwise``: ``question``, ``answer``, ``scale_min``, ``scale_max``, ``options`` (a list of
  ``{score, label}`` in the listing's order) and ``option_order`` (``ascending`` or
  ``descending``);
- ``reference``: the pointwise variables plus ``reference``, the dataset's reference answer.

The repair prompt (see ``repair`` in the judge spec) gets ``mode``, ``reason`` (why the reply
could not be read), ``raw_output``, ``scale_min``, ``scale_max`` and ``options``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from evalkit.errors import SpecError
from evalkit.judging._parsers import Parsed, ParserFn
from evalkit.judging._spec import JudgeSpec, OptionOrder, PanelSpec
from evalkit.judging._templates import Templates
from evalkit.records._judgments import Mode

#: Variables a judge template receives, by mode.
VARIABLES: Final[Mapping[Mode, tuple[str, ...]]] = {
    "pairwise": ("question", "answer_a", "answer_b"),
    "pointwise": (
        "question", "answer", "context", "scale_min", "scale_max", "options", "option_order",
    ),
    "reference": (
        "question", "answer", "reference", "context", "scale_min", "scale_max", "options",
        "option_order",
    ),
}  # fmt: skip
#: Variables whose text must reach the prompt (a template that drops one judges blind).
SHOWN: Final[Mapping[Mode, tuple[str, ...]]] = {
    "pairwise": ("answer_a", "answer_b"),
    "pointwise": ("answer",),
    "reference": ("answer", "reference"),
}
PAIRWISE_VARIABLES: Final = VARIABLES["pairwise"]


@dataclasses.dataclass(frozen=True, slots=True)
class Judge:
    """A validated judge: its spec, the file it came from, its family and its parser."""

    spec: JudgeSpec
    family: str
    parse: ParserFn
    path: Path | None = None

    @property
    def name(self) -> str:
        """The judge's name (its spec file's stem unless the spec says otherwise)."""
        return self.spec.name

    @property
    def mode(self) -> Mode:
        """How the judge judges: pairwise, pointwise or reference."""
        return self.spec.mode

    def read(self, raw: str) -> Parsed:
        """Parse a reply and check it fits the judge's mode and scale.

        Returns a :class:`Parsed` with only the label (pairwise) or only the score (scored
        modes), or a failure whose reason says what was wrong. Never raises for bad output.
        """
        parsed = self.parse(raw)
        if not parsed.ok:
            return parsed
        if self.mode == "pairwise":
            if parsed.label is None:
                return Parsed.fail(f"read a score ({parsed.score:g}) but a pairwise verdict "
                                   "(A, B or tie) was expected")  # fmt: skip
            return Parsed(parsed.label)
        if parsed.score is None:
            return Parsed.fail(f"read a verdict ({parsed.label}) but a score was expected")
        assert self.spec.scale is not None  # the spec's validator requires it
        problem = self.spec.scale.check(parsed.score)
        if problem is not None:
            return Parsed.fail(problem)
        return Parsed(None, score=parsed.score)

    def scale_variables(self, option_order: OptionOrder) -> dict[str, Any]:
        """The scale's variables for a scored template (empty for pairwise judges)."""
        scale = self.spec.scale
        if scale is None:
            return {}
        return {
            "scale_min": _plain(scale.low),
            "scale_max": _plain(scale.high),
            "options": scale.options(option_order),
            "option_order": option_order,
        }

    def variables(
        self,
        *,
        question: str,
        answers: tuple[str, ...],
        reference: str | None = None,
        option_order: OptionOrder = "ascending",
        conversation: Any = None,
        context: str = "",
    ) -> dict[str, Any]:
        """The template variables of one call: two answers (as shown) or one answer.

        ``conversation`` is what came before the judged turn (see
        :func:`evalkit.judging._calls.judge_prompt`); None for a single-turn item. A scored
        answer comes with its ``context``: what the candidate app based it on (retrieved
        documents, tool calls), "" when it gave none.
        """
        if self.mode == "pairwise":
            answer_a, answer_b = answers
            return {"question": question, "answer_a": answer_a, "answer_b": answer_b,
                    "conversation": conversation}  # fmt: skip
        (answer,) = answers
        out = {"question": question, "answer": answer, "conversation": conversation,
               "context": context,
               **self.scale_variables(option_order)}  # fmt: skip
        if self.mode == "reference":
            out["reference"] = reference
        return out

    def sample_variables(self) -> dict[str, Any]:
        """Distinct sample values of every variable, for :meth:`Templates.check`."""
        answers = ("⟨answer_a⟩", "⟨answer_b⟩") if self.mode == "pairwise" else ("⟨answer⟩",)
        # A conversation, so that a template's conversation block is rendered too.
        talk = [{"role": "user", "content": "⟨turn⟩"}, {"role": "assistant", "content": "⟨said⟩"}]
        return self.variables(
            question="⟨question⟩", answers=answers, reference="⟨reference⟩",
            option_order=self.spec.option_orders[0], context="⟨context⟩",
            conversation=(talk, talk) if self.mode == "pairwise" else talk,
        )  # fmt: skip

    def repair_prompt(self, templates: Templates, raw: str, reason: str) -> str | None:
        """The follow-up message asking for a readable verdict, or None when repair is off.

        Raises:
            SpecError: the repair template is missing or broken.
        """
        name = self.spec.repair_template
        if name is None:
            return None
        variables = {
            "mode": self.mode, "reason": reason, "raw_output": raw,
            "scale_min": None, "scale_max": None, "options": [],
            **self.scale_variables(self.spec.option_orders[0]),
        }  # fmt: skip
        return templates.render(name, variables)

    def check(self, templates: Templates) -> None:
        """Render the judge's template (and repair prompt) with sample values.

        Raises:
            SpecError: a template is missing, malformed, uses a variable the mode does not
                provide, or never shows an answer (or the reference) to the judge.
        """
        templates.check(self.spec.template, self.sample_variables(), shown=SHOWN[self.mode])
        listings = self.spec.option_orders
        if len(listings) > 1:
            sample = self.sample_variables()
            prompts = {
                templates.render(self.spec.template, sample | self.scale_variables(order))
                for order in listings
            }
            if len(prompts) == 1:
                # Both listings would send the same prompt: the rows would look like a
                # measurement of option-order bias without being one.
                raise SpecError(
                    f"template {self.spec.template!r} renders the same prompt for every "
                    "option order; list the scale's {{ options }} in it (with labels), or drop "
                    "option_orders"
                )
        self.repair_prompt(templates, "⟨raw⟩", "⟨reason⟩")


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


@dataclasses.dataclass(frozen=True, slots=True)
class Panel:
    """A validated panel and its judges, in the spec's order (all of one mode)."""

    spec: PanelSpec
    judges: tuple[Judge, ...]
    path: Path | None = None

    @property
    def name(self) -> str:
        """The panel's name."""
        return self.spec.name

    @property
    def mode(self) -> Mode:
        """The mode every judge of the panel judges in."""
        return self.judges[0].mode
