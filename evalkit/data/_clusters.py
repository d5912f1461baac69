"""Which kinds of request in production does the eval set never ask? Coverage of clusters.

The production sample and the eval set are pooled and clustered together (word TF-IDF, reduced
to a few dozen dimensions by truncated SVD, then k-means), each side weighted to half of the
total so that neither side's size decides where the clusters lie, and neither side is favoured
when the two are alike. A cluster is a kind of request. When the production file tags its
messages (a ``tag`` column), each tag is a kind instead, and both sides' texts are counted in
the tag whose centre is nearest. It is **uncovered** when the eval set
asks it less often than production, surely and by a margin:

- a one-sided Fisher exact test of (eval texts in the cluster, eval texts elsewhere) against
  (production texts in the cluster, elsewhere) gives p below ``(1 - confidence) / k``
  (Bonferroni over the k clusters), and
- the eval set's share of the cluster is at most :data:`TOLERANCE` of production's share.

Deterministic for a seed: the SVD and k-means are seeded, and k is stated (see
:func:`choose_k`). Nothing is downloaded; everything is vectorised in scikit-learn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from evalkit.data._sample import sample_positions, seeded_sample

#: Texts per side clustered; more would cost seconds and change no share by more than ~1 %.
CLUSTER_ROWS: Final = 10_000
#: Most clusters: beyond about twenty, "kinds of request" become phrasings of one request.
MAX_K: Final = 20
#: Production texts per cluster k aims for, so a cluster's share is measured on about this many.
TEXTS_PER_CLUSTER: Final = 10
#: An uncovered cluster's eval share is at most this fraction of its production share.
TOLERANCE: Final = 0.5
#: Dimensions the TF-IDF vectors are reduced to before k-means.
COMPONENTS: Final = 50
#: Examples and top terms shown per cluster.
EXAMPLES: Final = 3
TERMS: Final = 6


@dataclasses.dataclass(frozen=True, slots=True)
class Cluster:
    """One kind of request: how often each side asks it, and what it looks like.

    ``terms`` are the words that weigh most in its centre; ``examples`` the production texts
    closest to it. ``p_value`` is the one-sided Fisher exact test that the eval set asks it
    less often than production.
    """

    index: int
    prod_count: int
    eval_count: int
    prod_share: float
    eval_share: float
    p_value: float
    uncovered: bool
    terms: tuple[str, ...]
    examples: tuple[str, ...]
    #: the production tag this kind is, when the kinds are tags.
    tag: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Coverage:
    """The pooled clusters, each side's share of each, and the ones the eval set leaves out.

    ``reason`` says why there are no clusters, when there are none.
    """

    k: int
    n_eval: int
    n_prod: int
    tolerance: float
    alpha: float
    clusters: tuple[Cluster, ...]
    #: the share of production in the clusters the eval set leaves out.
    uncovered_share: float = 0.0
    notes: tuple[str, ...] = ()
    reason: str | None = None
    #: ``clusters`` (k-means of both samples) or ``tags`` (the production file's tag column).
    source: str = "clusters"

    @property
    def uncovered(self) -> tuple[Cluster, ...]:
        """The uncovered clusters, the largest share of production first."""
        return tuple(c for c in self.clusters if c.uncovered)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return dataclasses.asdict(self)

    def summary_lines(self) -> list[str]:
        """The uncovered kinds of request, for a terminal."""
        if self.reason is not None:
            return [f"coverage of production's kinds of request: not measurable: {self.reason}"]
        lines = [
            f"production's kinds of request ({self.k} {self.source}): {len(self.uncovered)} not "
            f"covered by the eval set, {self.uncovered_share:.0%} of production"
        ]
        for c in self.uncovered:
            lines.append(
                f"  {c.prod_share:.0%} of production, {c.eval_share:.0%} of eval: "
                + (f"tag {c.tag!r}: " if c.tag is not None else "")
                + f"{', '.join(c.terms)} — e.g. {c.examples[0][:80]!r}"
            )
        return lines


def choose_k(n_prod: int) -> int:
    """One cluster per :data:`TEXTS_PER_CLUSTER` production texts, between 2 and :data:`MAX_K`.

    >>> choose_k(40), choose_k(150), choose_k(100_000)
    (4, 15, 20)
    """
    return max(2, min(MAX_K, n_prod // TEXTS_PER_CLUSTER))


def _not_measurable(n_eval: int, n_prod: int, confidence: float, reason: str) -> Coverage:
    return Coverage(0, n_eval, n_prod, TOLERANCE, 1.0 - confidence, (), reason=reason)


def coverage(
    eval_texts: Sequence[str],
    prod_texts: Sequence[str],
    *,
    seed: int = 0,
    confidence: float = 0.95,
    k: int | None = None,
    prod_tags: Sequence[str] | None = None,
) -> Coverage:
    """Group production's requests into kinds; say which kinds the eval set leaves out.

    Without ``prod_tags``, both samples are clustered together into ``k`` kinds (by default
    :func:`choose_k` of the production sample). With ``prod_tags`` (one per production text,
    e.g. a ``tag`` column), each tag is a kind, its centre the mean of its production texts;
    then every text of both sides is counted in the kind whose centre is nearest, the same
    rule for both so that neither is favoured. Fewer than 2 texts on a side, or texts
    without words, give a :class:`Coverage` with no kinds and the reason.

    Raises:
        ValueError: ``prod_tags`` is not as long as ``prod_texts``.
    """
    if prod_tags is not None and len(prod_tags) != len(prod_texts):
        raise ValueError("prod_tags must hold one tag per production text")
    ev = seeded_sample([str(t) for t in eval_texts], CLUSTER_ROWS, seed)
    kept = sample_positions(len(prod_texts), CLUSTER_ROWS, seed)
    pv = [str(prod_texts[i]) for i in kept]
    tags = None if prod_tags is None else [str(prod_tags[i]) for i in kept]
    notes = []
    if (len(ev), len(pv)) != (len(eval_texts), len(prod_texts)):
        notes.append(
            f"kinds of request on a seeded sample of {len(ev)} eval and {len(pv)} production texts"
        )
    if min(len(ev), len(pv)) < 2:
        return _not_measurable(len(ev), len(pv), confidence, "needs at least 2 texts a side")
    k = len(set(tags)) if tags is not None else choose_k(len(pv)) if k is None else k
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, min_df=2,
        dtype=np.float32,
    )  # fmt: skip
    try:
        matrix = vectorizer.fit_transform(ev + pv)
    except ValueError:  # no word appears twice
        return _not_measurable(len(ev), len(pv), confidence, "no word appears in two texts")
    components = min(COMPONENTS, matrix.shape[1] - 1, matrix.shape[0] - 1)
    if components < 1 or k > matrix.shape[0] or k < 2:
        return _not_measurable(len(ev), len(pv), confidence, "too few texts or words to group")
    svd = TruncatedSVD(n_components=components, random_state=seed)
    reduced = normalize(svd.fit_transform(matrix))
    if tags is None:
        names: list[str | None] = [None] * k
        centres, labels = _kmeans(reduced, len(ev), k, seed)
    else:
        names, centres, labels = _by_tag(reduced[len(ev) :], tags, reduced)
    terms = _top_terms(centres @ svd.components_, vectorizer)
    clusters = _clusters(
        labels[: len(ev)], labels[len(ev) :], pv, reduced[len(ev) :], centres, terms, names,
        alpha=(1.0 - confidence) / k,
    )  # fmt: skip
    share = round(sum(c.prod_share for c in clusters if c.uncovered), 4)
    return Coverage(
        k, len(ev), len(pv), TOLERANCE, 1.0 - confidence, clusters, share, tuple(notes),
        source="clusters" if tags is None else "tags",
    )  # fmt: skip


def _kmeans(
    vectors: npt.NDArray[np.float64], n_eval: int, k: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """k-means centres of the pooled vectors (each side weighing half) and every row's label."""
    n = len(vectors)
    # Each side weighs half: a 100,000-row eval set must not draw every centre to itself.
    weights = np.r_[np.full(n_eval, 0.5 / n_eval), np.full(n - n_eval, 0.5 / (n - n_eval))]
    kmeans = KMeans(n_clusters=k, n_init=3, random_state=seed)
    labels = kmeans.fit_predict(vectors, sample_weight=weights * n)
    return np.asarray(kmeans.cluster_centers_), np.asarray(labels, dtype=np.int64)


def _by_tag(
    prod: npt.NDArray[np.float64], tags: list[str], vectors: npt.NDArray[np.float64]
) -> tuple[list[str | None], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Each tag's centre (the mean of its production vectors) and every row's nearest centre."""
    codes, names = pd.factorize(pd.Series(tags), sort=True)
    counts = np.bincount(codes)
    centres = np.zeros((len(names), prod.shape[1]))
    np.add.at(centres, codes, prod)
    centres = normalize(centres / counts[:, None])
    labels = np.argmax(vectors @ centres.T, axis=1).astype(np.int64)
    return [str(n) for n in names], centres, labels


def _top_terms(
    centres: npt.NDArray[np.float64], vectorizer: TfidfVectorizer
) -> list[tuple[str, ...]]:
    vocabulary = vectorizer.get_feature_names_out()
    order = np.argsort(-centres, axis=1)[:, :TERMS]
    return [tuple(str(vocabulary[j]) for j in row) for row in order]


def _clusters(
    eval_labels: npt.NDArray[np.int64],
    prod_labels: npt.NDArray[np.int64],
    prod: list[str],
    prod_vectors: npt.NDArray[np.float64],
    centres: npt.NDArray[np.float64],
    terms: list[tuple[str, ...]],
    names: list[str | None],
    *,
    alpha: float,
) -> tuple[Cluster, ...]:
    from scipy.stats import fisher_exact

    k = len(centres)
    n_e, n_p = len(eval_labels), len(prod_labels)
    e_counts = np.bincount(eval_labels, minlength=k)
    p_counts = np.bincount(prod_labels, minlength=k)
    similarity = prod_vectors @ centres.T
    out = []
    for c in range(k):
        e, p = int(e_counts[c]), int(p_counts[c])
        if p == 0:
            continue  # a cluster of eval texts only: production does not ask it
        table = [[e, n_e - e], [p, n_p - p]]
        p_value = float(fisher_exact(table, alternative="less").pvalue)
        e_share, p_share = e / n_e, p / n_p
        members = np.flatnonzero(prod_labels == c)
        closest = members[np.argsort(-similarity[members, c], kind="stable")]
        examples = tuple(dict.fromkeys(prod[i] for i in closest))[:EXAMPLES]
        out.append(
            Cluster(
                c, p, e, round(p_share, 4), round(e_share, 4), p_value,
                p_value < alpha and e_share <= TOLERANCE * p_share, terms[c], examples, names[c],
            )
        )  # fmt: skip
    return tuple(sorted(out, key=lambda cl: (not cl.uncovered, -cl.prod_share, cl.index)))
