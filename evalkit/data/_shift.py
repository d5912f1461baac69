"""How far each descriptor moved between the eval set and production, with a bootstrap interval.

The distance is the standardised mean difference (eval - production, over the pooled standard
deviation): 0 means no shift, ±0.2 is a small one, ±0.8 a large one. It reads the same for a
0/1 flag and for a length, which is why it is used rather than a raw difference.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from evalkit.data._descriptors import DESCRIPTORS, Descriptor
from evalkit.data._estimate import Estimate, estimate, not_measurable, percentile_interval

#: A shift smaller than this (|standardised mean difference|) is not flagged, however sure.
MIN_EFFECT: Final = 0.2
#: The multiplication sign of "2.3x longer", escaped so that the linters see ASCII.
TIMES: Final = "\u00d7"
#: Bootstrap replicates drawn per block; bounds the weight matrix at block x n floats.
_BLOCK: Final = 50

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, slots=True)
class DescriptorShift:
    """One descriptor compared: both means, the distance, and the difference said in words.

    ``flagged`` is True when the distance's interval excludes 0 and ``|distance|`` is at least
    :data:`MIN_EFFECT`.
    """

    name: str
    eval_mean: Estimate
    prod_mean: Estimate
    distance: Estimate
    direction: str
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        """The shift as plain JSON-ready values."""
        return dataclasses.asdict(self)


def _bootstrap_moments(
    values: FloatArray, replicates: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Means and variances of each column over ``replicates`` resamples (replicates x columns).

    Each resample is a row of counts (how often each text was drawn), so a block of replicates
    is one matrix product instead of a Python loop over replicates.
    """
    n = values.shape[0]
    means, variances = [], []
    squares = values**2
    for start in range(0, replicates, _BLOCK):
        size = min(_BLOCK, replicates - start)
        draws = rng.integers(0, n, size=(size, n), dtype=np.int64)
        draws += (np.arange(size, dtype=np.int64) * n)[:, None]
        weights = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
        weights = weights.astype(np.float64)
        mean = weights @ values / n
        means.append(mean)
        variances.append(weights @ squares / n - mean**2)
    return np.vstack(means), np.vstack(variances)


def _smd(
    mean_e: FloatArray, var_e: FloatArray, n_e: int, mean_p: FloatArray, var_p: FloatArray, n_p: int
) -> FloatArray:
    pooled = (var_e * n_e + var_p * n_p) / (n_e + n_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((mean_e - mean_p) / np.sqrt(pooled), dtype=np.float64)


def _show(value: float, descriptor: Descriptor) -> str:
    return f"{value:.0%}" if descriptor.kind == "flag" else f"{value:.3g}"


def describe_direction(descriptor: Descriptor, eval_mean: float, prod_mean: float) -> str:
    """The difference in words: the phrase of ``descriptor`` with its factor, and both means.

    For example "are 2.3 times longer in characters (84 vs 36.5)", written with the
    multiplication sign; a factor below 1.1 as a percentage ("4% less").
    """
    both = f"({_show(eval_mean, descriptor)} vs {_show(prod_mean, descriptor)})"
    if eval_mean == prod_mean:
        return f"do not differ in {descriptor.name} {both}"
    if prod_mean == 0 or eval_mean == 0:
        more = descriptor.more[0] if eval_mean > prod_mean else descriptor.more[1]
        side = "production has none" if prod_mean == 0 else "eval has none"
        return f"{descriptor.phrase.format(factor='far', more=more)} {both}; {side}"
    ratio = eval_mean / prod_mean
    factor = ratio if ratio >= 1 else 1 / ratio
    more = descriptor.more[0] if ratio >= 1 else descriptor.more[1]
    # Below 1.1x a factor rounds to "1.0x less", which says nothing: give the percentage.
    said = f"{factor - 1:.0%}" if factor < 1.1 else f"{factor:.1f}{TIMES}"
    return f"{descriptor.phrase.format(factor=said, more=more)} {both}"


def descriptor_shifts(
    eval_frame: pd.DataFrame,
    prod_frame: pd.DataFrame,
    *,
    seed: int,
    confidence: float,
    replicates: int = 1000,
) -> tuple[DescriptorShift, ...]:
    """Compare every descriptor column of two frames (from :func:`descriptor_frames`).

    Means get a percentile bootstrap interval, and so does the standardised mean difference
    (both samples resampled independently). With fewer than two texts on a side, or no spread
    in either sample, a figure is "not measurable" with the reason.
    """
    n_e, n_p = len(eval_frame), len(prod_frame)
    names = [d.name for d in DESCRIPTORS]
    if min(n_e, n_p) < 2:
        side = "eval" if n_e < 2 else "production"
        reason = f"the {side} sample has {min(n_e, n_p)} text(s); at least 2 are needed"
        gone = not_measurable(reason, min(n_e, n_p), confidence)
        return tuple(DescriptorShift(name, gone, gone, gone, reason, False) for name in names)
    ev = eval_frame[names].to_numpy(dtype=np.float64)
    pv = prod_frame[names].to_numpy(dtype=np.float64)
    rng = np.random.default_rng(seed)
    mean_e, var_e = _bootstrap_moments(ev, replicates, rng)
    mean_p, var_p = _bootstrap_moments(pv, replicates, rng)
    point_e, point_p = ev.mean(axis=0), pv.mean(axis=0)
    point_d = _smd(point_e, ev.var(axis=0), n_e, point_p, pv.var(axis=0), n_p)
    low_e, high_e = percentile_interval(mean_e, confidence)
    low_p, high_p = percentile_interval(mean_p, confidence)
    low_d, high_d = percentile_interval(_smd(mean_e, var_e, n_e, mean_p, var_p, n_p), confidence)
    shifts = []
    for i, descriptor in enumerate(DESCRIPTORS):
        e_mean = estimate(point_e[i], low_e[i], high_e[i], n_e, confidence)
        p_mean = estimate(point_p[i], low_p[i], high_p[i], n_p, confidence)
        if not np.isfinite(point_d[i]):
            reason = f"every text in both samples has the same {descriptor.name}"
            distance = not_measurable(reason, n_e + n_p, confidence)
            flagged = False
        else:
            distance = estimate(point_d[i], low_d[i], high_d[i], n_e + n_p, confidence)
            flagged = bool(
                distance.measurable
                and abs(point_d[i]) >= MIN_EFFECT
                and (low_d[i] > 0 or high_d[i] < 0)
            )
        direction = describe_direction(descriptor, float(point_e[i]), float(point_p[i]))
        shifts.append(
            DescriptorShift(descriptor.name, e_mean, p_mean, distance, direction, flagged)
        )
    return tuple(shifts)
