"""Values that cross the model seam: what a call asks for, what it returns, who answers it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

from evalkit.redaction import request_secrets

PromptStyle = Literal["chat", "completion"]


@dataclasses.dataclass(frozen=True, slots=True)
class ModelRequest:
    """One model call.

    ``messages`` is used for chat-style calls, ``prompt`` for completion-style calls (base
    models such as Gemma-3-270M answer a few-shot completion prompt far better than a chat one).
    ``params`` holds every sampling parameter (temperature, max_tokens, top_p, stop, seed, …);
    ``sample`` distinguishes deliberate repeats of the same call, so that they are cached apart.
    ``api_key`` is passed to the provider but never cached, logged or written anywhere.
    ``cache_scope`` stands in for ``api_base`` in the cache key when the address changes from
    run to run for the same server (evalkit's local models listen on a fresh port each run).
    """

    model: str
    messages: tuple[Mapping[str, str], ...] = ()
    prompt: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    api_base: str | None = None
    sample: int = 0
    api_key: str | None = dataclasses.field(default=None, repr=False)
    cache_scope: str | None = None
    #: per-attempt timeout of this call; None means the client's (the run's ``timeout_s``).
    timeout_s: float | None = None
    #: retries of this call; None means the client's (the run's ``max_retries``).
    max_retries: int | None = None

    @property
    def style(self) -> PromptStyle:
        """``completion`` when the request carries a raw prompt, else ``chat``."""
        return "completion" if self.prompt is not None else "chat"

    def secrets(self) -> frozenset[str]:
        """The credentials this call carries (key, header values, the api_base's user part).

        Whatever evalkit records about the call (an error message, the endpoint) has these
        masked out with :func:`evalkit.redaction.redact`.
        """
        headers: dict[str, Any] = {}
        for name in ("headers", "extra_headers"):
            value = self.params.get(name)
            if isinstance(value, Mapping):
                headers.update({f"{name}.{k}": v for k, v in value.items()})
        return request_secrets(api_key=self.api_key, api_base=self.api_base, headers=headers)


def valid_text(text: str) -> tuple[str, bool]:
    r"""Return ``text`` as valid Unicode, and whether anything had to be replaced.

    Providers sometimes return lone UTF-16 surrogates (e.g. a JSON ``"\ud800"`` escape):
    Python holds them in a ``str``, but they cannot be encoded, so they would fail every
    later write (cache, results, report). Each becomes U+FFFD; a surrogate *pair* is joined
    into the character it stands for. Everything else (control characters, NUL, U+2028) is
    valid text and is kept as it is.

    >>> valid_text("ok \ud800 \ud83d\ude00")
    ('ok � 😀', True)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return fixed, True
    return text, False


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer to a :class:`ModelRequest`, with what it cost.

    ``latency_s`` is the wall time of the successful attempt (0 for a cache hit);
    ``attempts`` counts every attempt including failed ones (0 for a cache hit).
    ``text`` is always valid Unicode: whatever could not be encoded was replaced by U+FFFD
    when the completion was made (see :func:`valid_text`), and ``text_repaired`` says so.
    """

    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    cached: bool = False
    attempts: int = 1
    finish_reason: str | None = None
    text_repaired: bool = False

    def __post_init__(self) -> None:
        # Every answer from any transport (or the cache) is made here, so this is the one
        # boundary where provider text enters evalkit.
        text, repaired = valid_text(self.text)
        if repaired:
            object.__setattr__(self, "text", text)
            object.__setattr__(self, "text_repaired", True)


@runtime_checkable
class ModelTransport(Protocol):
    """Makes exactly one attempt at a call: no retries, no cache, no concurrency limit.

    Implementations raise :class:`evalkit.errors.ModelError` subclasses and nothing else.
    """

    async def attempt(self, request: ModelRequest, timeout_s: float) -> Completion:
        """Send ``request`` once and return the answer, or raise a ModelError."""
        ...
