"""The retry policy and Retry-After parsing: pure functions, seeded RNG."""

import datetime as dt
import random

import pytest

from evalkit.errors import (
    AuthError,
    BadRequest,
    CallTimeout,
    PermanentModelError,
    ProviderUnavailable,
    RateLimited,
    TransientModelError,
)
from evalkit.models import RetryPolicy
from evalkit.models._retry import parse_retry_after, retry_delay

POLICY = RetryPolicy(max_retries=4, backoff_s=0.5, max_backoff_s=10.0)
NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "error",
    [BadRequest("400"), AuthError("401"), PermanentModelError("x")],
)
def test_permanent_errors_are_never_retried(error: PermanentModelError) -> None:
    assert retry_delay(POLICY, 1, error, random.Random(0)) is None


@pytest.mark.parametrize(
    "error",
    [
        ProviderUnavailable("503"),
        CallTimeout("slow"),
        RateLimited("429"),
        TransientModelError("malformed"),
    ],
)
def test_transient_errors_are_retried_until_max_retries(error: TransientModelError) -> None:
    rng = random.Random(0)
    delays = [retry_delay(POLICY, attempt, error, rng) for attempt in range(1, 7)]
    assert all(d is not None for d in delays[:4])
    assert delays[4:] == [None, None]


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    rng = random.Random(42)
    error = ProviderUnavailable("500")
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)]:
        draws = [retry_delay(POLICY, attempt, error, rng) for _ in range(2000)]
        assert all(d is not None and 0.0 <= d <= ceiling for d in draws)
        mean = sum(d for d in draws if d is not None) / len(draws)
        # Full jitter is uniform on [0, ceiling]: mean ceiling/2, not clustered at the top.
        assert mean == pytest.approx(ceiling / 2, rel=0.06)


def test_jitter_is_reproducible_with_a_seeded_rng() -> None:
    error = CallTimeout("slow")
    first = [retry_delay(POLICY, 2, error, random.Random(7)) for _ in range(3)]
    assert first == [retry_delay(POLICY, 2, error, random.Random(7))] * 3
    assert first[0] == pytest.approx(random.Random(7).uniform(0.0, 1.0))


def test_backoff_is_capped_by_max_backoff() -> None:
    policy = RetryPolicy(max_retries=100, backoff_s=1.0, max_backoff_s=3.0)
    rng = random.Random(1)
    draws = [retry_delay(policy, 90, ProviderUnavailable("x"), rng) for _ in range(500)]
    assert max(d for d in draws if d is not None) <= 3.0
    assert max(d for d in draws if d is not None) > 2.5


def test_retry_after_is_honoured_exactly_and_capped() -> None:
    rng = random.Random(0)
    assert retry_delay(POLICY, 1, RateLimited("429", retry_after=1.0), rng) == 1.0
    assert retry_delay(POLICY, 3, RateLimited("429", retry_after=0.25), rng) == 0.25
    assert retry_delay(POLICY, 1, RateLimited("429", retry_after=3600.0), rng) == 10.0
    # Without a Retry-After, a 429 backs off like any transient error.
    delay = retry_delay(POLICY, 1, RateLimited("429"), rng)
    assert delay is not None
    assert 0.0 <= delay <= 0.5


def test_zero_max_retries_never_retries() -> None:
    policy = RetryPolicy(max_retries=0)
    assert retry_delay(policy, 1, ProviderUnavailable("x"), random.Random(0)) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        ("0", 0.0),
        ("1.0", 1.0),  # one second, never a minute
        ("0.25", 0.25),
        (" 3 ", 3.0),
        ("Thu, 02 Jan 2025 03:04:07 GMT", 2.0),
        ("Thursday, 02-Jan-25 03:04:35 GMT", 30.0),  # RFC 850 form
        ("Thu, 02 Jan 2025 03:00:00 GMT", 0.0),  # in the past: go now
    ],
)
def test_parse_retry_after_forms(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "soon", "-1", "nan", "inf", "Thu, 99 Foo"])
def test_parse_retry_after_rejects_unusable_values(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_from_config_takes_the_retry_settings() -> None:
    from evalkit.config import EvalkitConfig

    policy = RetryPolicy.from_config(EvalkitConfig(max_retries=2, backoff_s=0.1, max_backoff_s=5))
    assert policy == RetryPolicy(max_retries=2, backoff_s=0.1, max_backoff_s=5.0)
