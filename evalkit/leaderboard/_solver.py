"""The Bradley-Terry fit: a penalised logistic model solved by Newton's method, many at once.

One model, two uses. A *unit* is a comparison between model ``a`` and model ``b`` carrying a
weight ``w`` (how many comparisons it stands for) and a score sum ``y`` (model ``a``'s wins,
a tie counting half a win). With strengths ``θ`` in logits and an optional style covariate
``s`` (the normalised length difference of the two answers)::

    P(a beats b) = expit(θ_a - θ_b + β·s)

The log-likelihood ``sum y·log expit + (w - y)·log(1 - expit)`` is what a logistic regression with
fractional outcomes maximises, which is how arena-hard fits its ratings (it duplicates every
comparison and splits a tie into one win and one loss: the same estimating equations).

Every function fits ``R`` replicates at once: weights and score sums are ``(R, U)`` arrays,
one row per bootstrap replicate, and the Newton step of every replicate is one batched solve.
Nothing loops over units or replicates in Python; the loop is over Newton iterations only.

A Gaussian prior of precision ``prior`` on each free strength (and on ``β``) keeps every
estimate finite: a model that won, or lost, every comparison has no maximum-likelihood rating
(it is infinite), and with the prior it gets a large finite one instead. With a thousand-odd
comparisons the prior moves an ordinary rating by far less than its interval's width.
"""

from __future__ import annotations

import dataclasses
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Newton stops once no strength moves by more than this (logits).
TOLERANCE: Final = 1e-10
#: Newton's steps are capped at this length (logits) so that a fit near separation, where the
#: quadratic model overshoots, still converges; a capped step is an ascent direction still.
MAX_STEP: Final = 2.0
MAX_ITERATIONS: Final = 200
#: Added to the information matrix so that a replicate missing a model still solves; far
#: below any curvature a real comparison contributes.
_JITTER: Final = 1e-10


@dataclasses.dataclass(frozen=True, slots=True)
class Units:
    """The comparisons of a fit: model indices, their pair, and the style covariate.

    ``a`` and ``b`` index models (``0 … n_models-1``); ``pair`` indexes the distinct
    ``(a, b)`` pairs, whose model indices are ``pair_a`` and ``pair_b``; ``style`` is the
    covariate of each unit, or None for a plain Bradley-Terry fit.
    """

    a: IntArray
    b: IntArray
    pair: IntArray
    pair_a: IntArray
    pair_b: IntArray
    n_models: int
    style: FloatArray | None = None

    @property
    def n_units(self) -> int:
        """How many units there are."""
        return len(self.a)


@dataclasses.dataclass(frozen=True, slots=True)
class Fit:
    """Strengths per replicate (``(R, n_models)``, logits, the anchor at 0) and ``β`` (``(R,)``).

    ``converged`` says, per replicate, whether Newton met :data:`TOLERANCE`.
    """

    theta: FloatArray
    beta: FloatArray | None
    converged: npt.NDArray[np.bool_]


def fit(
    units: Units,
    weight: FloatArray,
    score: FloatArray,
    *,
    anchor: int,
    prior: float,
    start: Fit | None = None,
) -> Fit:
    """Fit strengths for every replicate: row ``r`` of ``weight`` and ``score`` is one fit.

    ``weight`` and ``score`` are ``(R, n_units)``; model ``anchor`` is held at 0 (the
    ratings' origin). Returns the penalised maximum-likelihood strengths (see the module).
    A replicate that does not converge within :data:`MAX_ITERATIONS` is flagged in
    ``converged``; its values are the last iterate. ``start`` (a one-replicate fit, e.g. the
    point estimate) is where every replicate's Newton iteration starts: bootstrap replicates
    lie near it, so they converge in a few steps.
    """
    n_rep = weight.shape[0]
    m = units.n_models
    free = np.flatnonzero(np.arange(m) != anchor)
    has_style = units.style is not None
    p = len(free) + int(has_style)
    # Units sorted by pair make every per-pair sum one contiguous np.add.reduceat, and the
    # gradient and information matrix are then built from n_pairs terms, not n_units.
    order = np.argsort(units.pair, kind="stable")
    pair = units.pair[order]
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    counts = np.diff(np.r_[starts, len(pair)])
    present = pair[starts]
    weight, score = weight[:, order], score[:, order]
    style = units.style[order] if units.style is not None else np.zeros(units.n_units)
    # d_k: +1 for the pair's a, -1 for its b.
    n_pairs = len(present)
    d_pair = np.zeros((n_pairs, m))
    d_pair[np.arange(n_pairs), units.pair_a[present]] = 1.0
    d_pair[np.arange(n_pairs), units.pair_b[present]] = -1.0
    d_free = d_pair[:, free]

    theta = np.zeros((n_rep, m)) if start is None else np.repeat(start.theta[:1], n_rep, axis=0)
    beta = np.zeros(n_rep)
    if start is not None and start.beta is not None:
        beta += start.beta[0]
    converged = np.zeros(n_rep, dtype=bool)
    ridge = (prior + _JITTER) * np.eye(p)
    for _ in range(MAX_ITERATIONS):
        eta = np.repeat(theta @ d_pair.T, counts, axis=1)
        if has_style:
            eta += beta[:, None] * style[None, :]
        mu = special.expit(eta)
        resid = score - weight * mu
        curv = weight * mu * (1.0 - mu)
        grad = np.empty((n_rep, p))
        grad[:, : len(free)] = np.add.reduceat(resid, starts, axis=1) @ d_free
        grad[:, : len(free)] -= prior * theta[:, free]
        curv_pair = np.add.reduceat(curv, starts, axis=1)
        info = np.einsum("rk,ki,kj->rij", curv_pair, d_free, d_free)
        if has_style:
            grad[:, -1] = resid @ style - prior * beta
            cross = np.add.reduceat(curv * style, starts, axis=1) @ d_free
            corner = (curv @ (style * style))[:, None]
            info = np.concatenate([info, cross[:, None, :]], axis=1)
            info = np.concatenate(
                [info, np.concatenate([cross, corner], axis=1)[:, :, None]], axis=2
            )
        step = np.linalg.solve(info + ridge, grad[:, :, None])[:, :, 0]
        size = np.abs(step).max(axis=1)
        step *= np.minimum(1.0, MAX_STEP / np.maximum(size, 1e-300))[:, None]
        theta[:, free] += step[:, : len(free)]
        if has_style:
            beta += step[:, -1]
        converged = size < TOLERANCE
        if converged.all():
            break
    return Fit(theta=theta, beta=beta if has_style else None, converged=converged)
