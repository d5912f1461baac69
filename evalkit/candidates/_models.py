"""The models an app may call: evalkit's model client, handed to the app as its second argument.

An app that calls a model itself (a retrieval-augmented app asking a chat model) should do it
through :class:`Models`, so that its calls share the run's cache, concurrency limits, budget
and bundled local servers. The session provides the calls (:class:`ModelCaller`); this module
adapts them to sync apps, which run in a thread of their own, and adds up what they spent
(their tokens and cost are charged to the app's answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from evalkit.errors import UsageError
from evalkit.models import Completion

#: A chat conversation (``[{"role": "user", "content": ...}]``) or one user message.
Messages = str | Sequence[Mapping[str, str]]


class ModelCaller(Protocol):
    """What the session gives apps to call models with (see :class:`Models`)."""

    async def complete(self, model: str, messages: Messages, **params: Any) -> Completion:
        """Return ``model``'s answer to ``messages``; ``params`` are sampling parameters.

        Raises:
            ModelError: the call failed after retries (the app's answer then fails too).
        """
        ...


class Models:
    """Call models from an app: ``models.complete(model, messages)`` (sync) or ``acomplete``.

    ``model`` is any model string evalkit accepts (``local/smollm2-135m-instruct``,
    ``openai/gpt-4o-mini``); the answer text comes back. Calls are cached like the run's own.
    """

    def __init__(self, caller: ModelCaller | None, loop: asyncio.AbstractEventLoop) -> None:
        self._caller = caller
        self._loop = loop
        #: what this app call's model calls spent: (input tokens, output tokens, cost in USD).
        self.spent: tuple[int, int, float] = (0, 0, 0.0)

    async def acomplete(self, model: str, messages: Messages, **params: Any) -> str:
        """From an async app: the answer of ``model`` to ``messages``."""
        if self._caller is None:
            raise UsageError("this app was given no models to call (no session runs it)")
        completion = await self._caller.complete(model, messages, **params)
        # Charged to the app's answer, so that the run's cost of answers includes it.
        n_in, n_out, cost = self.spent
        self.spent = (n_in + completion.input_tokens, n_out + completion.output_tokens,
                      cost + completion.cost_usd)  # fmt: skip
        return completion.text

    def complete(self, model: str, messages: Messages, **params: Any) -> str:
        """From a sync app (which runs in its own thread): the answer of ``model``.

        Raises:
            UsageError: called from the event loop (an async app): it must await
                :meth:`acomplete` instead, or the loop would wait on itself.
        """
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise UsageError("an async app must call `await models.acomplete(...)`; "
                             "models.complete(...) is for sync apps")  # fmt: skip
        future = asyncio.run_coroutine_threadsafe(
            self.acomplete(model, messages, **params), self._loop
        )
        return future.result()
