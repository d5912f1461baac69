"""The built-in deterministic graders.

Exact match, contains / not contains, regex, numeric tolerance and JSON schema. Each is a
frozen dataclass whose settings are checked when it is built (a bad regex or schema is a
:class:`~evalkit.errors.SpecError` at suite declaration).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any, Final

from evalkit.errors import SpecError
from evalkit.graders._base import GRADERS, Grade

_SHOWN: Final = 60
# A number as people write it: -3, 1,234.5, 2.5e3, $40, 12%. Thousands separators need groups
# of exactly three digits, so "1,2" is two numbers.
_NUMBER: Final = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_FENCE: Final = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.DOTALL | re.IGNORECASE)
# Typographic quotes too: models like to wrap a short answer in them.
_EDGE_PUNCTUATION: Final = string.punctuation + " \t\n\u201c\u201d\u2018\u2019"


def _short(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _normalise(text: str) -> str:
    """Case-folded, whitespace collapsed, punctuation trimmed from both ends."""
    return " ".join(text.casefold().split()).strip(_EDGE_PUNCTUATION)


def _values(value: Any) -> list[str]:
    """A field's expected value(s) as text: a list gives several, anything else one."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name):
        raise SpecError(f"grader name {name!r} must be non-empty and without spaces")


@GRADERS.register("exact_match")
@dataclasses.dataclass(frozen=True, slots=True)
class ExactMatch:
    """Pass when the answer equals the item's ``field`` (any of them, if it is a list).

    With ``normalize`` (the default) case, runs of whitespace and punctuation at either end
    are ignored, so "Paris." matches "paris".
    """

    field: str = "reference"
    normalize: bool = True
    name: str = "exact_match"

    def __post_init__(self) -> None:
        _check_name(self.name)

    def fields(self) -> tuple[str, ...]:
        """The field holding the expected answer."""
        return (self.field,)

    def describe(self) -> str:
        """Kind and settings."""
        return f"exact_match field={self.field} normalize={self.normalize}"

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Compare the answer with the expected value(s)."""
        expected = _values(item[self.field])
        norm = _normalise if self.normalize else str.strip
        if any(norm(answer) == norm(e) for e in expected):
            return Grade(True, f"matches {_short(expected[0] if len(expected) == 1 else answer)}")
        return Grade(False, f"expected {_short(' | '.join(expected))}, got {_short(answer)}")


@dataclasses.dataclass(frozen=True, slots=True)
class _Substrings:
    text: str | Sequence[str] | None = None
    field: str | None = None
    case_sensitive: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name)
        if (self.text is None) == (self.field is None):
            raise SpecError(f"grader {self.name!r}: give exactly one of text=... or field=...")

    def fields(self) -> tuple[str, ...]:
        """The field holding the text(s) to look for, if any."""
        return (self.field,) if self.field is not None else ()

    def describe(self) -> str:
        """Kind and settings."""
        text = json.dumps(self.text, ensure_ascii=False, sort_keys=True)
        return f"{self.name} text={text} field={self.field} case_sensitive={self.case_sensitive}"

    def _found(self, answer: str, item: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        wanted = _values(item[self.field]) if self.field is not None else _values(self.text)
        if self.case_sensitive:
            present = [w for w in wanted if w in answer]
        else:
            folded = answer.casefold()
            present = [w for w in wanted if w.casefold() in folded]
        return present, [w for w in wanted if w not in present]


@GRADERS.register("contains")
@dataclasses.dataclass(frozen=True, slots=True)
class Contains(_Substrings):
    """Pass when the answer contains ``text`` (or the item's ``field``); all of them if several."""

    name: str = "contains"

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Look for every wanted text."""
        present, missing = self._found(answer, item)
        if missing:
            return Grade(False, f"missing {', '.join(map(_short, missing))}")
        return Grade(True, f"contains {', '.join(map(_short, present))}")


@GRADERS.register("not_contains")
@dataclasses.dataclass(frozen=True, slots=True)
class NotContains(_Substrings):
    """Pass when the answer contains none of ``text`` (or of the item's ``field``)."""

    name: str = "not_contains"

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Look for every forbidden text."""
        present, _ = self._found(answer, item)
        if present:
            return Grade(False, f"contains {', '.join(map(_short, present))}")
        return Grade(True, "contains none of the forbidden texts")


@GRADERS.register("regex")
@dataclasses.dataclass(frozen=True, slots=True)
class Regex:
    """Pass when ``pattern`` matches somewhere in the answer (the whole answer with ``full``)."""

    pattern: str
    ignore_case: bool = False
    full: bool = False
    name: str = "regex"

    def __post_init__(self) -> None:
        _check_name(self.name)
        try:
            self._compiled()
        except re.error as exc:
            raise SpecError(
                f"grader {self.name!r}: invalid pattern {self.pattern!r} ({exc})"
            ) from None

    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)

    def fields(self) -> tuple[str, ...]:
        """None: the pattern is fixed."""
        return ()

    def describe(self) -> str:
        """Kind and settings."""
        return f"regex pattern={self.pattern!r} ignore_case={self.ignore_case} full={self.full}"

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Match the pattern."""
        compiled = self._compiled()
        match = compiled.fullmatch(answer.strip()) if self.full else compiled.search(answer)
        if match is None:
            return Grade(False, f"no match for /{self.pattern}/ in {_short(answer)}")
        return Grade(True, f"matched {_short(match.group(0))}")


def _to_float(text: str) -> float:
    return float(text.replace(",", ""))


@GRADERS.register("numeric")
@dataclasses.dataclass(frozen=True, slots=True)
class Numeric:
    """Pass when the answer's *last* number is within tolerance of the item's ``field``.

    The last number is taken because answers that show their working end with the result
    ("… so 3 * 4 = 12"). Tolerance as :func:`math.isclose`: ``abs_tol`` and ``rel_tol``.
    """

    field: str = "reference"
    abs_tol: float = 1e-6
    rel_tol: float = 0.0
    name: str = "numeric"

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.abs_tol < 0 or self.rel_tol < 0:
            raise SpecError(f"grader {self.name!r}: tolerances must not be negative")

    def fields(self) -> tuple[str, ...]:
        """The field holding the expected number."""
        return (self.field,)

    def describe(self) -> str:
        """Kind and settings."""
        return f"numeric field={self.field} abs_tol={self.abs_tol!r} rel_tol={self.rel_tol!r}"

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Compare the answer's last number with the expected one."""
        raw = item[self.field]
        found = _NUMBER.findall(str(raw))
        if isinstance(raw, bool) or (not isinstance(raw, int | float) and len(found) != 1):
            return Grade(False, f"the item's {self.field!r} is not one number: {_short(str(raw))}")
        expected = float(raw) if isinstance(raw, int | float) else _to_float(found[0])
        numbers = _NUMBER.findall(answer)
        if not numbers:
            return Grade(False, f"no number in {_short(answer)}")
        got = _to_float(numbers[-1])
        if math.isclose(got, expected, rel_tol=self.rel_tol, abs_tol=self.abs_tol):
            return Grade(True, f"{got:g} is within tolerance of {expected:g}")
        return Grade(False, f"expected {expected:g}, got {got:g}")


@GRADERS.register("json_schema")
@dataclasses.dataclass(frozen=True, slots=True)
class JsonSchema:
    """Pass when the answer (optionally in a ```json fence) is JSON valid against ``schema``."""

    schema: Mapping[str, Any]
    name: str = "json_schema"

    def __post_init__(self) -> None:
        _check_name(self.name)
        validator = _jsonschema().validators.validator_for(self.schema)
        try:
            validator.check_schema(self.schema)
        except _jsonschema().SchemaError as exc:
            raise SpecError(f"grader {self.name!r}: invalid JSON schema ({exc.message})") from None

    def fields(self) -> tuple[str, ...]:
        """None: the schema is fixed."""
        return ()

    def describe(self) -> str:
        """Kind and settings."""
        return "json_schema " + json.dumps(self.schema, sort_keys=True, ensure_ascii=False)

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Parse the answer as JSON and validate it."""
        fenced = _FENCE.match(answer)
        text = fenced.group(1) if fenced else answer.strip()
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return Grade(False, f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
        validator = _jsonschema().validators.validator_for(self.schema)(self.schema)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "(root)"
            return Grade(False, f"{where}: {errors[0].message}")
        return Grade(True, "valid against the schema")


def _jsonschema() -> Any:
    """Import jsonschema on first use (it comes with litellm)."""
    try:
        return importlib.import_module("jsonschema")
    except ImportError:  # pragma: no cover - litellm depends on it
        raise SpecError(
            "the json_schema grader needs the jsonschema package: pip install jsonschema"
        ) from None
