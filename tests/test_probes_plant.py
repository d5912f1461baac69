"""Planted errors: one fluent factual error per copy, seeded, or None when nothing can be planted."""

import pytest

from evalkit.probes._plant import (
    NAMES,
    PLANTERS,
    name_pool,
    plant_name,
    plant_negation,
    plant_number,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is 12.", "The answer is 13."),
        ("It weighs 3.5 kg.", "It weighs 1.5 kg."),
        ("Apollo 11 landed in 1969.", "Apollo 11 landed in 1968."),
        ("About 1,500 people came.", "About 1,700 people came."),
        ("Water boils at 100 degrees.", "Water boils at 300 degrees."),
        ("It costs 0.5 dollars.", "It costs 0.4 dollars."),
        ("There are 9 planets.", "There are 8 planets."),
        ("The year 2024 was a leap year.", "The year 2021 was a leap year."),
    ],
)
def test_a_number_changes_and_keeps_its_format(text: str, expected: str) -> None:
    planted = plant_number(text, seed=0)
    assert planted is not None
    assert planted.text == expected
    assert planted.kind == "number"


def test_years_move_by_a_few_years_and_the_seed_chooses_which_number() -> None:
    text = "Apollo 11 landed in 1969 with 3 astronauts."
    got = [plant_number(text, seed=s).text for s in range(4)]  # type: ignore[union-attr]
    assert got == [
        "Apollo 11 landed in 1969 with 2 astronauts.",
        "Apollo 12 landed in 1969 with 3 astronauts.",
        "Apollo 11 landed in 1968 with 3 astronauts.",
        "Apollo 11 landed in 1971 with 3 astronauts.",
    ]


def test_numbers_restated_from_the_question_are_left_alone() -> None:
    planted = plant_number("12 + 7 = 19", seed=0, avoid="What is 12 + 7?")
    assert planted is not None
    assert planted.text == "12 + 7 = 17"
    assert (planted.removed, planted.replacement) == ("19", "17")


@pytest.mark.parametrize(
    "text",
    ["No numbers here.", "GPT-4 is a model; H2O is water.", "1. Boil water\n2. Add pasta", ""],
)
def test_no_number_to_change_gives_none(text: str) -> None:
    assert plant_number(text, seed=0) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The sky is blue.", "The sky is not blue."),
        ("Penguins cannot fly.", "Penguins can fly."),
        ("It is not raining.", "It is raining."),
        ("Water doesn't burn.", "Water does burn."),
        ("Cats can climb trees.", "Cats cannot climb trees."),
        ("Paris isn't in Spain.", "Paris is in Spain."),
        ("He will not come.", "He will come."),
        ("This island is small.", "This island is not small."),
    ],
)
def test_a_negation_is_added_or_removed(text: str, expected: str) -> None:
    planted = plant_negation(text, seed=0)
    assert planted is not None
    assert planted.text == expected


def test_exactly_one_negation_site_changes() -> None:
    text = "Birds can fly, but penguins cannot."
    got = {plant_negation(text, seed=s).text for s in range(4)}  # type: ignore[union-attr]
    assert got == {"Birds can fly, but penguins can.", "Birds cannot fly, but penguins cannot."}


@pytest.mark.parametrize(
    "text", ["Is it true? Yes.", "This statement has no auxiliary.", "Thistle and island."]
)
def test_no_statement_to_negate_gives_none(text: str) -> None:
    assert plant_negation(text, seed=0) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The capital of Japan is Tokyo.", "The capital of Turkey is Tokyo."),
        ("Paris is the capital of France.", "Rome is the capital of France."),
        ("The theory was proposed by Einstein.", "The theory was proposed by Aristotle."),
    ],
)
def test_a_bundled_name_is_swapped_for_one_of_its_kind(text: str, expected: str) -> None:
    planted = plant_name(text, seed=0)
    assert planted is not None
    assert planted.text == expected


def test_names_of_the_dataset_replace_each_other_within_their_kind() -> None:
    pool = name_pool(
        ["The capital of Japan is Tokyo.", "Paris is in France.", "Zorblax wrote it.", "Ottawa."]
    )
    # "Zorblax" opens its sentence and is no bundled name: not taken for a name.
    assert pool == ("France", "Japan", "Ottawa", "Paris", "Tokyo")
    got = plant_name("It was written by Zorblax.", seed=0, names=("Zorblax", "Quintor"))
    assert got is not None
    assert got.text == "It was written by Quintor."
    assert plant_name("Paris is lovely.", seed=2, names=pool).text == "Ottawa is lovely."  # type: ignore[union-attr]
    # A city of the pool is never replaced by one of its countries.
    for seed in range(20):
        swapped = plant_name("The capital is Tokyo.", seed=seed, names=pool)
        assert swapped is not None
        assert swapped.replacement in {"Ottawa", "Paris"}


@pytest.mark.parametrize(
    "text", ["It was written by Zorblax.", "The cat sat on the mat.", "I think Monday is fine."]
)
def test_no_name_with_a_replacement_gives_none(text: str) -> None:
    assert plant_name(text, seed=0) is None


@pytest.mark.parametrize("kind", sorted(PLANTERS))
def test_every_planter_is_deterministic_and_never_returns_an_identical_copy(kind: str) -> None:
    texts = [
        "In 1905 Einstein published 4 papers; he was not yet a professor.",
        "Tokyo is the capital of Japan and has 14 million people.",
        "Nothing to see",
    ]
    for seed in range(10):
        for text in texts:
            first = PLANTERS[kind](text, seed, "", ())
            again = PLANTERS[kind](text, seed, "", ())
            assert first == again
            if first is not None:
                assert first.text != text
                assert first.kind == kind
                rebuilt = text[: first.start] + first.replacement + text[first.end :]
                assert rebuilt == first.text


def test_a_pool_with_no_other_name_of_the_kind_falls_back_to_the_bundled_list() -> None:
    planted = plant_name("Paris is big.", seed=0, names=("Paris", "France"))
    assert planted is not None
    assert planted.replacement in {c for c in NAMES["city"] if c != "Paris"}
