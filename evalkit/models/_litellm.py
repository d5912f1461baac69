"""The one place evalkit talks to litellm: one attempt at one call, errors translated.

:class:`LiteLLMTransport` implements :class:`~evalkit.models._types.ModelTransport`. Chat
requests go to ``litellm.acompletion``, completion-style requests (``request.prompt``) to
``litellm.atext_completion``, which sends ``openai/<name>`` with an ``api_base`` to the
server's ``/v1/completions``. litellm's own retries and the OpenAI SDK's (two by default) are
switched off with ``num_retries=0`` and ``max_retries=0``: evalkit alone decides about retries.
litellm keeps its HTTP clients in its own client cache, keyed by the client parameters, so
every call to one endpoint reuses one connection pool.

Every exception litellm (or the SDKs beneath it) raises is translated here, and only here,
into :mod:`evalkit.errors`, with ``raise … from exc`` and a message that names the model and
says what to do; any API key is masked out of the message first.

litellm is imported on the first attempt, not at import time: it takes seconds to import, and
``evalkit --help``, test collection and cache replays never need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import math
import os
import re
import time
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Final

from evalkit.errors import (
    AuthError,
    BadRequest,
    CallTimeout,
    ClientError,
    ModelError,
    PermanentModelError,
    ProviderUnavailable,
    RateLimited,
    TransientModelError,
)
from evalkit.models._retry import parse_retry_after
from evalkit.models._types import Completion, ModelRequest
from evalkit.redaction import redact

#: Keyword arguments evalkit sets itself; a request's params cannot override them.
RESERVED_PARAMS: Final = frozenset(
    {"model", "messages", "prompt", "api_base", "base_url", "api_key", "timeout", "max_retries",
     "num_retries", "stream"}
)  # fmt: skip
#: Modules litellm imports on its first call (litellm 1.110); imported up front, quietly.
_LAZY_MODULES: Final = ("litellm.llms.github_copilot.per_user_auth",)
_DETAIL_CHARS: Final = 300
# litellm prefixes the provider's message with its class names, e.g.
# "litellm.InternalServerError: InternalServerError: OpenAIException - <message>".
_LITELLM_PREFIX: Final = re.compile(r"^(litellm\.\w+:\s*)?(\w+Error:\s*)?(\w+Exception - )?")

_litellm: ModuleType | None = None


def load_litellm() -> ModuleType:
    """Import litellm once, offline-safe and quiet, and return the module."""
    global _litellm
    if _litellm is None:
        # Without this, importing litellm offline retries a download of its price table for
        # ~15 s; the bundled copy is what evalkit prices calls with anyway.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm  # installs its own filters for the warnings its dependencies emit

        with warnings.catch_warnings():
            # Modules litellm imports lazily on its first call emit import-time warnings that
            # are theirs to fix (e.g. pydantic on a ReadOnly TypedDict). Under a user's
            # filterwarnings=error they would turn that first model call into an error.
            warnings.simplefilter("ignore")
            for name in _LAZY_MODULES:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)

        # litellm otherwise prints a "Give Feedback / Get Help" banner to stdout on every error.
        litellm.suppress_debug_info = True
        _litellm = litellm
    return _litellm


class LiteLLMTransport:
    """Makes one attempt at a call through litellm; see the module docstring."""

    def __init__(self) -> None:
        self._providers: dict[tuple[str, str | None], str] = {}
        self._unpriced: set[str] = set()

    async def attempt(self, request: ModelRequest, timeout_s: float) -> Completion:
        """Send ``request`` once, waiting at most ``timeout_s`` seconds for the answer.

        Raises:
            BadRequest: the model string names no litellm provider, or the provider rejected
                the request (400/404/422).
            AuthError: no API key is set, or the provider rejected it (401/403).
            RateLimited: 429, with the server's Retry-After.
            ProviderUnavailable: 5xx, or the connection was refused or dropped.
            CallTimeout: no answer within ``timeout_s``.
            TransientModelError: the answer was malformed (not UTF-8, not JSON, no choices).
            ClientError: the request could not be sent (an invalid api_base, a setting the
                HTTP client refuses); never retried.
        """
        lit = load_litellm()  # outside the timed part: the first import takes seconds
        provider = self.provider(request)
        kwargs: dict[str, Any] = {
            k: v for k, v in request.params.items() if k not in RESERVED_PARAMS
        }
        kwargs.update(
            model=request.model,
            timeout=timeout_s,
            max_retries=0,
            num_retries=0,
        )
        if request.api_base is not None:
            kwargs["api_base"] = request.api_base
        if request.api_key is not None:
            kwargs["api_key"] = request.api_key
        if request.style == "chat":
            call = lit.acompletion(messages=[dict(m) for m in request.messages], **kwargs)
        else:
            call = lit.atext_completion(prompt=request.prompt, **kwargs)
        start = time.perf_counter()
        try:
            # litellm's timeout bounds each network wait; wait_for bounds the whole attempt.
            response = await asyncio.wait_for(call, timeout_s)
        except TimeoutError as exc:
            raise _timeout(request, timeout_s) from exc
        except Exception as exc:
            raise translate_error(exc, request, provider, timeout_s) from exc
        latency = time.perf_counter() - start
        return self._completion(lit, response, request, provider, latency)

    async def aclose(self) -> None:
        """Close the HTTP clients litellm cached on this event loop (no-op if never loaded).

        litellm keeps one client pool per event loop; closing them before the loop ends avoids
        "Unclosed client session" warnings when the loop is gone.
        """
        if _litellm is None:
            return
        try:
            from litellm.llms.custom_httpx.async_client_cleanup import (
                close_litellm_async_clients,
            )
        except ImportError:  # moved in another litellm version: the warnings are cosmetic
            return
        await close_litellm_async_clients()  # type: ignore[no-untyped-call]

    def provider(self, request: ModelRequest) -> str:
        """Return the litellm provider of ``request.model`` (remembered per model and api_base).

        Raises:
            BadRequest: litellm cannot tell which provider serves the model string.
        """
        key = (request.model, request.api_base)
        found = self._providers.get(key)
        if found is None:
            lit = load_litellm()
            try:
                _, found, _, _ = lit.get_llm_provider(request.model, api_base=request.api_base)
            except Exception as exc:
                raise BadRequest(
                    f"{request.model!r} is not a litellm model string: litellm cannot tell which "
                    "provider serves it. Write it as provider/model, e.g. openai/gpt-4o-mini or "
                    "anthropic/claude-3-5-haiku-latest; for an OpenAI-compatible server (vLLM, "
                    "llama.cpp) use openai/<name> and set api_base"
                ) from exc
            self._providers[key] = found = str(found)
        return found

    def check(self, request: ModelRequest) -> None:
        """Raise now, before any call is made, what the first call would fail on for sure.

        Checks that litellm knows a provider for the model string, and that an API key is
        given or set in the environment for providers that need one.

        Raises:
            BadRequest: the model string names no litellm provider.
            AuthError: the provider needs a key and none is given or set.
        """
        provider = self.provider(request)
        if request.api_key is not None:
            return
        lit = load_litellm()
        try:
            missing = lit.validate_environment(model=request.model).get("missing_keys") or []
        except Exception:  # litellm cannot tell for this provider: let the call decide
            return
        keys = [str(k) for k in missing if "KEY" in str(k).upper()]
        if keys:
            raise AuthError(_no_key_message(lit, request, provider))

    def _completion(
        self,
        lit: ModuleType,
        response: Any,
        request: ModelRequest,
        provider: str,
        latency_s: float,
    ) -> Completion:
        try:
            choice = response.choices[0]
            text = choice.message.content if request.style == "chat" else choice.text
            finish_reason = choice.finish_reason
        except (AttributeError, IndexError, TypeError) as exc:
            raise _malformed(request, endpoint(request, provider), "no choices") from exc
        if text is None and finish_reason is None:
            # The endpoint only for the message: masking the api_base on every call cost more
            # than the rest of reading the reply.
            raise _malformed(request, endpoint(request, provider), "a choice without text")
        usage = getattr(response, "usage", None)
        return Completion(
            text=text or "",
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=self._cost(lit, response, request.model),
            latency_s=latency_s,
            finish_reason=finish_reason,
        )

    def _cost(self, lit: ModuleType, response: Any, model: str) -> float:
        """Return the call's cost from litellm's price table; 0 for models it has no price for."""
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
        if isinstance(cost, int | float) and _valid_cost(cost):
            return float(cost)
        if model in self._unpriced:  # skip litellm's failing lookup on every call
            return 0.0
        try:
            cost = lit.completion_cost(completion_response=response, model=model)
        except Exception:  # local and unknown models have no price: they are free
            cost = None
        if isinstance(cost, int | float) and _valid_cost(cost):
            return float(cost)
        self._unpriced.add(model)
        return 0.0


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """Return what one call of ``model`` would cost at litellm's list prices, in USD.

    Pass the tokens of a single call: litellm prices some models in tiers (e.g. above 128k
    input tokens), so the cost of a sum of calls is not the price of their summed tokens.
    Returns None when litellm has no price for the model (local models, ``openai/<name>`` on
    a server of one's own, models dropped from litellm's table) or litellm is unusable.
    Never raises: a dry run shows an unpriced model, it does not stop on one.
    """
    try:
        lit = load_litellm()
        prompt_usd, completion_usd = lit.cost_per_token(
            model=model, prompt_tokens=input_tokens, completion_tokens=output_tokens
        )
        cost = float(prompt_usd) + float(completion_usd)
    except Exception:  # litellm raises for models it has no price for
        return None
    return cost if _valid_cost(cost) else None


def translate_error(
    exc: BaseException, request: ModelRequest, provider: str, timeout_s: float
) -> ModelError:
    """Return the evalkit error for an exception raised by a litellm call (not raised here)."""
    lit = load_litellm()
    import openai  # present whenever litellm is

    model = request.model
    where = endpoint(request, provider)
    chain = list(_chain(exc))
    detail = _detail(exc, request)
    status = getattr(exc, "status_code", None)

    if isinstance(exc, lit.Timeout) or any(isinstance(e, openai.APITimeoutError) for e in chain):
        return _timeout(request, timeout_s)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return ProviderUnavailable(
            f"could not connect to {where} for {model}: connection refused; start the server "
            "or fix api_base"
        )
    # Before the connection errors: litellm files a request that never left this machine
    # under "connection error" or "HTTP 500", and retrying it cannot help.
    client_side = _client_side(chain)
    if client_side is not None:
        return _client_error(request, where, client_side, detail)
    if any(isinstance(e, openai.APIConnectionError) for e in chain):
        return ProviderUnavailable(
            f"the connection to {where} failed or dropped before {model} answered ({detail}); "
            "check that the server is up and reachable"
        )
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return _malformed(request, where, f"not JSON: {detail}")
    if any(isinstance(e, UnicodeDecodeError) for e in chain):
        return _malformed(request, where, f"the reply was not valid UTF-8: {detail}")
    if "no 'choices'" in str(exc):
        return _malformed(request, where, "no choices")
    if _missing_key(exc, chain, request, lit):
        return AuthError(_no_key_message(lit, request, provider))
    if isinstance(exc, lit.RateLimitError) or status == 429:
        retry_after = _retry_after(exc)
        wait = f"Retry-After {retry_after:g} s" if retry_after is not None else "no Retry-After"
        return RateLimited(f"{model} is rate limited by {where} (HTTP 429, {wait})", retry_after)
    if isinstance(exc, lit.AuthenticationError | lit.PermissionDeniedError) or status in (401, 403):
        return AuthError(
            f"{where} rejected the credentials for {model} (HTTP {status}): {detail}; check the "
            f"API key ({_key_env_vars(lit, request, provider)}) and its permissions"
        )
    if isinstance(exc, lit.NotFoundError) or status == 404:
        return BadRequest(
            f"{where} does not know the model {model} (HTTP 404): {detail}; check the model "
            "name (for litellm: provider/model) and api_base"
        )
    if isinstance(exc, lit.BadRequestError) or status in (400, 413, 422):
        return BadRequest(
            f"{where} rejected the request to {model} (HTTP {status}): {detail}; check the "
            "messages and sampling parameters"
        )
    if isinstance(status, int) and status >= 500:
        return ProviderUnavailable(f"{where} failed to answer {model} (HTTP {status}): {detail}")
    if status == 408:
        return _timeout(request, timeout_s)
    return PermanentModelError(
        f"calling {model} at {where} failed with {type(exc).__name__}: {detail}"
    )


def endpoint(request: ModelRequest, provider: str) -> str:
    """Where a call goes, as evalkit may show it: the api_base with credentials masked."""
    if request.api_base is None:
        return provider
    return redact(request.api_base, request.secrets())


def _timeout(request: ModelRequest, timeout_s: float) -> CallTimeout:
    return CallTimeout(
        f"{request.model} did not answer within {timeout_s:g} s; if the model is just slow, "
        "raise timeout_s (EVALKIT_TIMEOUT_S)"
    )


def _client_side(chain: list[BaseException]) -> BaseException | None:
    """Return the exception showing that the request could not be sent at all, if any.

    An invalid URL, or a value the HTTP client refuses (credentials both in the URL and in a
    header, a timeout it cannot convert): raised before anything reached the provider. A
    reply that does not decode is the provider's doing and is not one of these.
    """
    import aiohttp
    import httpx

    url_errors: tuple[type[BaseException], ...] = (
        httpx.InvalidURL,
        httpx.UnsupportedProtocol,
        aiohttp.InvalidURL,
        getattr(aiohttp, "NonHttpUrlClientError", aiohttp.InvalidURL),
    )
    for e in chain:
        if isinstance(e, url_errors):
            return e
    for e in chain:
        # Narrowly: a malformed reply also raises ValueErrors (pydantic's, json's) deep in
        # litellm, and those are the provider's doing.
        if isinstance(e, ArithmeticError) or (type(e) is ValueError and "URL" in str(e)):
            return e
    return None


def _client_error(
    request: ModelRequest, where: str, cause: BaseException, detail: str
) -> ClientError:
    model = request.model
    if "credentials encoded in URL" in str(cause):
        return ClientError(
            f"could not send the request to {where} for {model}: the api_base carries "
            "credentials (user:password@) and the call an API key too; remove them from "
            "api_base and give the key as api_key or in its environment variable"
        )
    if "url" in type(cause).__name__.lower() or "URL" in str(cause) or "://" not in where:
        return ClientError(
            f"could not connect to {where} for {model}: invalid URL ({detail}); api_base "
            "must be a full http(s) URL such as http://127.0.0.1:8000/v1"
        )
    return ClientError(
        f"could not send the request to {where} for {model}: {type(cause).__name__}: "
        f"{detail}; the call's settings are at fault, not the provider, so it is not retried"
    )


def _malformed(request: ModelRequest, where: str, what: str) -> TransientModelError:
    return TransientModelError(
        f"{where} returned a malformed response for {request.model} ({what})"
    )


def _missing_key(
    exc: BaseException, chain: list[BaseException], request: ModelRequest, lit: ModuleType
) -> bool:
    if request.api_key is not None:
        return False
    import openai

    # The OpenAI SDK raises its bare base class when it has no key at all; litellm wraps it in a
    # 500, which must not be retried.
    if any(type(e) is openai.OpenAIError for e in chain):
        return True
    return isinstance(exc, lit.AuthenticationError) and "missing" in str(exc).lower()


def _no_key_message(lit: ModuleType, request: ModelRequest, provider: str) -> str:
    message = (
        f"no API key for {request.model}: set the {_key_env_vars(lit, request, provider)} "
        "environment variable (litellm reads it for provider "
        f"{provider!r}), or give the model an api_key"
    )
    if request.api_base is not None:
        message += (
            f"; a local OpenAI-compatible server at {endpoint(request, provider)} that does "
            "not check keys accepts any placeholder key"
        )
    return message


def _key_env_vars(lit: ModuleType, request: ModelRequest, provider: str) -> str:
    try:
        missing = lit.validate_environment(model=request.model).get("missing_keys") or []
    except Exception:
        missing = []
    names = [str(name) for name in missing if "KEY" in str(name).upper()] or [
        f"{provider.upper()}_API_KEY"
    ]
    return " or ".join(names)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        return None
    millis = parse_retry_after(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    return parse_retry_after(headers.get("retry-after"))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _detail(exc: BaseException, request: ModelRequest) -> str:
    """Return the provider's own words, shortened, with every secret we know of masked out."""
    # Masked before shortening: a key cut in half would no longer be recognised.
    text = redact(_LITELLM_PREFIX.sub("", " ".join(str(exc).split())), request.secrets())
    if len(text) > _DETAIL_CHARS:
        text = text[: _DETAIL_CHARS - 1] + "…"
    return text or type(exc).__name__


def _valid_cost(cost: object) -> bool:
    return isinstance(cost, int | float) and math.isfinite(cost) and cost >= 0
