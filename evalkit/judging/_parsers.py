"""Verdict parsers, registered by name: raw judge output in, a verdict, a score or a reason out.

A parser never guesses. Output it cannot read, or that commits to two different verdicts, is a
failure with the reason recorded; the caller counts it and never turns it into a verdict.
Built-in parsers register themselves exactly as a user's would (``@PARSERS.register(name)``):

- ``ab``: pairwise ``[[A]]`` / ``[[B]]`` / ``[[C]]`` (tie), else a labelled line such as
  ``Verdict: B``, else a bare letter at the very start (``B``, ``(A)``, ``A) Paris``);
- ``rating``: a score written ``[[7]]`` or ``Rating: 7`` (``Score: 7/10``), else a number alone
  on the first line;
- ``json``: a JSON object (fenced or not) with a ``verdict`` and/or ``score`` key;
- ``leading``: only a bare letter or number at the very start, for tiny models that answer with
  a single token.

Whether a score lies on the judge's scale is not the parser's business: the judge checks it
(:meth:`evalkit.judging._judge.Judge.read`), so every parser serves every scale.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal

from evalkit._registry import Registry
from evalkit.errors import SpecError

Label = Literal["A", "B", "tie"]


@dataclasses.dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of parsing: a ``label`` and/or a ``score`` on success, else a ``reason``."""

    label: Label | None
    reason: str | None = None
    score: float | None = dataclasses.field(default=None, kw_only=True)

    @property
    def ok(self) -> bool:
        """Whether a verdict or a score was read."""
        return self.label is not None or self.score is not None

    @classmethod
    def fail(cls, reason: str) -> Parsed:
        """A failure that says why."""
        return cls(None, reason)


ParserFn = Callable[[str], Parsed]

#: Verdict parsers by name (entry-point group ``evalkit.parsers``); a judge spec's ``parser:``
#: is looked up here.
PARSERS: Registry[ParserFn] = Registry("parser", "evalkit.parsers", SpecError)


# ---------------------------------------------------------------------------------------------
# Shared pieces

_TO_LABEL: Final[dict[str, Label]] = {"a": "A", "b": "B", "c": "tie", "tie": "tie"}
_NUMBER: Final = r"[-+]?\d+(?:\.\d+)?"
# Words that introduce the judge's final answer; a bracket preceded by one of them on the same
# line is the verdict, while others may be the instructions quoted back.
_VERDICT_WORDS: Final = (
    r"(?:final\s+)?(?:verdict|decision|judg(?:e)?ment|winner|choice|answer|rating|score|grade)"
)
_LABELLED_PREFIX: Final = re.compile(_VERDICT_WORDS + r"\s*(?:is)?\s*[:=\-]?\s*[*_`\"']*\s*$", re.I)


def _short(text: str) -> str:
    return repr(text[:60] + ("…" if len(text) > 60 else ""))


def _pick(found: Iterable[tuple[int, Any]], text: str, what: str) -> tuple[Any, str | None]:
    """One value from (position, value) matches: the only one, or the only labelled one.

    Several different values are ambiguous unless exactly one of them is introduced by a
    verdict word on its line ("Final verdict: [[B]]" after the instructions were echoed).
    """
    matches = list(found)
    values = {v for _, v in matches}
    if len(values) == 1:
        return values.pop(), None
    labelled = set()
    for pos, value in matches:
        line_start = text.rfind("\n", 0, pos) + 1
        if _LABELLED_PREFIX.search(text[line_start:pos]):
            labelled.add(value)
    if len(labelled) == 1:
        return labelled.pop(), None
    shown = " and ".join(sorted(_show(v, what) for v in values))
    return None, f"ambiguous: both {shown} appear"


def _show(value: Any, what: str) -> str:
    if what == "label":
        return f"[[{'C' if value == 'tie' else value}]]"
    return f"[[{value:g}]]"


# ---------------------------------------------------------------------------------------------
# Pairwise

_BRACKETS: Final = re.compile(
    r"\[\[\s*(?:answer\s+|assistant\s+|response\s+)?(A|B|C|tie)\s*\]\]", re.IGNORECASE
)
# A whole line that states the verdict: "Verdict: B", "**Final answer:** (A)", "Better answer: A".
_LABEL_LINE: Final = re.compile(
    r"^[\W_]*(?:the\s+)?(?:better\s+|best\s+)?"
    + _VERDICT_WORDS
    + r"[\s*_]*(?:is\b[\s*_]*[:\-]?|[:\-])[\s*_]*\(?(A|B|C|tie)\)?[\s*_]*[.!]?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# A bare letter at the very start: "A", "B.", "(B)", "A) Paris", "A: Tokyo", "Tie".
_BARE: Final = re.compile(r"^[\W_]*?\(?(A|B|C|tie)(?:\*\*)?(\)|[.:,;!]|\s*$|\s*\n)", re.IGNORECASE)
# "The answer is B) Kyoto." / "Answer: A" / "The better answer is A."
_SENTENCE: Final = re.compile(
    r"^\W*(?:the\s+)?(?:better\s+|best\s+|correct\s+|final\s+)?"
    r"(?:answer|output|verdict|winner|response|choice)\s*(?:is\s*|:\s*|-\s*)\(?(A|B|C|tie)"
    r"(?:\)|[.,;!]|\s*$|\s*\n)",
    re.IGNORECASE,
)


def _echoes_both(text: str, letter: str, punct: str) -> bool:
    """Whether ``text`` lists both answers as options ("A: …" and "B: …" lines).

    A small model that echoes the option list starts with "A:" without choosing A.
    """
    other = "B" if letter.upper() == "A" else "A"
    return re.search(rf"(?m)^\W*\(?{other}\s*{re.escape(punct)}", text) is not None


def _leading_label(text: str) -> Parsed | None:
    match = _SENTENCE.match(text)
    if match:
        return Parsed(_TO_LABEL[match.group(1).lower()])
    match = _BARE.match(text)
    if match is None:
        return None
    letter, punct = match.group(1), match.group(2).strip()
    if punct in (")", ":") and letter.upper() in "AB" and _echoes_both(text, letter, punct):
        return Parsed.fail("ambiguous: the reply lists both answers instead of choosing one")
    return Parsed(_TO_LABEL[letter.lower()])


@PARSERS.register("ab")
def parse_ab(raw: str) -> Parsed:
    r"""Read a pairwise verdict: ``[[A]]``/``[[B]]``/``[[C]]``, a verdict line, or a bare letter.

    Several different bracketed verdicts are ambiguous (a failure), unless exactly one of them
    is introduced by a verdict word on its line.

    >>> parse_ab("Both are fine but A is more precise. [[A]]").label
    'A'
    >>> parse_ab("Reply [[A]] or [[B]].\nFinal verdict: [[B]]").label
    'B'
    >>> parse_ab(" B\n\nQuestion: ...").label
    'B'
    >>> parse_ab("The answer is B) Kyoto.").label
    'B'
    >>> parse_ab("A week has seven days.").reason
    "no verdict found in 'A week has seven days.'"
    >>> parse_ab("[[A]] ... on reflection [[B]]").reason
    'ambiguous: both [[A]] and [[B]] appear'
    """
    text = raw.strip()
    if not text:
        return Parsed.fail("empty output")
    brackets = [(m.start(), _TO_LABEL[m.group(1).lower()]) for m in _BRACKETS.finditer(text)]
    if brackets:
        label, reason = _pick(brackets, text, "label")
        return Parsed(label) if label else Parsed.fail(reason or "no verdict")
    lines = [(m.start(), _TO_LABEL[m.group(1).lower()]) for m in _LABEL_LINE.finditer(text)]
    if lines:
        values = {v for _, v in lines}
        if len(values) == 1:
            return Parsed(values.pop())
        return Parsed.fail("ambiguous: verdict lines name different answers")
    leading = _leading_label(text)
    if leading is not None:
        return leading
    return Parsed.fail(f"no verdict found in {_short(text)}")


# ---------------------------------------------------------------------------------------------
# Scores

_SCORE_BRACKETS: Final = re.compile(rf"\[\[\s*({_NUMBER})\s*(?:/\s*\d+)?\s*\]\]")
_SCORE_LABEL: Final = re.compile(
    rf"\b(?:rating|score|grade)\s*[:=]\s*[*_`]*\s*({_NUMBER})\s*(?:/\s*\d+|out\s+of\s+\d+)?",
    re.IGNORECASE,
)
# A number alone on the first line ("7", "(4)", "6 out of 10."), or one with its scale at the
# very start ("8/10 - mostly right"). "1. The answer…" is a numbered list, not a score.
_BARE_NUMBER: Final = re.compile(
    rf"^[\s*_]*\(?({_NUMBER})\)?[*_]*\s*(?:(?:/\s*\d+|out\s+of\s+\d+)|[.!]?[ \t]*(?:\n|$))",
    re.IGNORECASE,
)


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


@PARSERS.register("rating")
def parse_rating(raw: str) -> Parsed:
    r"""Read a score: ``[[7]]`` anywhere, else ``Rating: 7`` / ``Score: 7/10``, else a lone number.

    >>> parse_rating("Accurate and clear.\nRating: [[8]]").score
    8
    >>> parse_rating("Score: 7/10 - mostly right").score
    7
    >>> parse_rating("I would rate it [[3]] or maybe [[4]].").reason
    'ambiguous: both [[3]] and [[4]] appear'
    """
    text = raw.strip()
    if not text:
        return Parsed.fail("empty output")
    brackets = [(m.start(), _number(m.group(1))) for m in _SCORE_BRACKETS.finditer(text)]
    if brackets:
        score, reason = _pick(brackets, text, "score")
        return Parsed(None, score=score) if score is not None else Parsed.fail(reason or "")
    labelled = {_number(m.group(1)) for m in _SCORE_LABEL.finditer(text)}
    if len(labelled) == 1:
        return Parsed(None, score=labelled.pop())
    if len(labelled) > 1:
        shown = ", ".join(f"{v:g}" for v in sorted(labelled))
        return Parsed.fail(f"ambiguous: several ratings ({shown})")
    match = _BARE_NUMBER.match(text)
    if match:
        return Parsed(None, score=_number(match.group(1)))
    return Parsed.fail(f"no rating found in {_short(text)}")


# ---------------------------------------------------------------------------------------------
# Bare leading token


@PARSERS.register("leading")
def parse_leading(raw: str) -> Parsed:
    r"""Read only a bare letter (``A``, ``B.``, ``(A)``) or number (``7``, ``8/10``) at the start.

    >>> parse_leading(" 7\n").score
    7
    >>> parse_leading("B").label
    'B'
    >>> parse_leading("1. The answer is accurate.").reason
    "no leading verdict in '1. The answer is accurate.'"
    """
    text = raw.strip()
    if not text:
        return Parsed.fail("empty output")
    number = _BARE_NUMBER.match(text)
    if number:
        return Parsed(None, score=_number(number.group(1)))
    label = _leading_label(text)
    if label is not None:
        return label
    return Parsed.fail(f"no leading verdict in {_short(text)}")


# ---------------------------------------------------------------------------------------------
# JSON

_LABEL_KEYS: Final = ("verdict", "winner", "better", "choice", "preferred", "label")
_SCORE_KEYS: Final = ("score", "rating", "grade")
_LABEL_VALUE: Final = re.compile(
    r"^\W*(?:answer\s+|assistant\s+|response\s+)?(A|B|C|tie)\W*$", re.IGNORECASE
)


def _objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in ``text``, in order (fences and prose around them ignored)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    pos = text.find("{")
    while pos != -1:
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        pos = text.find("{", end)
    return found


def _from_object(obj: dict[str, Any]) -> Parsed:
    keys = {str(k).lower(): v for k, v in obj.items()}
    label: Label | None = None
    score: float | None = None
    for key in _LABEL_KEYS:
        value = keys.get(key)
        if isinstance(value, str):
            match = _LABEL_VALUE.match(value)
            if match is None:
                return Parsed.fail(f"JSON {key!r} is {value!r}, not A, B or tie")
            label = _TO_LABEL[match.group(1).lower()]
            break
    for key in _SCORE_KEYS:
        value = keys.get(key)
        if value is None:
            continue
        if isinstance(value, bool):
            return Parsed.fail(f"JSON {key!r} is {value!r}, not a number")
        if isinstance(value, int | float):
            score = _number(str(value))
        elif isinstance(value, str) and re.fullmatch(_NUMBER, value.strip()):
            score = _number(value.strip())
        else:
            return Parsed.fail(f"JSON {key!r} is {value!r}, not a number")
        break
    if label is None and score is None:
        return Parsed.fail(f"JSON object has no verdict or score key (keys: {', '.join(keys)})")
    return Parsed(label, score=score)


@PARSERS.register("json")
def parse_json(raw: str) -> Parsed:
    r"""Read a JSON object with a ``verdict`` (A/B/C/tie) and/or a ``score`` (a number).

    Several objects that disagree are ambiguous.

    >>> parse_json('```json\n{"verdict": "B", "reason": "more precise"}\n```').label
    'B'
    >>> parse_json('{"score": "7"}').score
    7
    """
    text = raw.strip()
    if not text:
        return Parsed.fail("empty output")
    objects = _objects(text)
    if not objects:
        return Parsed.fail(f"no JSON object found in {_short(text)}")
    results = [_from_object(obj) for obj in objects]
    good = {(r.label, r.score) for r in results if r.ok}
    if len(good) == 1:
        label, score = good.pop()
        return Parsed(label, score=score)
    if len(good) > 1:
        return Parsed.fail("ambiguous: JSON objects with different verdicts")
    return results[-1]
