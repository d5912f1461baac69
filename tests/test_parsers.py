import pytest

from evalkit.errors import SpecError
from evalkit.judging import get_parser, parse_ab, parser

CASES = [
    ("[[A]]", "A"),
    ("[[B]]", "B"),
    ("[[C]]", "tie"),
    ("After weighing both, answer A is more precise. Final verdict: [[A]]", "A"),
    ("**Verdict:** [[B]]", "B"),
    ("[[ b ]]", "B"),
    ("A", "A"),
    (" B\n\nQuestion: next", "B"),
    ("(A)", "A"),
    ("B.", "B"),
    ("The answer is B) Kyoto.", "B"),
    ("A) There are seven days in a week.", "A"),
    ("A: Tokyo.", "A"),
    ("Answer: A", "A"),
    ("The better answer is A.", "A"),
    ("Tie", "tie"),
    ("A week has seven days.", None),
    ("", None),
    ("   \n", None),
    ("I cannot compare these answers.", None),
    ("[[A]] but on reflection [[B]]", None),
    ("Both answers are good", None),
    ("[[D]]", None),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_parse_ab(raw: str, expected: str | None) -> None:
    parsed = parse_ab(raw)
    assert parsed.label == expected
    assert parsed.ok is (expected is not None)
    if expected is None:
        assert parsed.reason


def test_failure_reasons_say_why() -> None:
    assert parse_ab("").reason == "empty output"
    assert parse_ab("[[A]] x [[B]]").reason == "ambiguous: both [[A]] and [[B]] appear"


def test_registry_finds_user_parsers_and_names_unknown_ones() -> None:
    @parser("always-tie-for-test")
    def always_tie(raw: str):  # type: ignore[no-untyped-def]
        from evalkit.judging import Parsed

        return Parsed("tie")

    assert get_parser("always-tie-for-test")("x").label == "tie"
    with pytest.raises(SpecError, match=r"unknown parser 'nope'; known parsers: .*ab"):
        get_parser("nope")
