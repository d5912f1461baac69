"""Has a dataset collapsed toward the mean? Diversity figures, and what a new version lost.

Most diversity figures depend on how many texts there are (distinct-n falls, near-duplicates
rise as a set grows), so :func:`diversity` measures each one on random subsets of one stated
size, drawn without replacement with a seed: the value is their mean, the interval their
spread. Two versions are compared at the same size. The building blocks (:func:`distinct_n`,
:func:`compression_ratio`, :func:`near_duplicate_flags`, :func:`openings`) are plain functions
of a list of texts.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from evalkit.data._coverage import Neighbour, least_covered, word_tfidf
from evalkit.data._estimate import (
    Estimate,
    check_confidence,
    estimate,
    not_measurable,
    percentile_interval,
)
from evalkit.data._sample import NEIGHBOUR_QUERIES, NEIGHBOUR_REFERENCE, seeded_sample

#: Texts measured per set: the near-duplicate search is quadratic (10,000 texts take a few
#: seconds, 20,000 four times that); a larger set is measured on a seeded sample, said in notes.
MAX_ROWS: Final = 10_000
#: Cosine similarity (word TF-IDF) at or above which two texts are near-duplicates.
NEAR_DUPLICATE: Final = 0.9
#: zlib level of the compression ratio.
COMPRESSION_LEVEL: Final = 6
#: How many of the most common openings (first three words) are counted.
TOP_OPENINGS: Final = 10
#: Figures :func:`diversity` reports, in order.
FIGURES: Final = (
    "distinct_1",
    "distinct_2",
    "compression_ratio",
    "near_duplicate_share",
    "length_sd",
    "top_openings_share",
)
#: How each figure reads as diversity (higher = more diverse), so that a loss is one ratio for
#: every figure: distinct-n and the length spread are diversity already; a compression ratio
#: rises as texts repeat (its inverse is the diversity); a near-duplicate or top-openings
#: share rises as texts collapse (the share outside it is the diversity).
_READS_AS: Final = {
    "distinct_1": "itself", "distinct_2": "itself", "compression_ratio": "inverse",
    "near_duplicate_share": "complement", "length_sd": "itself", "top_openings_share": "complement",
}  # fmt: skip
_BLOCK: Final = 500

IntArray = npt.NDArray[np.int64]


def _ngram_counts(texts: Sequence[str], n: int) -> sparse.csr_matrix:
    vectorizer = CountVectorizer(
        lowercase=True, token_pattern=r"(?u)\b\w+\b", ngram_range=(n, n), dtype=np.int64
    )
    try:
        return sparse.csr_matrix(vectorizer.fit_transform(list(texts)))
    except ValueError:  # no text has n words
        return sparse.csr_matrix((len(texts), 0), dtype=np.int64)


def _distinct(counts: sparse.csr_matrix) -> float:
    total = counts.sum()
    if total == 0:
        return float("nan")
    return float((np.asarray(counts.sum(axis=0)).ravel() > 0).sum() / total)


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams (lower-cased words) in ``texts``; NaN if there are none.

    >>> distinct_n(["a b a", "a c"], 1)
    0.6
    """
    return _distinct(_ngram_counts(texts, n))


def compression_ratio(texts: Sequence[str]) -> float:
    """UTF-8 size of the texts (one per line) over its zlib-compressed size; higher = more repeated.

    NaN for no text at all.
    """
    raw = "\n".join(texts).encode("utf-8")
    if not raw:
        return float("nan")
    # Level 6 (zlib's default), not 9: on repetitive text 9 takes 2-4x as long for a ratio
    # 1-3 % higher, and the figure is only ever compared at one level. It is computed on
    # every subset draw, and it was most of the Diversity gate's time.
    return len(raw) / len(zlib.compress(raw, COMPRESSION_LEVEL))


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE
) -> sparse.csr_matrix:
    """A boolean (texts x texts) matrix: True where two different texts have cosine ≥ threshold."""
    matrix = word_tfidf(list(texts))
    n = matrix.shape[0]
    if matrix.shape[1] == 0:
        return sparse.csr_matrix((n, n), dtype=bool)
    blocks = []
    transposed = sparse.csr_matrix(matrix.T)
    for start in range(0, n, _BLOCK):
        block = sparse.csr_matrix(matrix[start : start + _BLOCK] @ transposed)
        # float32 sums of equal texts land a hair under 1; the slack keeps them duplicates.
        block.data = block.data >= threshold - 1e-6
        block.eliminate_zeros()
        blocks.append(block)
    pairs = sparse.csr_matrix(sparse.vstack(blocks), dtype=bool)
    pairs.setdiag(False)
    pairs.eliminate_zeros()
    return pairs


def near_duplicate_flags(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE
) -> npt.NDArray[np.bool_]:
    """For each text: whether another text in ``texts`` is a near-duplicate of it."""
    pairs = near_duplicate_pairs(texts, threshold)
    return np.asarray(pairs.sum(axis=1)).ravel() > 0


def openings(texts: Sequence[str], words: int = 3) -> pd.Series:
    """How many texts start with each opening (first ``words`` lower-cased words), most first."""
    first = pd.Series(list(texts), dtype="string").str.lower().str.split().str[:words].str.join(" ")
    return first[first.str.len() > 0].value_counts()


@dataclasses.dataclass(frozen=True, slots=True)
class DiversityFigures:
    """Diversity of a set of texts, each figure measured on subsets of ``subset_size`` texts.

    ``compression_ratio`` is raw size over zlib size (higher = more repetitive);
    ``top_openings_share`` is the share of texts that start with one of the most common
    openings; ``length_sd`` is the standard deviation of the length in words.
    """

    n: int
    subset_size: int
    figures: dict[str, Estimate]
    top_openings: tuple[tuple[str, int], ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The figures as plain JSON-ready values."""
        return dataclasses.asdict(self)

    def summary_lines(self) -> list[str]:
        """One line per figure."""
        lines = [f"{self.n} texts; figures on subsets of {self.subset_size}"]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  {name}: {value}" for name, value in self.figures.items()]
        if self.top_openings:
            shown = ", ".join(f"{o!r} x{c}" for o, c in self.top_openings[:5])
            lines.append(f"  most common openings: {shown}")
        return lines


class _Prepared:
    """Everything subset figures need, computed once for the whole set."""

    def __init__(self, texts: list[str], threshold: float) -> None:
        self.texts = texts
        self.array = np.array(texts, dtype=object)
        self.unigrams = _ngram_counts(texts, 1)
        self.bigrams = _ngram_counts(texts, 2)
        self.pairs = near_duplicate_pairs(texts, threshold)
        self.lengths = pd.Series(texts, dtype="string").str.count(r"\S+").to_numpy(np.float64)
        first = pd.Series(texts, dtype="string").str.lower().str.split().str[:3].str.join(" ")
        self.opening_codes, _ = pd.factorize(first.where(first.str.len() > 0))

    def figures(self, rows: IntArray) -> npt.NDArray[np.float64]:
        pairs = self.pairs[rows][:, rows]
        codes = self.opening_codes[rows]
        codes = codes[codes >= 0]
        top = np.sort(np.bincount(codes))[::-1][:TOP_OPENINGS].sum() if len(codes) else 0
        return np.array(
            [
                _distinct(self.unigrams[rows]),
                _distinct(self.bigrams[rows]),
                compression_ratio(self.array[rows].tolist()),
                float((np.asarray(pairs.sum(axis=1)).ravel() > 0).mean()),
                float(self.lengths[rows].std(ddof=1)),
                top / len(rows),
            ]
        )


def _subset_draws(
    prepared: _Prepared, size: int, subsets: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    n = len(prepared.texts)
    # Drawn first, in order, so that the figures do not depend on the threads' timing.
    draws = [np.sort(rng.choice(n, size=size, replace=False)) for _ in range(subsets)]
    # zlib releases the GIL while it compresses, and the compression ratio is most of a draw's
    # time: one thread per core divides it.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return np.vstack(list(pool.map(prepared.figures, draws)))


def _estimates(draws: npt.NDArray[np.float64], n: int, confidence: float) -> dict[str, Estimate]:
    low, high = percentile_interval(draws, confidence)
    finite = np.asarray(np.isfinite(draws).all(axis=0), dtype=bool)
    out = {}
    for i, name in enumerate(FIGURES):
        if not finite[i]:
            out[name] = not_measurable(
                f"{name} is undefined: the texts have too few words", n, confidence
            )
        else:
            out[name] = estimate(float(draws[:, i].mean()), low[i], high[i], n, confidence)
    return out


def _cap_note(n: int, what: str) -> tuple[str, ...]:
    if n <= MAX_ROWS:
        return ()
    return (f"measured on a seeded sample of {MAX_ROWS} of the {n} {what}",)


def _unmeasurable(n: int, confidence: float) -> DiversityFigures:
    reason = f"{n} text(s); at least 4 are needed to measure diversity with an interval"
    gone = not_measurable(reason, n, confidence)
    return DiversityFigures(n, 0, dict.fromkeys(FIGURES, gone), ())


def diversity(
    texts: Sequence[str],
    *,
    seed: int = 0,
    confidence: float = 0.95,
    subset_size: int | None = None,
    subsets: int = 100,
    threshold: float = NEAR_DUPLICATE,
) -> DiversityFigures:
    """Diversity figures of ``texts``, on ``subsets`` random subsets of ``subset_size`` texts.

    ``subset_size`` defaults to half the texts. Fewer than 4 texts: every figure is
    "not measurable".

    Raises:
        ConfigError: ``confidence`` is not between 0 and 1.
    """
    check_confidence(confidence)
    items = [str(t) for t in texts]
    if len(items) < 4:
        return _unmeasurable(len(items), confidence)
    n = len(items)
    notes = _cap_note(n, "texts")
    items = seeded_sample(items, MAX_ROWS, seed)
    size = subset_size or len(items) // 2
    size = max(2, min(size, len(items)))
    prepared = _Prepared(items, threshold)
    draws = _subset_draws(prepared, size, subsets, np.random.default_rng(seed))
    top = openings(items).head(TOP_OPENINGS)
    return DiversityFigures(
        n,
        size,
        _estimates(draws, size, confidence),
        tuple((str(k), int(v)) for k, v in top.items()),
        notes,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class DiversityChange:
    """A new version against an old one: each figure's change (new - old) at one subset size.

    ``loss`` is each figure's relative loss of diversity, ``1 - D(new) / D(old)``, where D
    reads the figure as diversity (the figure itself for distinct-n and the length spread, its
    inverse for the compression ratio, one minus the share for near-duplicates and top
    openings): 0.2 means a fifth of the old version's diversity is gone, a negative value
    that the new one is more diverse. ``lost`` are old texts whose nearest new text is least
    similar (the tails that went);
    ``length_tail_share`` is the share of new texts outside the old version's 10th-90th
    percentile of length in words (about 0.2 when the spread is kept, lower when it shrank).
    """

    n_before: int
    n_after: int
    subset_size: int
    before: dict[str, Estimate]
    after: dict[str, Estimate]
    change: dict[str, Estimate]
    length_tail_share: Estimate
    lost: tuple[Neighbour, ...]
    notes: tuple[str, ...] = ()
    loss: dict[str, Estimate] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON-ready values."""
        return dataclasses.asdict(self)


def compare_diversity(
    before: Sequence[str],
    after: Sequence[str],
    *,
    seed: int = 0,
    confidence: float = 0.95,
    subsets: int = 100,
    threshold: float = NEAR_DUPLICATE,
    top: int = 10,
) -> DiversityChange:
    """What changed from ``before`` to ``after``, measured on subsets of one common size.

    The change's interval is the spread of (after - before) over independent subset draws.
    Fewer than 4 texts on a side: every figure is "not measurable".

    Raises:
        ConfigError: ``confidence`` is not between 0 and 1.
    """
    check_confidence(confidence)
    old, new = [str(t) for t in before], [str(t) for t in after]
    if min(len(old), len(new)) < 4:
        gone = _unmeasurable(min(len(old), len(new)), confidence).figures
        tail = next(iter(gone.values()))
        return DiversityChange(len(old), len(new), 0, gone, gone, gone, tail, (), loss=gone)
    n_old, n_new = len(old), len(new)
    notes = _cap_note(n_old, "old texts") + _cap_note(n_new, "new texts")
    old, new = seeded_sample(old, MAX_ROWS, seed), seeded_sample(new, MAX_ROWS, seed)
    size = max(2, min(len(old), len(new)) // 2)
    rng = np.random.default_rng(seed)
    draws_old = _subset_draws(_Prepared(old, threshold), size, subsets, rng)
    draws_new = _subset_draws(_Prepared(new, threshold), size, subsets, rng)
    lengths_old = pd.Series(old, dtype="string").str.count(r"\S+").to_numpy(np.float64)
    lengths_new = pd.Series(new, dtype="string").str.count(r"\S+").to_numpy(np.float64)
    low, high = np.quantile(lengths_old, [0.1, 0.9])
    outside = ((lengths_new < low) | (lengths_new > high)).astype(np.float64)
    # The bootstrap of a share is a binomial draw: no n x replicates index matrix is needed.
    boot = rng.binomial(len(new), outside.mean(), size=1000) / len(new)
    tail_low, tail_high = percentile_interval(boot.astype(np.float64), confidence)
    return DiversityChange(
        n_old,
        n_new,
        size,
        _estimates(draws_old, size, confidence),
        _estimates(draws_new, size, confidence),
        _estimates(draws_new - draws_old, size, confidence),
        estimate(float(outside.mean()), float(tail_low), float(tail_high), len(new), confidence),
        least_covered(
            seeded_sample(old, NEIGHBOUR_QUERIES, seed),
            seeded_sample(new, NEIGHBOUR_REFERENCE, seed),
            top=top,
        ),
        notes,
        loss=_losses(draws_old, draws_new, size, confidence),
    )


def _as_diversity(name: str, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    reads_as = _READS_AS[name]
    if reads_as == "inverse":
        return np.asarray(1.0 / values, dtype=np.float64)
    if reads_as == "complement":
        return np.asarray(1.0 - values, dtype=np.float64)
    return values


def _losses(
    old: npt.NDArray[np.float64], new: npt.NDArray[np.float64], n: int, confidence: float
) -> dict[str, Estimate]:
    """Each figure's relative loss of diversity, read from the subset draws.

    The point is read from the means, the interval from the per-draw losses (draw i of the old
    version against draw i of the new).
    """
    out = {}
    for i, name in enumerate(FIGURES):
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = 1.0 - _as_diversity(name, new[:, i]) / _as_diversity(name, old[:, i])
            # The point is read from the figures reported (the means), as the change's is.
            means = _as_diversity(name, np.array([new[:, i].mean(), old[:, i].mean()]))
            value = float(1.0 - means[0] / means[1])
        draws = np.where(np.isfinite(draws), draws, np.nan)
        if not np.isfinite(value) or np.isnan(draws).any():
            out[name] = not_measurable(
                f"the old version's {name} is undefined or shows no diversity at all in some "
                "subsets: no share of it can be lost",
                n,
                confidence,
            )
            continue
        low, high = percentile_interval(draws[:, None], confidence)
        out[name] = estimate(float(value), float(low[0]), float(high[0]), n, confidence)
    return out
