"""Deterministic graders: each built-in on real-looking answers, the registry, bad settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import DatasetError, SpecError
from evalkit.graders import (
    GRADERS,
    Contains,
    ExactMatch,
    Grade,
    Grader,
    JsonSchema,
    NotContains,
    Numeric,
    Regex,
    make_grader,
)
from evalkit.graders._base import check_fields, check_graders

SCHEMA = {
    "type": "object",
    "required": ["city", "population"],
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
}

# (grader, answer, item fields, expected pass, fragment of the detail)
CASES: list[tuple[Grader, str, dict[str, Any], bool, str]] = [
    (ExactMatch(), "Paris", {"reference": "Paris"}, True, "matches"),
    (ExactMatch(), "  paris. ", {"reference": "Paris"}, True, "matches"),
    (ExactMatch(), "“Paris”", {"reference": "Paris"}, True, "matches"),
    (ExactMatch(), "Paris, France", {"reference": "Paris"}, False, "expected 'Paris'"),
    (ExactMatch(), "NYC", {"reference": ["New York", "NYC"]}, True, "matches"),
    (ExactMatch(normalize=False), "paris", {"reference": "Paris"}, False, "expected"),
    (ExactMatch(field="answer"), "42", {"answer": 42}, True, "matches"),
    (Contains(text="Canberra"), "The capital is Canberra.", {}, True, "contains 'Canberra'"),
    (Contains(text="canberra"), "CANBERRA", {}, True, "contains"),
    (Contains(text="canberra", case_sensitive=True), "CANBERRA", {}, False, "missing"),
    (Contains(text=["H2O", "water"]), "Water is H2O.", {}, True, "contains"),
    (Contains(text=["H2O", "ice"]), "Water is H2O.", {}, False, "missing 'ice'"),
    (Contains(field="must"), "It was 1969.", {"must": "1969"}, True, "contains '1969'"),
    (NotContains(text=["As an AI", "I cannot"]), "Paris.", {}, True, "none"),
    (NotContains(text=["As an AI", "I cannot"]), "As an AI, I think…", {}, False, "As an AI"),
    (Regex(r"^\d{4}$", full=True), " 1969 ", {}, True, "matched '1969'"),
    (Regex(r"^\d{4}$", full=True), "In 1969", {}, False, "no match"),
    (Regex(r"paris", ignore_case=True), "PARIS!", {}, True, "matched 'PARIS'"),
    (Numeric(), "3 * 4 = 12", {"reference": "12"}, True, "within tolerance"),
    (Numeric(), "The total is $1,200.", {"reference": 1200}, True, "within tolerance"),
    (Numeric(), "It is 12.5", {"reference": "12"}, False, "expected 12, got 12.5"),
    (Numeric(abs_tol=0.5), "It is 12.5", {"reference": "12"}, True, "within"),
    (Numeric(rel_tol=0.01), "about 99.5", {"reference": 100}, True, "within"),
    (Numeric(), "-3 degrees", {"reference": "-3"}, True, "within"),
    (Numeric(), "2.5e3", {"reference": 2500}, True, "within"),
    (Numeric(), "no idea", {"reference": 3}, False, "no number"),
    (Numeric(), "3", {"reference": "three"}, False, "is not one number"),
    (JsonSchema(SCHEMA), '{"city": "Oslo", "population": 709000}', {}, True, "valid"),
    (JsonSchema(SCHEMA), '```json\n{"city": "Oslo", "population": 7}\n```', {}, True, "valid"),
    (JsonSchema(SCHEMA), '{"city": "Oslo"}', {}, False, "'population' is a required"),
    (JsonSchema(SCHEMA), '{"city": "Oslo", "population": "many"}', {}, False, "population:"),
    (JsonSchema(SCHEMA), "Oslo has 709,000 people.", {}, False, "not JSON"),
]


@pytest.mark.parametrize(
    ("grader", "answer", "item", "passed", "detail"),
    CASES,
    ids=[f"{i:02d}-{c[0].name}" for i, c in enumerate(CASES)],
)
def test_builtin_graders(
    grader: Grader, answer: str, item: dict[str, Any], passed: bool, detail: str
) -> None:
    grade = grader.grade(answer, item)
    assert grade.passed is passed
    assert grade.score == (1.0 if passed else 0.0)
    assert detail in grade.detail


def test_bad_settings_fail_when_the_grader_is_built() -> None:
    with pytest.raises(SpecError, match=r"grader 'regex': invalid pattern '\('"):
        Regex("(")
    with pytest.raises(SpecError, match=r"grader 'json_schema': invalid JSON schema"):
        JsonSchema({"type": "nope"})
    with pytest.raises(SpecError, match=r"grader 'contains': give exactly one of text"):
        Contains()
    with pytest.raises(SpecError, match=r"tolerances must not be negative"):
        Numeric(abs_tol=-1)
    with pytest.raises(SpecError, match=r"must be non-empty and without spaces"):
        ExactMatch(name="exact match")


def test_make_grader_from_data() -> None:
    grader = make_grader({"kind": "regex", "pattern": r"\d+", "name": "has_digits"})
    assert grader == Regex(r"\d+", name="has_digits")
    assert {"exact_match", "contains", "not_contains", "regex", "numeric", "json_schema"} <= set(
        GRADERS.names()
    )
    with pytest.raises(SpecError, match=r"unknown grader kind 'regexp'; known grader kinds: .*; did you mean 'regex'\?"):
        make_grader({"kind": "regexp"})
    with pytest.raises(SpecError, match=r"grader 'regex': unknown setting\(s\) patern"):
        make_grader({"kind": "regex", "patern": "x"})
    with pytest.raises(SpecError, match=r"a grader needs a kind"):
        make_grader({"pattern": "x"})


def test_user_graders_register_like_the_builtins() -> None:
    @GRADERS.register("short_for_test")
    class Short:
        name = "short"

        def fields(self) -> tuple[str, ...]:
            return ()

        def describe(self) -> str:
            return "short"

        def grade(self, answer: str, item: Any) -> Grade:
            return Grade(len(answer) < 10, f"{len(answer)} characters")

    grader = make_grader({"kind": "short_for_test"})
    assert grader.grade("hi", {}) == Grade(True, "2 characters")


def test_names_must_be_unique_and_fields_present(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"grader name 'exact_match' is used twice"):
        check_graders([ExactMatch(), ExactMatch()])
    with pytest.raises(SpecError, match=r"grader name 'fair' is used twice"):
        check_graders([Regex("x", name="fair")], taken=["fair"])
    check_graders([ExactMatch(), ExactMatch(name="exact2")])
    items = [("q1", {"reference": "a"}), ("q2", {"reference": ""})]
    with pytest.raises(
        DatasetError, match=r"d\.jsonl: item 'q2' has no field 'reference'.*'numeric'"
    ):
        check_fields([Numeric()], items, tmp_path / "d.jsonl")
    check_fields([Regex("x")], items, tmp_path / "d.jsonl")


def test_describe_changes_with_every_setting() -> None:
    variants = [
        Regex("a"),
        Regex("b"),
        Regex("a", full=True),
        Numeric(),
        Numeric(abs_tol=0.1),
        Contains(text="a"),
        Contains(text="a", case_sensitive=True),
        NotContains(text="a"),
        JsonSchema({"type": "object"}),
        JsonSchema({"type": "array"}),
    ]
    assert len({g.describe() for g in variants}) == len(variants)
