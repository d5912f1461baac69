"""When to retry a failed model call, and how long to wait first: pure functions.

Only :class:`~evalkit.errors.TransientModelError` is retried (429, 5xx, timeouts, refused or
dropped connections, malformed answers); a permanent error (400/401/403/404/422, unknown model,
missing key) fails at once. The wait is the server's ``Retry-After`` when it sent one, otherwise
exponential backoff with *full jitter* (uniform between 0 and ``backoff_s · 2^(attempt-1)``),
which spreads the retries of many concurrent calls instead of sending them back in lockstep.
Every wait is capped by ``max_backoff_s``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import math
import random
from typing import Final

from evalkit.config import EvalkitConfig
from evalkit.errors import ModelError, RateLimited, TransientModelError

# 2**60 · backoff is already centuries; capping the exponent keeps the float arithmetic finite.
_MAX_EXPONENT: Final = 60


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry a transient failure, and how long to wait in between."""

    max_retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 60.0

    @classmethod
    def from_config(cls, config: EvalkitConfig) -> RetryPolicy:
        """Take ``max_retries``, ``backoff_s`` and ``max_backoff_s`` from the run's config."""
        return cls(config.max_retries, config.backoff_s, config.max_backoff_s)


def retry_delay(
    policy: RetryPolicy, attempt: int, error: ModelError, rng: random.Random
) -> float | None:
    """Return the seconds to wait before the next attempt, or None to give up.

    ``attempt`` is the number of attempts made so far (1 after the first failure). A 429's
    ``retry_after`` is honoured as sent, capped by ``max_backoff_s``; other transient errors
    get full-jitter exponential backoff drawn from ``rng``.
    """
    if not isinstance(error, TransientModelError) or attempt > policy.max_retries:
        return None
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return min(max(error.retry_after, 0.0), policy.max_backoff_s)
    exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
    ceiling = min(policy.max_backoff_s, policy.backoff_s * 2.0**exponent)
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for, or None when it is unusable.

    Accepts delta-seconds as an integer (``"2"``) or a float (``"1.0"`` is one second, not a
    minute), and an HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``), measured from ``now``
    (default: the current UTC time). A date in the past means "now" (0 s); a negative or
    non-finite number is unusable.

    >>> parse_retry_after("1.0")
    1.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT",
    ...                   now=dt.datetime(2015, 10, 21, 7, 28, tzinfo=dt.timezone.utc))
    5.0
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT even when the zone is missing
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max((when - now).total_seconds(), 0.0)
