"""The models an app calls, through the run's own model client (see evalkit.candidates._models).

An app's model calls are the run's calls: cached, limited, counted against the budget and
stopped with the run. A bundled model's server starts on the first call the cache cannot
answer, as for the run's own models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final

from evalkit.candidates._models import Messages
from evalkit.models import Completion, ConcurrencyLimits, ModelRequest
from evalkit.session._endpoints import Endpoint
from evalkit.session._engine import Caller

#: Sampling an app's calls get unless it says otherwise: reproducible, and bounded.
DEFAULT_PARAMS: Final[Mapping[str, Any]] = {"temperature": 0.0, "max_tokens": 256}


class SessionModels:
    """Answers an app's ``models.complete(model, messages)`` with the run's client."""

    def __init__(
        self, caller: Caller, resolve: Callable[[str], Endpoint], limits: ConcurrencyLimits
    ) -> None:
        self._caller = caller
        self._resolve = resolve
        self._limits = limits

    async def complete(self, model: str, messages: Messages, **params: Any) -> Completion:
        """Return ``model``'s completion of ``messages`` (a string is one user message).

        ``params`` are sampling parameters (``temperature`` 0 and ``max_tokens`` 256 unless
        given), and ``api_base`` for a model on an OpenAI-compatible server.

        Raises:
            ConfigError: ``model`` names no bundled model.
            ModelError: the call failed after retries.
        """
        endpoint = self._resolve(model)
        api_base = params.pop("api_base", None)  # an OpenAI-compatible server of the user's
        if api_base is not None and endpoint.cache_scope is None:  # not a bundled model
            endpoint = dataclasses.replace(endpoint, api_base=str(api_base))
        if endpoint.concurrency is not None:
            # The same limit as when the model is a candidate or a judge (llama.cpp: 2).
            self._limits.per_model.setdefault(endpoint.model, endpoint.concurrency)
        chat = [{"role": "user", "content": messages}] if isinstance(messages, str) else messages
        sampling = {**DEFAULT_PARAMS, **params}
        common: dict[str, Any] = {
            "model": endpoint.model, "params": sampling, "api_base": endpoint.api_base,
            "api_key": endpoint.api_key, "cache_scope": endpoint.cache_scope,
        }  # fmt: skip
        if endpoint.prompt_style == "completion":
            # A base model continues text: give it the conversation's text, then the cue.
            prompt = "\n\n".join(m["content"] for m in chat) + "\n\nAnswer:"
            request = ModelRequest(prompt=prompt, **common)
        else:
            request = ModelRequest(messages=tuple(dict(m) for m in chat), **common)
        return await self._caller.complete(request)
