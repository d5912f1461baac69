"""The classifier two-sample test: can a text classifier tell eval inputs from production.

A logistic regression on character and word n-gram TF-IDF features is trained on a stratified
half of the texts; its scores on the other half give a ROC AUC with a DeLong interval. 0.5
means the classifier cannot tell the two samples apart; 1.0 means every eval input is
recognisable.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion

from evalkit.data._estimate import Estimate, estimate, not_measurable

#: Features kept per kind (most frequent first); bounds memory and time on large samples.
MAX_FEATURES: Final = 2**17

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, slots=True)
class ClassifierTest:
    """The held-out AUC (on ``n_test`` texts), and the n-grams that most mark each side."""

    auc: Estimate
    n_eval: int
    n_prod: int
    n_test: int
    eval_features: tuple[str, ...]
    prod_features: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The test as plain JSON-ready values."""
        return dataclasses.asdict(self)


def delong_auc(scores: FloatArray, labels: npt.NDArray[np.bool_], confidence: float) -> Estimate:
    """ROC AUC of ``scores`` for ``labels`` (True = positive) with DeLong's interval.

    DeLong, DeLong & Clarke-Pearson (1988), with midranks for ties (Sun & Xu 2014). Not
    measurable with fewer than two positives or two negatives.
    """
    pos, neg = scores[labels], scores[~labels]
    m, n = len(pos), len(neg)
    if min(m, n) < 2:
        return not_measurable("fewer than two texts on one side", m + n, confidence)
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    pos_in_all, neg_in_all = ranks[:m], ranks[m:]
    auc = (pos_in_all.sum() - m * (m + 1) / 2) / (m * n)
    v10 = (pos_in_all - stats.rankdata(pos)) / n  # share of negatives each positive beats
    v01 = 1.0 - (neg_in_all - stats.rankdata(neg)) / m  # share of positives above each negative
    se = float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    low, high = max(0.0, auc - z * se), min(1.0, auc + z * se)
    return estimate(float(auc), low, high, m + n, confidence)


def _features() -> FeatureUnion:
    # Case and punctuation are kept in the character n-grams: they are much of what differs.
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 4),
        lowercase=False,
        sublinear_tf=True,
        min_df=2,
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
    words = TfidfVectorizer(
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b\w+\b",
        sublinear_tf=True,
        min_df=2,
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
    return FeatureUnion([("char", chars), ("word", words)])


def classifier_test(
    eval_texts: list[str],
    prod_texts: list[str],
    *,
    seed: int,
    confidence: float,
    top: int = 10,
) -> ClassifierTest:
    """Train an eval-vs-production classifier on half the texts; its AUC on the other half.

    The split is stratified and seeded. DeLong's interval is valid for the held-out half given
    the trained model. Pooling k-fold out-of-fold scores was measured and rejected: the
    fold-to-fold model changes add spread that DeLong does not see, and two halves of one
    sample then excluded 0.5 in 15-20 % of seeds instead of 5 %.

    The vectoriser is fitted on both samples without labels, so no label leaks into the test
    half. Fewer than four texts on a side, or texts with no n-gram in common, are "not
    measurable".
    """
    n_e, n_p = len(eval_texts), len(prod_texts)
    if min(n_e, n_p) < 4:
        reason = f"need at least 4 texts per side, have {n_e} eval and {n_p} production"
        return ClassifierTest(not_measurable(reason, n_e + n_p, confidence), n_e, n_p, 0, (), ())
    labels = np.concatenate([np.ones(n_e, dtype=bool), np.zeros(n_p, dtype=bool)])
    union = _features()
    try:
        features = sparse.csr_matrix(union.fit_transform(eval_texts + prod_texts))
    except ValueError:  # no n-gram occurs twice: nothing to learn from
        reason = "the texts share no character or word n-gram"
        return ClassifierTest(not_measurable(reason, n_e + n_p, confidence), n_e, n_p, 0, (), ())
    train, test = train_test_split(
        np.arange(n_e + n_p), test_size=0.5, stratify=labels, random_state=seed
    )
    model = LogisticRegression(C=1.0, solver="liblinear", random_state=seed)
    model.fit(features[train], labels[train])
    scores = np.asarray(model.decision_function(features[test]), dtype=np.float64)
    coefs = model.coef_.ravel()
    names = union.get_feature_names_out()
    order = np.argsort(coefs)
    eval_side = tuple(str(names[i]) for i in order[::-1][:top] if coefs[i] > 0)
    prod_side = tuple(str(names[i]) for i in order[:top] if coefs[i] < 0)
    auc = delong_auc(scores, labels[test], confidence)
    return ClassifierTest(auc, n_e, n_p, len(test), eval_side, prod_side)
