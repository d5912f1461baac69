"""A measured figure with its n and interval, or the reason it could not be measured.

Every number the data audit reports is an :class:`Estimate`, so that nothing is printed without
its sample size and interval, and nothing unmeasurable is printed as NaN.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from evalkit.errors import ConfigError


@dataclasses.dataclass(frozen=True, slots=True)
class Estimate:
    """A point value with a ``confidence`` interval ``[low, high]`` over ``n`` observations.

    When the figure cannot be measured, ``value``, ``low`` and ``high`` are None and ``reason``
    says why (``"not measurable: <reason>"`` when printed).
    """

    value: float | None
    low: float | None
    high: float | None
    n: int
    confidence: float
    reason: str | None = None

    @property
    def measurable(self) -> bool:
        """True when the figure has a value."""
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        """The estimate as plain JSON-ready values."""
        return dataclasses.asdict(self)

    def format(self, digits: int = 3) -> str:
        """``0.512 [0.480, 0.544] (n=400)``, or ``not measurable: <reason>``."""
        if self.value is None or self.low is None or self.high is None:
            return f"not measurable: {self.reason}"
        return (
            f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] (n={self.n})"
        )

    def __str__(self) -> str:
        return self.format()


def not_measurable(reason: str, n: int, confidence: float) -> Estimate:
    """An estimate that has no value, only the ``reason`` why."""
    return Estimate(None, None, None, n, confidence, reason)


def estimate(value: float, low: float, high: float, n: int, confidence: float) -> Estimate:
    """An estimate, or "not measurable" when any part is not a finite number."""
    if not all(math.isfinite(x) for x in (value, low, high)):
        return not_measurable("the statistic is undefined for this sample", n, confidence)
    return Estimate(float(value), float(low), float(high), n, confidence)


def percentile_interval(
    draws: npt.NDArray[np.float64], confidence: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The percentile interval of bootstrap ``draws`` (replicates along axis 0)."""
    tail = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        # A column with no finite draw is undefined; it becomes "not measurable", not a warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(draws, tail, axis=0)
        high = np.nanquantile(draws, 1.0 - tail, axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def check_confidence(confidence: float) -> None:
    """Raise ConfigError unless ``confidence`` is strictly between 0 and 1."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(
            f"confidence (--confidence) must be between 0 and 1, e.g. 0.95; got {confidence!r}"
        )
