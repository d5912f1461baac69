"""Nearest neighbours across two samples: which texts of one have no close match in the other.

Cosine similarity in word TF-IDF space, computed a block of query rows at a time as a sparse
matrix product, so memory stays at block x reference entries.
"""

from __future__ import annotations

import dataclasses
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

#: Query rows per sparse product.
_BLOCK: Final = 500


@dataclasses.dataclass(frozen=True, slots=True)
class Neighbour:
    """A text, the most similar text of the other sample, and their cosine similarity."""

    text: str
    nearest: str
    similarity: float


def word_tfidf(texts: list[str]) -> sparse.csr_matrix:
    """L2-normalised word uni- and bigram TF-IDF rows, one per text (empty rows allowed)."""
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, dtype=np.float32
    )
    if not any(t.strip() for t in texts):
        return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
    try:
        return sparse.csr_matrix(vectorizer.fit_transform(texts))
    except ValueError:  # only punctuation or emoji: no word at all
        return sparse.csr_matrix((len(texts), 0), dtype=np.float32)


def nearest(
    queries: sparse.csr_matrix, reference: sparse.csr_matrix
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """For each query row: the highest cosine to any reference row, and that row's index."""
    best = np.zeros(queries.shape[0], dtype=np.float64)
    where = np.zeros(queries.shape[0], dtype=np.int64)
    if queries.shape[1] == 0 or reference.shape[0] == 0:
        return best, where
    ref_t = sparse.csr_matrix(reference.T)
    for start in range(0, queries.shape[0], _BLOCK):
        block = sparse.csr_matrix(queries[start : start + _BLOCK] @ ref_t)
        stop = start + block.shape[0]
        best[start:stop] = block.max(axis=1).toarray().ravel()
        where[start:stop] = np.asarray(block.argmax(axis=1)).ravel()
    return best, where


def least_covered(queries: list[str], reference: list[str], *, top: int) -> tuple[Neighbour, ...]:
    """The ``top`` distinct query texts least similar to any reference text, least first."""
    queries = list(dict.fromkeys(queries))  # a repeated text is one example, not ten
    if not queries or not reference:
        return ()
    matrix = word_tfidf(queries + reference)
    best, where = nearest(matrix[: len(queries)], matrix[len(queries) :])
    order = np.argsort(best, kind="stable")[:top]
    return tuple(
        Neighbour(queries[i], reference[int(where[i])], round(float(best[i]), 4)) for i in order
    )
