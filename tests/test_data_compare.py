"""evalkit.data.compare: the classifier test finds injected production noise, and only it."""

from __future__ import annotations

import numpy as np
import pytest
from data_sim import clean, mixed, noisy
from sklearn.metrics import roc_auc_score

from evalkit.data import compare
from evalkit.data._classifier import classifier_test, delong_auc
from evalkit.data._descriptors import descriptor_frames
from evalkit.data._shift import descriptor_shifts
from evalkit.errors import ConfigError


def brute_force_delong(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong variance straight from the definition: O(m·n) pairwise comparisons."""
    pos, neg = scores[labels], scores[~labels]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))


def test_delong_matches_the_definition_and_sklearn() -> None:
    rng = np.random.default_rng(3)
    labels = rng.random(120) < 0.4
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # rounded: ties exercise the midranks
    auc, var = brute_force_delong(scores, labels)
    result = delong_auc(scores, labels, 0.95)
    assert result.value == pytest.approx(auc)
    assert result.value == pytest.approx(roc_auc_score(labels, scores))
    half_width = 1.959963984540054 * np.sqrt(var)
    assert result.low == pytest.approx(auc - half_width)
    assert result.high == pytest.approx(auc + half_width)
    assert result.n == 120


def test_delong_of_one_positive_is_not_measurable() -> None:
    result = delong_auc(np.array([0.1, 0.2, 0.3]), np.array([True, False, False]), 0.95)
    assert not result.measurable
    assert str(result).startswith("not measurable: ")


def test_noisy_production_is_told_apart_and_the_right_descriptors_flagged() -> None:
    rng = np.random.default_rng(11)
    eval_texts = clean(rng, 200)
    prod_texts = noisy(rng, clean(rng, 200))
    result = compare(eval_texts, prod_texts, seed=1)
    auc = result.classifier.auc
    assert auc.low is not None
    assert auc.low > 0.8, auc
    flagged = {s.name for s in result.flagged()}
    assert {
        "lower_share",
        "has_misspelling",
        "terminal_punctuation",
        "several_requests",
        "chat_register",
        "oov_rate",
    } <= flagged
    assert not {"emoji", "url", "code"} & flagged  # nobody injected those
    shifts = {s.name: s for s in result.shifts}
    assert "less likely to contain a misspelling" in shifts["has_misspelling"].direction
    assert shifts["has_misspelling"].distance.high is not None
    assert shifts["has_misspelling"].distance.high < 0  # eval has fewer: negative distance
    assert "shorter" in shifts["words"].direction  # merged requests make production longer
    # the classifier's eval-side features are the clean forms (capitals), production's the noise
    assert any(
        f.startswith("char__") and any(c.isupper() for c in f)
        for f in result.classifier.eval_features
    )
    assert len(result.least_covered_production) == 10
    assert all(0 <= n.similarity <= 1 for n in result.least_covered_production)


def test_shuffled_labels_give_an_auc_near_one_half() -> None:
    # The same texts as above with their sides shuffled: the classifier must find nothing.
    rng = np.random.default_rng(11)
    texts = clean(rng, 200) + noisy(rng, clean(rng, 200))
    order = np.random.default_rng(5).permutation(len(texts))
    shuffled = [texts[i] for i in order]
    auc = classifier_test(shuffled[:200], shuffled[200:], seed=1, confidence=0.95).auc
    assert auc.low is not None
    assert auc.high is not None
    assert auc.low < 0.5 < auc.high


def test_two_halves_of_one_sample_cover_one_half_in_95_percent_of_seeds() -> None:
    covered = 0
    seeds = range(40)
    for seed in seeds:
        rng = np.random.default_rng(1000 + seed)
        texts = mixed(rng, 120)
        auc = classifier_test(texts[:60], texts[60:], seed=seed, confidence=0.95).auc
        assert auc.low is not None
        assert auc.high is not None
        covered += auc.low <= 0.5 <= auc.high
    assert covered >= 0.95 * len(seeds), covered


def test_descriptor_means_carry_n_and_interval() -> None:
    rng = np.random.default_rng(2)
    result = compare(clean(rng, 50), noisy(rng, clean(rng, 40)), seed=0)
    chars = next(s for s in result.shifts if s.name == "chars")
    assert chars.eval_mean.n == 50
    assert chars.prod_mean.n == 40
    assert chars.eval_mean.low is not None
    assert chars.eval_mean.high is not None
    assert chars.eval_mean.low <= chars.eval_mean.value <= chars.eval_mean.high  # type: ignore[operator]


@pytest.mark.parametrize(
    ("eval_texts", "prod_texts", "reason"),
    [
        ([], ["a b", "c d"], "eval sample has 0"),
        (["only one"], ["a b", "c d"], "eval sample has 1"),
        (["a b", "c d"], ["x"], "production sample has 1"),
    ],
)
def test_tiny_samples_are_not_measurable_not_a_crash(
    eval_texts: list[str], prod_texts: list[str], reason: str
) -> None:
    result = compare(eval_texts, prod_texts)
    assert not result.classifier.auc.measurable
    assert all(not s.distance.measurable for s in result.shifts)
    assert reason in str(result.shifts[0].distance)
    assert "nan" not in "\n".join(result.summary_lines()).lower()


def test_identical_samples_are_not_measurable() -> None:
    texts = clean(np.random.default_rng(0), 30)
    result = compare(texts, list(reversed(texts)))
    assert (
        str(result.classifier.auc)
        == "not measurable: the eval and production samples are the same texts"
    )
    assert not result.flagged()


def test_a_bad_confidence_names_the_flag() -> None:
    with pytest.raises(ConfigError, match="--confidence"):
        compare(["a b", "c d"], ["e f", "g h"], confidence=95)


def test_descriptor_intervals_cover_zero_for_two_halves_of_one_sample() -> None:
    # A too-narrow bootstrap (or a biased distance) would exclude 0 far more than 5 % of the time.
    names = ("chars", "has_misspelling", "lower_share", "several_requests")
    covered = dict.fromkeys(names, 0)
    seeds = range(40)
    for seed in seeds:
        texts = mixed(np.random.default_rng(2000 + seed), 160)
        ev, prod = descriptor_frames(texts[:80], texts[80:])
        shifts = {s.name: s for s in descriptor_shifts(ev, prod, seed=seed, confidence=0.95)}
        for name in names:
            d = shifts[name].distance
            assert d.low is not None
            assert d.high is not None
            covered[name] += d.low <= 0 <= d.high
    assert all(c >= 0.9 * len(seeds) for c in covered.values()), covered


def test_another_language_is_said_not_counted_as_misspellings() -> None:
    french = [
        "bonjour je voudrais savoir quand mon colis arrivera",
        "pouvez-vous annuler ma commande s'il vous plait",
        "mon remboursement n'est toujours pas arrive",
        "est-ce que vous livrez au Canada",
    ] * 3
    result = compare(clean(np.random.default_rng(0), 12), french)
    assert any("production words are not in the English dictionary" in n for n in result.notes)
    assert not any("eval words" in n for n in result.notes)  # the English side is not flagged
