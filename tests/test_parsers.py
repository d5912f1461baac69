"""Verdict parsing: real-looking judge outputs and what each one must parse to.

Each case is read the way the engine reads it: the judge's parser, then the check against the
judge's mode and scale (:meth:`Judge.read`). ``None`` means the output must be a failure with a
reason — never a guess.
"""

from __future__ import annotations

import pytest

from evalkit.errors import SpecError
from evalkit.judging import PARSERS, JudgeSpec, Parsed
from evalkit.judging._judge import Judge
from evalkit.judging._parsers import parse_ab, parse_json, parse_rating

PAIRWISE = JudgeSpec(name="pw", model="openai/gpt-4o", template="pairwise_chat.j2")
RANGE_1_10 = JudgeSpec(
    name="rt",
    model="openai/gpt-4o",
    template="rubric_chat.j2",
    mode="pointwise",
    parser="rating",
    scale={"min": 1, "max": 10},
)
LIKERT_1_5 = JudgeSpec(
    name="lk",
    model="openai/gpt-4o",
    template="rubric_chat.j2",
    mode="pointwise",
    parser="rating",
    scale={"labels": {1: "wrong", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}},
)


def judge(spec: JudgeSpec, parser_name: str) -> Judge:
    return Judge(spec=spec, family="openai", parse=PARSERS.get(parser_name))


VERBOSE_AB = """Let me compare both answers.

Answer A states that the capital of Australia is Sydney, which is incorrect.
Answer B correctly identifies Canberra and adds that it was purpose-built.

Answer B is accurate and more helpful.

[[B]]"""

ECHOED_INSTRUCTIONS = """I was asked to output [[A]] if A is better, [[B]] if B is better,
or [[C]] for a tie. Having read both answers carefully:

Final verdict: [[A]]"""

MARKDOWN_AB = """## Evaluation

| Criterion | Answer A | Answer B |
|-----------|----------|----------|
| Accuracy  | ✅        | ❌        |

**Final verdict:** **[[A]]**"""

VERBOSE_RATING = """The response correctly explains photosynthesis, covering light absorption by
chlorophyll and the production of glucose and oxygen. It omits the Calvin cycle, which the
question asked about explicitly, so it is incomplete.

Rating: [[6]]"""

JSON_FENCED = """Here is my assessment:

```json
{"reasoning": "B names the right year and gives a source.", "verdict": "B"}
```"""

# (raw output, parser, spec, expected label or score, or None for a failure)
CASES: list[tuple[str, str, JudgeSpec, str | float | None]] = [
    # --- pairwise, [[X]] ---------------------------------------------------------------------
    ("[[A]]", "ab", PAIRWISE, "A"),
    ("[[B]]", "ab", PAIRWISE, "B"),
    ("[[C]]", "ab", PAIRWISE, "tie"),
    ("[[ b ]]", "ab", PAIRWISE, "B"),
    (VERBOSE_AB, "ab", PAIRWISE, "B"),
    ("Answer A is more detailed, but answer B is correct. [[B]]", "ab", PAIRWISE, "B"),
    (ECHOED_INSTRUCTIONS, "ab", PAIRWISE, "A"),
    (MARKDOWN_AB, "ab", PAIRWISE, "A"),
    ("Both answers say the same thing in different words.\n\n[[C]]", "ab", PAIRWISE, "tie"),
    ("[[Answer B]]", "ab", PAIRWISE, "B"),
    ("[[A]] but on reflection the other one is better: [[B]]", "ab", PAIRWISE, None),
    ("[[D]]", "ab", PAIRWISE, None),
    # --- pairwise, verdict lines and bare letters ------------------------------------------
    ("Both are close, but A cites its source.\nVerdict: A", "ab", PAIRWISE, "A"),
    ("**Better answer:** B", "ab", PAIRWISE, "B"),
    ("A", "ab", PAIRWISE, "A"),
    (" B\n\nQuestion: What is the tallest mountain?", "ab", PAIRWISE, "B"),
    ("(A)", "ab", PAIRWISE, "A"),
    ("B.", "ab", PAIRWISE, "B"),
    ("**B**\n\nB is correct.", "ab", PAIRWISE, "B"),
    ("The answer is B) Kyoto.", "ab", PAIRWISE, "B"),
    ("A) There are seven days in a week.", "ab", PAIRWISE, "A"),
    ("The better answer is A.", "ab", PAIRWISE, "A"),
    ("Tie", "ab", PAIRWISE, "tie"),
    # A tiny model echoing the option list has not chosen.
    ("A) Paris\nB) Lyon", "ab", PAIRWISE, None),
    ("Answer A: says Paris.\nAnswer B: says Lyon.\nBoth are plausible.", "ab", PAIRWISE, None),
    ("A is better than B.", "ab", PAIRWISE, None),
    ("A week has seven days.", "ab", PAIRWISE, None),
    ("Verdict: A\nVerdict: B", "ab", PAIRWISE, None),
    # --- refusals and empty output ---------------------------------------------------------
    ("I'm sorry, but I can't help with comparing these answers.", "ab", PAIRWISE, None),
    ("As an AI language model, I cannot determine which answer is better.", "ab", PAIRWISE, None),
    ("", "ab", PAIRWISE, None),
    ("   \n\t", "ab", PAIRWISE, None),
    ("I cannot rate this response.", "rating", RANGE_1_10, None),
    ("", "rating", RANGE_1_10, None),
    # --- ratings ---------------------------------------------------------------------------
    (VERBOSE_RATING, "rating", RANGE_1_10, 6),
    ("Rating: [[7]]", "rating", RANGE_1_10, 7),
    ("[[10]]", "rating", RANGE_1_10, 10),
    ("Rating: [[7.5]]", "rating", RANGE_1_10, 7.5),
    ("Score: 8/10 - accurate but terse.", "rating", RANGE_1_10, 8),
    ("**Rating**: 9", "rating", RANGE_1_10, None),  # markdown splits the label from its colon
    ("Rating: **9**", "rating", RANGE_1_10, 9),
    ("Rate from [[1]] (worst) to [[10]] (best).\nMy rating: [[4]]", "rating", RANGE_1_10, 4),
    ("7", "rating", RANGE_1_10, 7),
    (" 8\n\nThe answer is mostly correct.", "rating", RANGE_1_10, 8),
    ("6 out of 10.", "rating", RANGE_1_10, 6),
    ("I'd say [[3]] or maybe [[4]].", "rating", RANGE_1_10, None),
    ("1. The answer is accurate.\n2. It is concise.", "rating", RANGE_1_10, None),
    ("Accuracy: 8, clarity: 6.", "rating", RANGE_1_10, None),
    ("Rating: [[N/A]]", "rating", RANGE_1_10, None),
    ("Rating: [[seven]]", "rating", RANGE_1_10, None),
    # a verdict outside the scale is a failure, not clipped
    ("Rating: [[11]]", "rating", RANGE_1_10, None),
    ("Rating: [[0]]", "rating", RANGE_1_10, None),
    ("Rating: [[-2]]", "rating", RANGE_1_10, None),
    ("Rating: [[4]]", "rating", LIKERT_1_5, 4),
    ("Rating: [[3.5]]", "rating", LIKERT_1_5, None),
    ("Rating: [[6]]", "rating", LIKERT_1_5, None),
    # --- mode mismatches -------------------------------------------------------------------
    ("[[A]]", "ab", RANGE_1_10, None),
    ("Rating: [[7]]", "rating", PAIRWISE, None),
    # --- JSON ------------------------------------------------------------------------------
    (JSON_FENCED, "json", PAIRWISE, "B"),
    ('{"verdict": "tie"}', "json", PAIRWISE, "tie"),
    ('{"winner": "Answer A", "confidence": 0.8}', "json", PAIRWISE, "A"),
    ('{"score": 9, "explanation": "correct"}', "json", RANGE_1_10, 9),
    ('{"rating": "6"}', "json", RANGE_1_10, 6),
    ('{"score": 12}', "json", RANGE_1_10, None),
    ('{"verdict": "both"}', "json", PAIRWISE, None),
    ('{"explanation": "A is better"}', "json", PAIRWISE, None),
    ('{"verdict": "A"} ... actually {"verdict": "B"}', "json", PAIRWISE, None),
    ('{"verdict": "A", ', "json", PAIRWISE, None),
    ("The verdict is A.", "json", PAIRWISE, None),
    # --- bare leading tokens (completion-style base models) -----------------------------------
    (" 7", "leading", RANGE_1_10, 7),
    ("10\nQuestion: next", "leading", RANGE_1_10, 10),
    (" B", "leading", PAIRWISE, "B"),
    ("Okay", "leading", RANGE_1_10, None),
    ("11", "leading", RANGE_1_10, None),
]


@pytest.mark.parametrize(
    ("raw", "parser_name", "spec", "expected"),
    CASES,
    ids=[f"{i:02d}-{c[1]}" for i, c in enumerate(CASES)],
)
def test_real_outputs(
    raw: str, parser_name: str, spec: JudgeSpec, expected: str | float | None
) -> None:
    parsed = judge(spec, parser_name).read(raw)
    if expected is None:
        assert not parsed.ok, parsed
        assert parsed.label is None
        assert parsed.score is None
        assert parsed.reason
    elif isinstance(expected, str):
        assert (parsed.label, parsed.score) == (expected, None)
    else:
        assert (parsed.label, parsed.score) == (None, expected)


def test_the_table_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    assert sum(1 for c in CASES if c[3] is None) >= 15
    assert {c[1] for c in CASES} == {"ab", "rating", "json", "leading"}


def test_failure_reasons_say_why() -> None:
    assert parse_ab("").reason == "empty output"
    assert parse_ab("[[A]] x [[B]]").reason == "ambiguous: both [[A]] and [[B]] appear"
    assert parse_ab("A) Paris\nB) Lyon").reason == (
        "ambiguous: the reply lists both answers instead of choosing one"
    )
    assert parse_rating("[[3]] or [[4]]").reason == "ambiguous: both [[3]] and [[4]] appear"
    assert parse_json('{"x": 1}').reason == "JSON object has no verdict or score key (keys: x)"
    rating = judge(RANGE_1_10, "rating")
    assert rating.read("Rating: [[11]]").reason == "score 11 is outside the scale 1-10"
    assert judge(LIKERT_1_5, "rating").read("[[6]]").reason == (
        "score 6 is not one of the scale's options (1, 2, 3, 4, 5)"
    )
    assert judge(RANGE_1_10, "json").read('{"verdict": "A"}').reason == (
        "read a verdict (A) but a score was expected"
    )
    assert judge(PAIRWISE, "leading").read("7").reason == (
        "read a score (7) but a pairwise verdict (A, B or tie) was expected"
    )


def test_read_keeps_only_what_the_mode_needs() -> None:
    both = '{"verdict": "A", "score": 7}'
    assert judge(PAIRWISE, "json").read(both) == Parsed("A")
    assert judge(RANGE_1_10, "json").read(both) == Parsed(None, score=7)


def test_registry_finds_user_parsers_and_names_unknown_ones() -> None:
    @PARSERS.register("always-tie-for-test")
    def always_tie(raw: str) -> Parsed:
        return Parsed("tie")

    assert PARSERS.get("always-tie-for-test")("x").label == "tie"
    assert {"ab", "rating", "json", "leading"} <= set(PARSERS.names())
    with pytest.raises(SpecError, match=r"unknown parser 'nope'; known parsers: .*ab"):
        PARSERS.get("nope")
