"""Chance-corrected agreement: Cohen's kappa, Fleiss' kappa and Krippendorff's alpha.

Each coefficient is written as a function of *additive* statistics — a confusion table, per-unit
agreement sums and category counts, a coincidence matrix — so that the same code computes the
point estimate (from the sums over all items) and every bootstrap replicate at once (from the
resampled sums, an array with a leading replicate axis; see
:func:`evalkit.audit._intervals.resampled_sums`).

The public functions take the usual array layouts and are checked against the published worked
examples and against scikit-learn, statsmodels and the ``krippendorff`` package in the tests.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from evalkit.audit._intervals import FloatArray

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: Final = ("nominal", "ordinal", "interval", "ratio")
KappaWeights = Literal["linear", "quadratic"] | None


def disagreement_weights(k: int, weights: KappaWeights) -> FloatArray:
    """Disagreement weights for a kxk table: 0/1, ``|i-j|`` or ``(i-j)²`` (as scikit-learn)."""
    i, j = np.indices((k, k))
    if weights is None:
        return np.asarray(i != j, dtype=np.float64)
    if weights == "linear":
        return np.asarray(np.abs(i - j), dtype=np.float64)
    if weights == "quadratic":
        return np.asarray((i - j) ** 2, dtype=np.float64)
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


def kappa_from_tables(tables: npt.ArrayLike, weights: KappaWeights = None) -> FloatArray:
    """Cohen's kappa of confusion tables with shape ``(..., k, k)``.

    ``kappa = 1 - Σ d·o / Σ d·e`` with o the observed and e the chance-expected proportions
    (product of the margins) and d the disagreement weights; for 0/1 weights this is the
    familiar ``(p_o - p_e) / (1 - p_e)``. NaN where a table is empty or agreement by chance is
    already perfect (one category only).
    """
    t = np.asarray(tables, dtype=np.float64)
    d = disagreement_weights(t.shape[-1], weights)
    n = t.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        o = t / n[..., None, None]
        e = o.sum(axis=-1)[..., :, None] * o.sum(axis=-2)[..., None, :]
        observed = (d * o).sum(axis=(-2, -1))
        expected = (d * e).sum(axis=(-2, -1))
        kappa = 1.0 - observed / expected
    return np.where((n > 0) & (expected > 1e-15), kappa, np.nan)


@dataclasses.dataclass(frozen=True, slots=True)
class CohenKappa:
    """Cohen's kappa of one confusion table, with its asymptotic standard errors.

    ``ase`` is the large-sample standard error (Fleiss, Cohen & Everitt 1969), for intervals;
    ``ase0`` is the standard error under the null hypothesis kappa = 0, for a z test.
    """

    kappa: float
    ase: float
    ase0: float
    n: int
    p_observed: float
    p_expected: float


def cohen_kappa(confusion: npt.ArrayLike, weights: KappaWeights = None) -> CohenKappa:
    """Cohen's kappa (optionally weighted) of a kxk confusion table of counts.

    With agreement weights ``w = 1 - d/max(d)``, ``p_o = Σ w p_ij``, ``p_e = Σ w p_i. p_.j``,
    ``w̄_i = Σ_j w_ij p_.j``, ``w̄_j = Σ_i w_ij p_i.``::

        kappa = (p_o - p_e) / (1 - p_e)
        ase²  = [Σ p_ij (w_ij - (w̄_i + w̄_j)(1 - kappa))² - (kappa - p_e(1 - kappa))²]
                / (n (1 - p_e)²)
        ase0² = [Σ p_i. p_.j (w_ij - (w̄_i + w̄_j))² - p_e²] / (n (1 - p_e)²)

    Raises:
        ValueError: the table is not square.
    """
    t = np.asarray(confusion, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"a confusion table must be square, got shape {t.shape}")
    n = float(t.sum())
    d = disagreement_weights(t.shape[0], weights)
    w = 1.0 - d / d.max() if d.max() > 0 else np.ones_like(d)
    if n == 0:
        return CohenKappa(math.nan, math.nan, math.nan, 0, math.nan, math.nan)
    p = t / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_o = float((w * p).sum())
    p_e = float((w * np.outer(rows, cols)).sum())
    if p_e >= 1.0 - 1e-15:
        return CohenKappa(math.nan, math.nan, math.nan, int(n), p_o, p_e)
    kappa = (p_o - p_e) / (1.0 - p_e)
    w_row = w @ cols  # w̄_i
    w_col = rows @ w  # w̄_j
    spread = w_row[:, None] + w_col[None, :]
    var = ((p * (w - spread * (1.0 - kappa)) ** 2).sum() - (kappa - p_e * (1.0 - kappa)) ** 2) / (
        n * (1.0 - p_e) ** 2
    )
    var0 = ((np.outer(rows, cols) * (w - spread) ** 2).sum() - p_e**2) / (n * (1.0 - p_e) ** 2)
    return CohenKappa(
        float(kappa),
        math.sqrt(max(float(var), 0.0)),
        math.sqrt(max(float(var0), 0.0)),
        int(n),
        p_o,
        p_e,
    )


def fleiss_sums(counts: npt.ArrayLike) -> FloatArray:
    """Per-unit additive statistics for Fleiss' kappa: ``[P_u, 1, n_u1, …, n_uk]``.

    ``counts`` is units x categories (how many raters put the unit in each category). Units
    with fewer than two ratings carry no agreement information and get a row of zeros.
    ``P_u = (Σ_k n_uk² - m_u) / (m_u (m_u - 1))`` is the share of agreeing rater pairs.
    """
    c = np.asarray(counts, dtype=np.float64)
    m = c.sum(axis=1)
    usable = m >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = ((c * c).sum(axis=1) - m) / (m * (m - 1.0))
    out = np.column_stack([np.where(usable, agree, 0.0), usable.astype(np.float64), c])
    out[~usable, 2:] = 0.0
    return out


def fleiss_from_sums(sums: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Fleiss' kappa and raw agreement from summed :func:`fleiss_sums` (``(..., 2 + k)``).

    ``P̄ = ΣP_u / N``; ``p_k = Σ n_uk / Σ m_u``; ``P_e = Σ p_k²``; ``kappa = (P̄ - P_e)/(1 - P_e)``.
    With the same number of raters on every unit this is Fleiss (1971); with a varying number
    the category shares weight units by their raters. Returns ``(kappa, P̄)``; NaN when
    undefined.
    """
    s = np.asarray(sums, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_bar = s[..., 0] / s[..., 1]
        shares = s[..., 2:] / s[..., 2:].sum(axis=-1, keepdims=True)
        p_e = (shares * shares).sum(axis=-1)
        kappa = (p_bar - p_e) / (1.0 - p_e)
    return np.where(p_e < 1.0 - 1e-15, kappa, np.nan), p_bar


def fleiss_kappa(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa of a units x categories table of rating counts.

    See :func:`fleiss_from_sums` for the formula.
    """
    kappa, _ = fleiss_from_sums(fleiss_sums(counts).sum(axis=0))
    return float(kappa)


def coincidences(counts: npt.ArrayLike) -> FloatArray:
    """Per-unit coincidence matrices (Krippendorff), shape ``(units, k, k)``.

    ``o_uck = (n_uc n_uk - [c = k] n_uc) / (m_u - 1)`` for units with ``m_u ≥ 2`` pairable
    values, zero otherwise: every ordered pair of values within a unit, weighted so that each
    unit contributes its m_u values.
    """
    c = np.asarray(counts, dtype=np.float64)
    m = c.sum(axis=1)
    pairs = c[:, :, None] * c[:, None, :] - c[:, :, None] * np.eye(c.shape[1])[None, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.asarray(pairs / (m - 1.0)[:, None, None], dtype=np.float64)
    out[m < 2] = 0.0
    return out


def _metric(level: Level, values: FloatArray, marginals: FloatArray) -> FloatArray:
    """Squared differences δ²(c, k), shape ``(..., k, k)`` (marginals ``(..., k)``)."""
    v = values
    if level == "nominal":
        return np.asarray(v[:, None] != v[None, :], dtype=np.float64)
    if level == "interval":
        return np.asarray((v[:, None] - v[None, :]) ** 2, dtype=np.float64)
    if level == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = ((v[:, None] - v[None, :]) / (v[:, None] + v[None, :])) ** 2
        return np.asarray(np.nan_to_num(ratio, nan=0.0), dtype=np.float64)
    if level == "ordinal":
        # δ(c,k) = Σ_{g=c..k} n_g - (n_c + n_k)/2 = r_k - r_c with r = cumsum(n) - n/2.
        r = np.cumsum(marginals, axis=-1) - marginals / 2.0
        return np.asarray((r[..., :, None] - r[..., None, :]) ** 2, dtype=np.float64)
    raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")


def alpha_from_coincidence(
    matrix: npt.ArrayLike, values: npt.ArrayLike, level: Level = "nominal"
) -> FloatArray:
    """Krippendorff's alpha from a coincidence matrix ``(..., k, k)`` over sorted ``values``.

    ``alpha = 1 - (n - 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck`` with ``n_c = Σ_k o_ck`` and
    ``n = Σ n_c`` (Krippendorff 2011). NaN where there is no variation to measure against.
    """
    o = np.asarray(matrix, dtype=np.float64)
    marg = o.sum(axis=-1)
    n = marg.sum(axis=-1)
    delta = _metric(level, np.asarray(values, dtype=np.float64), marg)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (marg[..., :, None] * marg[..., None, :] * delta).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where(expected > 1e-12, alpha, np.nan)


def value_counts(data: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Turn coders x units values (NaN = missing) into ``(sorted values, units x k counts)``."""
    d = np.asarray(data, dtype=np.float64)
    values = np.unique(d[np.isfinite(d)])
    counts = np.zeros((d.shape[1], values.size))
    for row in d:  # one pass per coder
        seen = np.isfinite(row)
        np.add.at(counts, (np.flatnonzero(seen), np.searchsorted(values, row[seen])), 1.0)
    return values, counts


def krippendorff_alpha(data: npt.ArrayLike, level: Level = "nominal") -> float:
    """Krippendorff's alpha of a coders x units array of numeric values (NaN = missing).

    Values are categories for ``nominal``; ranks for ``ordinal``; numbers for ``interval`` and
    ``ratio``. Units with fewer than two values are not pairable and are ignored.
    """
    values, counts = value_counts(data)
    return float(alpha_from_coincidence(coincidences(counts).sum(axis=0), values, level))
