"""Coverage of production's kinds of request: clusters the eval set never asks."""

from __future__ import annotations

import numpy as np
from data_sim import clean, mixed

from evalkit.data import compare
from evalkit.data._clusters import MAX_K, TOLERANCE, choose_k, coverage


def without(texts: list[str], word: str) -> list[str]:
    return [t for t in texts if word not in t.lower()]


def test_an_intent_the_eval_set_lacks_is_reported_uncovered() -> None:
    rng = np.random.default_rng(0)
    prod = clean(rng, 400)
    evals = without(clean(rng, 200), "cancel")
    result = coverage(evals, prod, seed=0)
    assert result.k == choose_k(400) == MAX_K
    (missing,) = result.uncovered
    cancels = sum("cancel" in t.lower() for t in prod)
    assert (missing.eval_count, missing.prod_count) == (0, cancels)
    assert missing.prod_share == round(cancels / 400, 4)
    assert result.uncovered_share == missing.prod_share
    assert "cancel" in missing.terms
    assert all("cancel my subscription" in e for e in missing.examples)
    assert missing.p_value < result.alpha / result.k
    # The uncovered cluster comes first; every other kind is asked.
    assert result.clusters[0] == missing
    assert all(c.eval_count > 0 for c in result.clusters[1:])
    assert "1 not covered by the eval set" in result.summary_lines()[0]


def test_a_kind_asked_rarely_but_not_never_is_uncovered_beyond_the_tolerance() -> None:
    rng = np.random.default_rng(1)
    prod = clean(rng, 400)
    pool = clean(rng, 400)
    cancel = [t for t in pool if "cancel" in t.lower()]
    evals = without(pool, "cancel")[:190] + cancel[:2]  # about 1 % against production's 10 %
    (missing,) = coverage(evals, prod, seed=0).uncovered
    assert missing.eval_count == 2
    assert missing.eval_share <= TOLERANCE * missing.prod_share


def test_two_halves_of_one_sample_leave_no_kind_uncovered_in_95_percent_of_seeds() -> None:
    seeds = range(40)
    flagged = 0
    for seed in seeds:
        rng = np.random.default_rng(2000 + seed)
        texts = mixed(rng, 100)
        flagged += bool(coverage(texts[:50], texts[50:], seed=seed).uncovered)
    assert flagged <= 0.05 * len(seeds), flagged


def test_coverage_is_seeded() -> None:
    rng = np.random.default_rng(3)
    prod, evals = mixed(rng, 120), without(mixed(rng, 80), "refund")
    assert coverage(evals, prod, seed=4) == coverage(evals, prod, seed=4)


def test_too_little_text_gives_the_reason() -> None:
    assert coverage(["one"], ["a b", "c d"]).reason == "needs at least 2 texts a side"
    assert coverage(["a b", "c d"], ["e f", "g h"]).reason == "no word appears in two texts"
    assert coverage(["a b", "c d"], ["e f", "g h"]).summary_lines() == [
        "coverage of production's kinds of request: not measurable: no word appears in two texts"
    ]


def test_compare_reports_the_uncovered_kinds() -> None:
    rng = np.random.default_rng(5)
    prod = clean(rng, 200)
    result = compare(without(clean(rng, 100), "charged twice"), prod, seed=0)
    assert result.coverage is not None
    (missing,) = result.coverage.uncovered
    assert "charged twice" in missing.terms
    lines = "\n".join(result.summary_lines())
    assert "1 not covered by the eval set" in lines
    assert "Why was I charged twice" in lines
    assert result.to_dict()["coverage"]["uncovered_share"] == missing.prod_share


def test_production_tags_are_the_kinds_when_the_file_has_them() -> None:
    rng = np.random.default_rng(6)
    prod = clean(rng, 300)
    tags = ["cancel" if "cancel" in t.lower() else "refund" if "refund" in t else "rest"
            for t in prod]  # fmt: skip
    evals = without(clean(rng, 150), "cancel")
    result = coverage(evals, prod, seed=0, prod_tags=tags)
    assert (result.source, result.k) == ("tags", 3)
    (missing,) = result.uncovered
    assert missing.tag == "cancel"
    assert missing.eval_count == 0
    assert missing.prod_share == round(tags.count("cancel") / 300, 4)
    assert "tag 'cancel'" in result.summary_lines()[1]
    rest = coverage(clean(rng, 150), prod, seed=0, prod_tags=tags)
    assert rest.uncovered == ()
