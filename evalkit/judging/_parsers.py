"""Verdict parsers, registered by name: raw judge output in, a verdict or a reason out.

A parser never guesses. Output it cannot read, or that names both answers without committing to
one, is a failure with the reason recorded; the caller counts it and never turns it into a
verdict. Built-in parsers register themselves exactly as a user's would (:func:`parser`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Final, Literal

from evalkit.errors import SpecError

Label = Literal["A", "B", "tie"]


@dataclasses.dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of parsing: ``label`` on success, else ``reason`` says why not."""

    label: Label | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether a verdict was read."""
        return self.label is not None


ParserFn = Callable[[str], Parsed]
_PARSERS: dict[str, ParserFn] = {}


def parser(name: str) -> Callable[[ParserFn], ParserFn]:
    """Register a verdict parser under ``name`` (decorator)."""

    def register(fn: ParserFn) -> ParserFn:
        _PARSERS[name] = fn
        return fn

    return register


def get_parser(name: str) -> ParserFn:
    """Return the parser registered as ``name``.

    Raises:
        SpecError: no parser has that name.
    """
    try:
        return _PARSERS[name]
    except KeyError:
        known = ", ".join(sorted(_PARSERS))
        raise SpecError(f"unknown parser {name!r}; known parsers: {known}") from None


_BRACKETS: Final = re.compile(r"\[\[\s*([ABC]|tie)\s*\]\]", re.IGNORECASE)
# A bare verdict at the very start: "A", "B.", "(B)", "Answer B", "Tie", "The answer is B) …"
_LEADING: Final = re.compile(
    r"^\W*(?:(?:the\s+)?(?:better\s+|best\s+|correct\s+|final\s+)?"
    r"(?:answer|output|verdict|winner|response|choice)(?:\s+is)?\s*[:\-]?\s*)?"
    r"\(?([AB]|tie|C)(?:\)|[.:,;!]|\s*$|\s*\n)",
    re.IGNORECASE,
)
_TO_LABEL: Final[dict[str, Label]] = {"a": "A", "b": "B", "c": "tie", "tie": "tie"}


@parser("ab")
def parse_ab(raw: str) -> Parsed:
    """Read a pairwise verdict: ``[[A]]``/``[[B]]``/``[[C]]`` anywhere, else a bare leading one.

    When several bracketed verdicts disagree the output is ambiguous and fails.

    >>> parse_ab("Both are fine but A is more precise. [[A]]").label
    'A'
    >>> parse_ab(" B\\n\\nQuestion: ...").label
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
        return Parsed(None, "empty output")
    found = {_TO_LABEL[m.lower()] for m in _BRACKETS.findall(text)}
    if len(found) == 1:
        return Parsed(found.pop())
    if len(found) > 1:
        shown = " and ".join(f"[[{'C' if f == 'tie' else f}]]" for f in sorted(found))
        return Parsed(None, f"ambiguous: both {shown} appear")
    match = _LEADING.match(text)
    if match:
        return Parsed(_TO_LABEL[match.group(1).lower()])
    return Parsed(None, f"no verdict found in {text[:60]!r}")
