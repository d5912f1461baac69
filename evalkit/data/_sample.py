"""Seeded samples of texts, so that every capped computation says which rows it used."""

from __future__ import annotations

from typing import Final

import numpy as np

#: Texts per side searched for the least covered ones (each against the other side's sample).
NEIGHBOUR_QUERIES: Final = 2_000
NEIGHBOUR_REFERENCE: Final = 20_000


def sample_positions(n: int, size: int, seed: int) -> np.ndarray:
    """The positions, in order, of a seeded draw of ``size`` of ``n`` items without replacement.

    All of them when ``n <= size``. :func:`seeded_sample` draws with it, and so does the file
    reader that streams a large file twice, so both give the same sample of the same texts.
    """
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=size, replace=False))


def seeded_sample(texts: list[str], size: int, seed: int) -> list[str]:
    """Up to ``size`` of ``texts`` drawn without replacement with ``seed``, in original order."""
    if len(texts) <= size:
        return list(texts)
    return [texts[i] for i in sample_positions(len(texts), size, seed)]
