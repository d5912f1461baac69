"""The model layer: every model call in evalkit goes through :class:`ModelClient`.

Typical use (the judging layer, the session)::

    client = ModelClient.from_config(config)
    answer = await client.complete(ModelRequest(model="openai/gpt-4o-mini", messages=(...)))
    answers = await client.complete_many(requests)            # answers or errors, in order
    async for index, answer in client.iter_completed(requests):
        ...                                                   # as each call finishes

An answer that turns out unusable (say, a judge reply that does not parse) must not be replayed
from the cache forever: pass ``validate=`` to :meth:`ModelClient.complete` so that it is never
stored (and a stored one is evicted and asked again), or call :meth:`ModelClient.forget` with
the request afterwards.

Any litellm model string works; litellm is imported on the first real call only. Failures are
:class:`evalkit.errors.ModelError` subclasses whose messages say what to do.
"""

from evalkit.models._budget import Budget
from evalkit.models._cache import ResponseCache
from evalkit.models._client import ModelClient
from evalkit.models._families import family_of
from evalkit.models._limits import ConcurrencyLimits
from evalkit.models._retry import RetryPolicy
from evalkit.models._types import Completion, ModelRequest

__all__ = [
    "Budget",
    "Completion",
    "ConcurrencyLimits",
    "ModelClient",
    "ModelRequest",
    "ResponseCache",
    "RetryPolicy",
    "family_of",
]
