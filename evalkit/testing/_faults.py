"""What the fake provider does to a request: delays and injected faults, as plain values."""

from __future__ import annotations

import dataclasses
from typing import Literal

FaultKind = Literal[
    "status", "hang", "drop", "malformed", "no_choices", "echo_headers", "invalid_bytes"
]


@dataclasses.dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure. Build it with the class methods, e.g. ``Fault.rate_limited("1.0")``.

    ``retry_after`` is sent verbatim as the Retry-After header; ``retry_after_date_s`` instead
    sends an HTTP-date that many seconds after the response is written (HTTP-dates have
    one-second resolution, so the client's wait is within a second of it).
    """

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    retry_after_date_s: float | None = None
    seconds: float = 3600.0
    message: str = "injected fault"

    @classmethod
    def rate_limited(
        cls, retry_after: str | float | None = None, *, date_in_s: float | None = None
    ) -> Fault:
        """Answer 429, with Retry-After as given (``"2"``, ``"1.0"``) or as an HTTP-date."""
        header = None if retry_after is None else str(retry_after)
        return cls(
            "status", 429, retry_after=header, retry_after_date_s=date_in_s, message="rate limited"
        )

    @classmethod
    def http_error(cls, status: int, message: str | None = None) -> Fault:
        """Answer with this error status and an OpenAI-style error body."""
        return cls("status", status, message=message or f"injected HTTP {status}")

    @classmethod
    def hang(cls, seconds: float = 3600.0) -> Fault:
        """Answer normally, but only after ``seconds`` (past any sane client timeout)."""
        return cls("hang", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 with a body that is not valid JSON."""
        return cls("malformed")

    @classmethod
    def echo_headers(cls, status: int = 401) -> Fault:
        """Answer this error status echoing the caller's headers (credentials too) in the body.

        Some providers and proxies do this on a 401; evalkit must not write what they echo.
        """
        return cls("echo_headers", status, message="rejected")

    @classmethod
    def invalid_bytes(cls) -> Fault:
        """Answer 200 with a body that is not valid UTF-8."""
        return cls("invalid_bytes")

    @classmethod
    def no_choices(cls) -> Fault:
        """Answer 200 with valid JSON that lacks ``choices``."""
        return cls("no_choices")


@dataclasses.dataclass(frozen=True, slots=True)
class ModelBehaviour:
    """How the fake provider treats every request for one model.

    ``latency_s`` is a fixed delay or a ``(low, high)`` range drawn uniformly per request.
    With probability ``fault_rate`` a request gets one of ``faults`` (uniformly) instead of an
    answer; draws come from the server's seeded RNG. Scripted faults (``FakeProvider.script``)
    are consumed first, one per request. ``reply``, when set, replaces the model's answer text
    (e.g. ``""`` for an empty answer, or a judge reply that does not parse).
    """

    latency_s: float | tuple[float, float] = 0.0
    faults: tuple[Fault, ...] = ()
    fault_rate: float = 0.0
    reply: str | None = None
