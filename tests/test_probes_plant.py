"""Planted errors: one fluent factual error per copy, seeded, or None when nothing can be planted."""

import re

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
        ("The capital of Japan is Tokyo.", "The capital of Australia is Tokyo."),
        ("Paris is the capital of France.", "Stockholm is the capital of France."),
        ("The theory was proposed by Einstein.", "The theory was proposed by Tim Berners-Lee."),
    ],
)
def test_a_bundled_name_is_swapped_for_one_of_its_kind(text: str, expected: str) -> None:
    planted = plant_name(text, seed=0)
    assert planted is not None
    assert planted.text == expected


def test_names_of_the_dataset_replace_each_other_within_their_kind() -> None:
    pool = name_pool([
        "The capital of Japan is Tokyo.", "Paris is in France.", "Zorblax wrote it.", "Ottawa.",
        "It was written by Zorblax.", "It was written by Quintor.", "It was sung by Vexa.",
    ])  # fmt: skip
    # A bundled name has its kind; another name the slot it fills ("written by"). "Zorblax"
    # opening its sentence is no name there, but it is one after "written by".
    city, country = frozenset({"city"}), frozenset({"country"})
    assert pool == {
        "France": country, "Japan": country, "Ottawa": city, "Paris": city,
        "Quintor": frozenset({"after 'written by'"}), "Tokyo": city,
        "Vexa": frozenset({"after 'sung by'"}), "Zorblax": frozenset({"after 'written by'"}),
    }  # fmt: skip
    got = plant_name("It was written by Zorblax.", seed=0, names=pool)
    assert got is not None
    assert got.text == "It was written by Quintor."
    # "Vexa" is the only name after "sung by": nothing is known to be like it.
    assert plant_name("It was sung by Vexa.", seed=0, names=pool) is None
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
            first = PLANTERS[kind](text, seed, "", {})
            again = PLANTERS[kind](text, seed, "", {})
            assert first == again
            if first is not None:
                assert first.text != text
                assert first.kind == kind
                rebuilt = text[: first.start] + first.replacement + text[first.end :]
                assert rebuilt == first.text


def test_a_pool_with_no_other_name_of_the_kind_falls_back_to_the_bundled_list() -> None:
    planted = plant_name("Paris is big.", seed=0, names=name_pool(["Paris is big.", "In France."]))
    assert planted is not None
    assert planted.replacement in {c for c in NAMES["city"] if c != "Paris"}


# The references of the bundled `general-knowledge` suite (suites/data/general_knowledge.jsonl),
# where planted names once crossed kinds: "100 degrees Mona", "Second World Red".
GENERAL_KNOWLEDGE = (
    "The capital of Japan is Tokyo.",
    "The capital city of Australia is Canberra.",
    "The Amazon is the longest river in South America.",
    "Mount Everest stands on the border of Nepal and China.",
    "At sea level, water boils at 100 degrees Celsius.",
    "Mars is known as the Red Planet.",
    "The Pacific is the largest ocean on Earth.",
    "Hamlet was written by William Shakespeare.",
    "The Mona Lisa was painted by Leonardo da Vinci.",
    "Humans first landed on the Moon in 1969.",
    "The Second World War ended in 1945.",
    "The Berlin Wall fell in 1989.",
    "Python was created by Guido van Rossum.",
)


def test_a_temperature_scale_is_never_swapped_for_a_word_of_a_painting() -> None:
    pool = name_pool(GENERAL_KNOWLEDGE)
    text = "At sea level, water boils at 100 degrees Celsius."
    got = {getattr(plant_name(text, seed=s, names=pool), "text", None) for s in range(20)}
    assert got == {"At sea level, water boils at 100 degrees Fahrenheit."}


def test_a_war_is_swapped_whole_for_another_war_never_a_word_of_it() -> None:
    pool = name_pool(GENERAL_KNOWLEDGE)
    text = "The Second World War ended in 1945."
    for seed in range(20):
        planted = plant_name(text, seed=seed, names=pool)
        assert planted is not None
        assert planted.removed == "Second World War"
        assert planted.replacement in NAMES["war"]


# A small corpus for the properties: the references above, and texts with names of every
# sort — bundled, multi-word, unknown ones filling a shared slot, one at a sentence's start.
CORPUS = (
    *GENERAL_KNOWLEDGE,
    "Einstein was born in Ulm, Germany, in 1879.",
    "The Nile flows through Egypt into the Mediterranean.",
    "Marie Curie did her research in Paris.",
    "Oxygen makes up about 21 percent of the air.",
    "The Treaty of Versailles was signed in 1919.",
    "In Paris the Seine flows past the Louvre.",
    "Later Einstein moved to Princeton.",
    "The Gulf of Mexico borders the United States.",
    "Rio de Janeiro is a city in Brazil.",
    "Most people in Brazil speak Portuguese.",
    "The spell was written by Zorblax.",
    "The song was written by Quintor.",
    "Vexa.",
    "Morlock.",
)
BUNDLED_KIND = {name: kind for kind, names in NAMES.items() for name in names}


def test_every_planted_name_is_of_the_kind_of_the_name_it_replaces_and_is_whole() -> None:
    pool = name_pool(CORPUS)
    kinds_planted: set[str] = set()
    for text in CORPUS:
        for seed in range(30):
            planted = plant_name(text, seed=seed, names=pool)
            if planted is None:
                continue
            old, new = planted.removed, planted.replacement
            if old in BUNDLED_KIND:
                assert BUNDLED_KIND.get(new) == BUNDLED_KIND[old], (text, new)
                kinds_planted.add(BUNDLED_KIND[old])
            else:
                assert new not in BUNDLED_KIND, (text, new)
                assert pool[old] & pool[new], (text, new)
                kinds_planted |= pool[old] & pool[new]
            # A whole name: no capitalised word (but "The") joins it on either side.
            assert not re.match(r" (?:(?:da|de|van|von|of) )*[A-Z]", text[planted.end :]), text
            before = re.search(r"([A-Z][a-z]+) (?:(?:da|de|van|von|of) )*$", text[: planted.start])
            assert before is None or before.group(1) in {"The", "In"}, text
            assert not _occurs_before(new, text)
    # Not vacuous: names of many kinds were planted, unknown ones by their slot too.
    assert {"city", "country", "person", "planet", "war", "river", "language"} <= kinds_planted
    assert {"after 'written by'", "whole text"} <= kinds_planted


def _occurs_before(name: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Later Einstein moved to Princeton.",  # where the name begins is not known
        "The Berlin Wall fell in 1989.",  # no other wall, and Berlin is part of the name
        "The Treaty of Versailles was signed in 1919.",
        "Humans first landed on the Moon in 1969.",  # nothing else landed on
    ],
)
def test_a_text_whose_names_have_no_replacement_of_their_kind_gets_no_name(text: str) -> None:
    pool = name_pool(CORPUS)
    assert all(plant_name(text, seed=s, names=pool) is None for s in range(20))


def test_each_bundled_name_has_one_kind_and_is_read_whole() -> None:
    every = [name for names in NAMES.values() for name in names]
    assert len(every) == len(set(every))  # no name in two kinds
    pool = name_pool(f"We saw {name} there." for name in every)
    assert pool == {name: frozenset({BUNDLED_KIND[name]}) for name in sorted(every)}
