"""Seeded samples of texts, so that every capped computation says which rows it used."""

from __future__ import annotations

from typing import Final

import numpy as np

#: Texts per side searched for the least covered ones (each against the other side's sample).
NEIGHBOUR_QUERIES: Final = 2_000
NEIGHBOUR_REFERENCE: Final = 20_000


def seeded_sample(texts: list[str], size: int, seed: int) -> list[str]:
    """Up to ``size`` of ``texts`` drawn without replacement with ``seed``, in original order."""
    if len(texts) <= size:
        return list(texts)
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(texts), size=size, replace=False))
    return [texts[i] for i in keep]
