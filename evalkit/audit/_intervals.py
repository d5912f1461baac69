"""Intervals, tests and the bootstrap shared by every statistic of the audit.

Every rate the audit reports carries its n and an interval (DESIGN.md). Three kinds are used:

- Wilson score intervals for proportions (closed form, good coverage at small n and near 0 or 1);
- exact two-sided binomial tests (:func:`scipy.stats.binomtest`);
- percentile bootstrap intervals over *items*. Every bootstrapped statistic in the audit is a
  function of per-item sums (confusion counts, coincidence matrices, sums of differences), so one
  primitive, :func:`resampled_sums`, draws multinomial item weights and multiplies: a whole set of
  replicates is one matrix product, with no Python loop over rows or replicates.

Holm's step-down adjustment is provided for reports that show many tests at once.

scipy is imported on first use only, so that importing evalkit (a pytest plugin) stays fast.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Replicates drawn per chunk are capped so that a weight matrix stays near this many cells.
_CHUNK_CELLS = 2_000_000
#: Rows are grouped into distinct rows (see :func:`resampled_sums`) from this many units on,
#: when each distinct row repeats at least this often on average.
_MIN_UNITS_TO_GROUP = 1_000
_REPEAT_FACTOR = 4


@dataclasses.dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its interval, the number of units behind it and the confidence.

    ``estimate`` is NaN when there was nothing to estimate from (``n == 0``); ``low``/``high``
    then span the whole possible range (0 and 1 for proportions).
    """

    estimate: float
    low: float
    high: float
    n: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; NaN becomes None."""
        return {
            "estimate": finite_or_none(self.estimate),
            "low": finite_or_none(self.low),
            "high": finite_or_none(self.high),
            "n": int(self.n),
            "confidence": float(self.confidence),
        }

    def excludes(self, value: float) -> bool:
        """Tell whether ``value`` lies outside ``[low, high]`` (False when the bounds are NaN)."""
        return bool(value < self.low or value > self.high)


def finite_or_none(value: float) -> float | None:
    """Return ``value`` as a float, or None when it is NaN or infinite (JSON has neither)."""
    value = float(value)
    return value if math.isfinite(value) else None


def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (1.96 for 0.95).

    Raises:
        ValueError: ``confidence`` is not strictly between 0 and 1.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_bounds(
    successes: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised Wilson score interval: ``(estimate, low, high)`` arrays.

    With ``p = s/n`` and ``z`` the two-sided quantile::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z/(1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)

    Where ``n == 0`` the estimate is NaN and the interval is ``[0, 1]``. ``successes`` may be
    fractional (a tie counted as half a win); see :func:`wilson_interval`.

    Raises:
        ValueError: a count is negative or ``successes > n``.
    """
    s = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if np.any(m < 0) or np.any(s < 0) or np.any(s > m + 1e-9):
        raise ValueError("need 0 <= successes <= n")
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(m > 0, s / np.where(m > 0, m, 1.0), np.nan)
        denom = 1.0 + z * z / m
        centre = (p + z * z / (2.0 * m)) / denom
        half = z / denom * np.sqrt(p * (1.0 - p) / m + z * z / (4.0 * m * m))
    # At s = 0 or s = n the closed form is exactly 0 or 1; pin it against rounding error.
    low = np.where((m > 0) & (s > 0), np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where((m > 0) & (s < m), np.clip(centre + half, 0.0, 1.0), 1.0)
    return p, low, high


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for ``successes`` out of ``n``.

    ``n == 0`` gives estimate NaN, low 0, high 1. Fractional successes are allowed: the audit
    counts a tie as half a win, and a {0, ½, 1} outcome with mean p has variance at most
    p(1-p), so the binomial-based Wilson interval is then conservative rather than too narrow.

    Raises:
        ValueError: a count is negative or ``successes > n``.
    """
    est, low, high = wilson_bounds(successes, n, confidence)
    return Interval(float(est), float(low), float(high), int(n), confidence)


def binomial_p_value(successes: int, n: int, p: float = 0.5) -> float:
    """Two-sided exact binomial test of ``successes`` out of ``n`` against ``p`` (NaN if n=0)."""
    if n <= 0:
        return math.nan
    # scipy.stats is imported on first use: it would add half a second to importing evalkit.
    from scipy import stats

    return float(stats.binomtest(int(successes), int(n), p).pvalue)


def holm(p_values: npt.ArrayLike) -> FloatArray:
    """Holm's step-down adjusted p-values, in the input order; NaN stays NaN and is not counted.

    With the m finite p-values sorted ascending, ``adj_(i) = max_{j<=i} min(1, (m-j+1) p_(j))``.
    It controls the family-wise error rate under any dependence between the tests.
    """
    p = np.asarray(p_values, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def rng_for(seed: int, name: str) -> np.random.Generator:
    """Return a generator for one named statistic, derived from the run's seed.

    Keying by name keeps each statistic's interval unchanged when another statistic is added or
    removed, which a single shared stream would not.
    """
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def resampled_sums(per_unit: npt.ArrayLike, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Bootstrap replicates of column sums over units (rows) resampled with replacement.

    ``per_unit`` has one row per resampling unit (an item) and one column per additive quantity.
    Each replicate resamples n units with replacement, i.e. draws weights ``w ~ Mult(n, 1/n)``,
    and returns ``w @ per_unit``; a whole set of replicates is one matrix product, drawn in
    chunks so that memory stays bounded on large tables. Returns an array ``(n_boot, k)``.

    Judges' verdicts take few values, so the rows of a large table repeat: 10,000 items judged
    by five judges have at most 3**5 distinct rows of combined verdicts. A replicate's sum only
    depends on how often each *distinct* row is drawn, and those counts are multinomial with the
    rows' frequencies as probabilities (the same distribution, exactly), so when rows repeat
    the draws are made over the distinct rows: cost O(distinct rows) instead of O(n) per
    replicate.
    """
    data = np.asarray(per_unit, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    n, k = data.shape
    if n == 0:
        return np.zeros((n_boot, k))
    if n >= _MIN_UNITS_TO_GROUP and np.isfinite(data).all():
        rows, counts = np.unique(data, axis=0, return_counts=True)
        if rows.shape[0] * _REPEAT_FACTOR <= n:
            weights = rng.multinomial(n, counts / n, size=n_boot).astype(np.float64)
            return weights @ rows
    chunk = max(1, _CHUNK_CELLS // n)
    parts = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        # Drawing indices and counting them is the same distribution as rng.multinomial, and
        # several times faster when every row is distinct (multinomial draws one binomial per
        # category).
        draws = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
        parts.append(counts.astype(np.float64) @ data)
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, k))


def percentile_interval(
    estimate: float, replicates: npt.ArrayLike, n: int, confidence: float = 0.95
) -> Interval:
    """Percentile bootstrap interval around ``estimate`` from ``replicates``.

    Replicates that are NaN (the statistic was undefined in that resample, e.g. a kappa when a
    resample holds one category only) are left out; with none left the bounds are NaN.
    """
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0 or not math.isfinite(estimate):
        return Interval(float(estimate), math.nan, math.nan, int(n), confidence)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return Interval(float(estimate), float(low), float(high), int(n), confidence)
