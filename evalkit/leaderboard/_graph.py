"""Which models can be ranked against which: the connected parts of the comparison graph.

Two models are linked when at least one item compared them with a verdict. A rating says how
a model fares against the baseline, so only models linked to it by some chain of comparisons
can have one; any other group of models can be ranked among itself at most, never placed on
the baseline's scale. The leaderboard names those groups instead of inventing ratings.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph


def components(
    a: npt.NDArray[np.intp], b: npt.NDArray[np.intp], n_models: int
) -> npt.NDArray[np.intp]:
    """The connected component of each model (``(n_models,)`` labels) given edges ``a``-``b``.

    >>> components(np.array([0, 2]), np.array([1, 3]), 5).tolist()
    [0, 0, 1, 1, 2]
    """
    graph = sparse.coo_array((np.ones(len(a)), (a, b)), shape=(n_models, n_models))
    _, labels = csgraph.connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.intp)
