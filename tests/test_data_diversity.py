"""evalkit.data diversity: figures checked by hand, and a collapsed version shows its loss."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest
from data_sim import clean

from evalkit.data import compare_diversity, diversity
from evalkit.data._diversity import compression_ratio, distinct_n, near_duplicate_flags, openings

TEXTS = ["the cat sat", "the cat ran", "a dog ran", "The cat sat!"]


def test_distinct_n_by_hand() -> None:
    # words: the cat sat the cat ran a dog ran the cat sat -> 12 words, 6 distinct
    assert distinct_n(TEXTS, 1) == pytest.approx(6 / 12)
    # bigrams: the-cat x3, cat-sat x2, cat-ran, a-dog, dog-ran -> 8 bigrams, 5 distinct
    assert distinct_n(TEXTS, 2) == pytest.approx(5 / 8)


def test_compression_ratio_is_raw_over_zlib() -> None:
    raw = "\n".join(TEXTS).encode()
    assert compression_ratio(TEXTS) == pytest.approx(len(raw) / len(zlib.compress(raw, 6)))
    repeated = ["the same sentence, again and again"] * 50
    assert compression_ratio(repeated) > 5 * compression_ratio(clean(np.random.default_rng(0), 50))


def test_near_duplicates_by_cosine() -> None:
    # "The cat sat!" is "the cat sat" once case and punctuation are gone: cosine 1.
    flags = near_duplicate_flags(TEXTS)
    assert flags.tolist() == [True, False, False, True]
    # at a low threshold, one shared word ("ran") is enough; no shared word never is
    assert near_duplicate_flags(["the cat ran", "a dog ran"], threshold=0.01).tolist() == [
        True,
        True,
    ]
    assert near_duplicate_flags(["red apple", "blue sky"], threshold=0.01).tolist() == [
        False,
        False,
    ]


def test_openings_by_hand() -> None:
    counts = openings(["Where is my order", "where is my refund", "Can I return it", ""])
    assert counts.to_dict() == {"where is my": 2, "can i return": 1}


def test_diversity_figures_carry_n_and_interval() -> None:
    texts = clean(np.random.default_rng(1), 80)
    result = diversity(texts, seed=0)
    assert result.subset_size == 40
    for name, value in result.figures.items():
        assert value.measurable, name
        assert value.n == 40
        assert value.low <= value.value <= value.high  # type: ignore[operator]
    # every subset of this set is of exactly this set's style: distinct-1 of a subset
    # is between that of the whole set and 1
    assert distinct_n(texts, 1) <= result.figures["distinct_1"].value <= 1  # type: ignore[operator]


def test_too_few_texts_are_not_measurable() -> None:
    result = diversity(["one", "two", "three"])
    assert all(not v.measurable for v in result.figures.values())
    assert "at least 4" in str(result.figures["distinct_1"])


def distinct_texts(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` texts of eight words drawn from 400: no two are near-duplicates."""
    vocabulary = np.array([f"w{i}" for i in range(400)])
    return [" ".join(rng.choice(vocabulary, size=8)) for _ in range(n)]


def test_a_collapsed_version_shows_the_drop() -> None:
    before = distinct_texts(np.random.default_rng(4), 200)
    after = before[:50] * 4  # regenerated toward the mean: a quarter of the texts, copied
    change = compare_diversity(before, after, seed=0)
    dup = change.change["near_duplicate_share"]
    assert dup.low is not None
    assert dup.low > 0.8  # from no near-duplicates to nearly all
    for name in ("distinct_1", "distinct_2"):
        assert change.change[name].high is not None
        assert change.change[name].high < 0, name  # type: ignore[operator]
    assert change.change["compression_ratio"].low > 0  # type: ignore[operator]


def test_the_lost_tails_are_named() -> None:
    common = clean(np.random.default_rng(4), 200)
    rare = [
        "my order never came and i need it for my daughter's birthday on friday",
        "the app crashes when i try to pay with paypal",
        "can i speak to a person",
        "is there a discount for students",
    ]
    change = compare_diversity(common + rare, common, seed=0)
    assert {n.text for n in change.lost[:4]} == set(rare)
    assert all(n.similarity == 1.0 for n in change.lost[4:])  # the rest are all still there


def test_an_unchanged_version_shows_no_drop() -> None:
    texts = clean(np.random.default_rng(5), 200)
    shuffled = list(np.random.default_rng(6).permutation(texts))
    change = compare_diversity(texts, shuffled, seed=0)
    for name, value in change.change.items():
        assert value.low is not None
        assert value.high is not None
        assert value.low <= 0 <= value.high, name


def test_a_large_set_is_measured_on_a_stated_seeded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("evalkit.data._diversity.MAX_ROWS", 50)
    texts = clean(np.random.default_rng(7), 80)
    result = diversity(texts, seed=0)
    assert result.n == 80
    assert result.subset_size == 25
    assert result.notes == ("measured on a seeded sample of 50 of the 80 texts",)
    assert diversity(texts, seed=0) == result  # the same seed, the same sample


def test_the_loss_reads_every_figure_as_diversity() -> None:
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(5000)]
    before = [" ".join(rng.choice(words, size=rng.integers(4, 20))) for _ in range(200)]
    collapsed = ["the same answer every time, with the same words"] * 100
    change = compare_diversity(before, before[:100] + collapsed, seed=0)
    old, new = change.before, change.after

    def value(name: str, side: dict[str, Any]) -> float:
        got = side[name].value
        assert got is not None
        return float(got)

    # Each loss is 1 - D(new) / D(old) at the means, D read so that higher is more diverse.
    reads = {
        "distinct_1": lambda x: x, "distinct_2": lambda x: x, "length_sd": lambda x: x,
        "compression_ratio": lambda x: 1 / x, "near_duplicate_share": lambda x: 1 - x,
        "top_openings_share": lambda x: 1 - x,
    }  # fmt: skip
    for name, as_diversity in reads.items():
        expected = 1 - as_diversity(value(name, new)) / as_diversity(value(name, old))
        loss = change.loss[name]
        assert loss.value == pytest.approx(expected, rel=1e-9), name
        assert loss.low is not None
        assert loss.high is not None
        assert loss.low <= loss.value <= loss.high, name
    # Half the texts replaced by one: diversity is lost on every figure.
    assert all(change.loss[n].low > 0.05 for n in reads)  # type: ignore[operator]
    same = compare_diversity(before, before, seed=0)
    assert all(abs(e.value) < 0.05 for e in same.loss.values())  # type: ignore[arg-type]
