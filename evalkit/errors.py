"""evalkit's exception tree.

Every error evalkit raises on purpose is an :class:`EvalkitError`; its message says what went
wrong *and* what to do next (which file, row, field or flag to fix). Errors from third-party
libraries are translated into this tree at the boundary where they enter evalkit
(``raise ... from exc``), so callers never need to catch litellm's or pydantic's exceptions.

::

    EvalkitError
    ├── UsageError                  bad input from the user; raised before any money is spent
    │   ├── ConfigError             a config value, CLI flag or environment variable
    │   ├── SpecError               a judge or panel spec, or a prompt template
    │   └── DatasetError            a dataset file or one of its rows
    ├── ModelError                  a model call that did not produce an answer
    │   ├── TransientModelError     worth retrying: rate limit, 5xx, timeout, dropped connection
    │   │   ├── RateLimited         429, with the server's Retry-After when it sent one
    │   │   ├── ProviderUnavailable 5xx, or a connection that was refused or dropped
    │   │   └── CallTimeout         no answer within the per-attempt timeout
    │   ├── PermanentModelError     retrying cannot help: 400/401/404, unknown model, no API key
    │   │   ├── AuthError           missing or rejected credentials
    │   │   ├── BadRequest          the provider rejected the request or does not know the model
    │   │   ├── ClientError         evalkit's side: the call cannot be sent as configured
    │   │   └── AppFailed           a candidate app raised, hung, or returned no usable answer
    │   └── CallNotMade             the run stopped first (Ctrl-C, or the budget was reached)
    ├── CacheMiss                   replay mode found no cached answer for a call
    ├── CacheUnavailable            the shared (Redis) cache could not be reached or used
    ├── BudgetExceeded              the next call would take the run past its budget
    └── LocalModelError             the bundled llama.cpp server could not be started
"""

from __future__ import annotations


class EvalkitError(Exception):
    """Base class of every error evalkit raises on purpose."""


class UsageError(EvalkitError):
    """Bad input from the user, found before any model call is made."""


class ConfigError(UsageError):
    """A configuration value, command-line flag or environment variable is invalid."""


class SpecError(UsageError):
    """A judge or panel spec, or a prompt template, is invalid."""


class DatasetError(UsageError):
    """A dataset file, or one of its rows, is invalid."""


class ModelError(EvalkitError):
    """A model call failed to produce an answer."""

    #: Short machine-readable kind, recorded in the ``error`` column of the judgments table.
    kind = "model_error"


class TransientModelError(ModelError):
    """A failure that may go away on retry."""

    kind = "transient"


class RateLimited(TransientModelError):
    """The provider answered 429; ``retry_after`` is its Retry-After in seconds, if it sent one."""

    kind = "rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(TransientModelError):
    """The provider answered 5xx, or the connection was refused or dropped."""

    kind = "unavailable"


class CallTimeout(TransientModelError):
    """No answer arrived within the per-attempt timeout."""

    kind = "timeout"


class PermanentModelError(ModelError):
    """A failure that retrying cannot fix."""

    kind = "permanent"


class AuthError(PermanentModelError):
    """Credentials are missing or were rejected."""

    kind = "auth"


class BadRequest(PermanentModelError):
    """The provider rejected the request (400/404/422) or does not know the model."""

    kind = "bad_request"


class ClientError(PermanentModelError):
    """The call cannot be sent as configured (a malformed api_base, an infinite timeout).

    The provider was never reached, so this is not the provider's failure, and it is not
    retried.
    """

    kind = "client"


class AppFailed(PermanentModelError):
    """A candidate application raised, timed out, or returned something that is not an answer.

    Not retried: the app is the user's code, and asking it again would repeat the failure (or
    pile up another hung thread). The message names the app, the item and what went wrong.
    """

    kind = "app"


class CallNotMade(ModelError):
    """The call was never sent: the run was interrupted or its budget reached first."""

    kind = "not_run"


class CacheMiss(EvalkitError):
    """Replay mode was asked for a call that is not in the cache."""


class CacheUnavailable(EvalkitError):
    """The shared response cache (Redis) refused, dropped or timed out a command.

    A run does not fail on it: the response cache warns once and goes on without a cache.
    ``evalkit cache push``/``pull`` report it naming the flag. ``kind`` says what failed
    (``connection``, ``timeout``, ``auth`` or ``error``), for the run's record.
    """

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


class BudgetExceeded(EvalkitError):
    """Making the next call would take the run past its budget."""


class LocalModelError(EvalkitError):
    """The bundled llama.cpp server could not be started or did not answer."""
