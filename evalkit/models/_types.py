"""Values that cross the model seam: what a call asks for, what it returns, who answers it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

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

    @property
    def style(self) -> PromptStyle:
        """``completion`` when the request carries a raw prompt, else ``chat``."""
        return "completion" if self.prompt is not None else "chat"


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer to a :class:`ModelRequest`, with what it cost.

    ``latency_s`` is the wall time of the successful attempt (0 for a cache hit);
    ``attempts`` counts every attempt including failed ones (0 for a cache hit).
    """

    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    cached: bool = False
    attempts: int = 1
    finish_reason: str | None = None


@runtime_checkable
class ModelTransport(Protocol):
    """Makes exactly one attempt at a call: no retries, no cache, no concurrency limit.

    Implementations raise :class:`evalkit.errors.ModelError` subclasses and nothing else.
    """

    async def attempt(self, request: ModelRequest, timeout_s: float) -> Completion:
        """Send ``request`` once and return the answer, or raise a ModelError."""
        ...
