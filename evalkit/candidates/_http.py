"""The user's own HTTP service as the candidate: ``evalkit.app.http(url, body=..., ...)``.

Each item's row renders the jinja2 ``body`` template into a JSON request body (write
``{{ question | tojson }}`` so that the value is quoted and escaped); the answer is read at
``answer_path`` (``output.text``, ``choices.0.message.content``) in the JSON reply. The call
runs as an app (see :mod:`evalkit.candidates._transport`), so it has the run's cache,
concurrency limit and per-call timeout; like a model call, a 429 (honouring Retry-After), a
5xx, a refused or dropped connection and a timeout are retried with backoff. A reply that is
HTML, not JSON, lacks the answer path or holds no text there fails that item, naming the
problem; the run goes on.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Mapping
from typing import Any, Final

from evalkit.candidates._answer import AppAnswer
from evalkit.errors import AppFailed, ProviderUnavailable, RateLimited, SpecError
from evalkit.judging._templates import Templates
from evalkit.models._retry import parse_retry_after

#: How much of an unexpected reply an error message quotes.
QUOTED_CHARS: Final = 80


class HttpApp:
    """POSTs each row's rendered body to ``url`` and reads the answer in the JSON reply."""

    def __init__(
        self,
        url: str,
        *,
        body: str,
        answer_path: str,
        context_path: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.body = body
        self.answer_path = answer_path
        self.context_path = context_path
        self._headers = {"Content-Type": "application/json", **dict(headers or {})}
        self._templates = Templates(None)
        # One HTTP client per event loop, reused for every call made on it.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self.__name__ = "http"

    def __repr__(self) -> str:
        return f"HttpApp({self.url!r})"  # never the headers: they may hold a key

    def payload(self, row: Mapping[str, Any], where: str) -> Any:
        """The request body for ``row``: the template rendered, then read as JSON.

        Raises:
            SpecError: the template does not render for the row, or not into JSON.
        """
        absent = sorted(Templates.variables(self.body) - set(row))
        if absent:  # caught here: under a filter (| tojson) jinja2's own message is obscure
            raise SpecError(
                f"{where} body: the template uses {', '.join(map(repr, absent))}, which the row "
                f"does not have (it has {', '.join(map(repr, sorted(row)))}); use its fields"
            )
        text = self._templates.render_string(self.body, row, where=f"{where} body")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{where} body: the rendered template is not JSON ({exc.msg} at character "
                f"{exc.pos}: {text[:QUOTED_CHARS]!r}); quote values with "
                "{{ field | tojson }}"
            ) from None

    async def __call__(self, row: dict[str, Any]) -> AppAnswer:
        """Ask the service about ``row``.

        Raises:
            RateLimited: 429 (retried after its Retry-After).
            ProviderUnavailable: 5xx, or the connection was refused or dropped (retried).
            AppFailed: any other status, a reply that is not JSON (e.g. HTML), or one without
                text at ``answer_path``.
        """
        where = f"{self.url} (item {row.get('id', '?')!r})"
        payload = self.payload(row, where)

        import httpx  # already imported by open()

        try:
            reply = await self.open().post(self.url, json=payload, headers=self._headers)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc
        status = reply.status_code
        if status == 429:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"))
            raise RateLimited(f"{where} answered HTTP 429 (rate limited)", retry_after)
        if status >= 500:
            raise ProviderUnavailable(f"{where} answered HTTP {status}: {_quote(reply.text)}")
        if status >= 400:
            raise AppFailed(f"{where} answered HTTP {status}: {_quote(reply.text)}; check the "
                            "URL, the body template and the headers")  # fmt: skip
        data = self._json(reply.headers.get("Content-Type", ""), reply.text, where)
        text = _at(data, self.answer_path, where, "answer_path")
        if not isinstance(text, str):
            kind = type(text).__name__
            raise AppFailed(
                f"{where}: the reply's {self.answer_path!r} is a {kind}, not text; point "
                "answer_path at the answer"
            )
        context = None
        if self.context_path is not None:
            found = _at(data, self.context_path, where, "context_path")
            context = found if isinstance(found, str) else [str(d) for d in _listed(found)]
        return AppAnswer(text, context=context)

    def _json(self, content_type: str, text: str, where: str) -> Any:
        head = text.lstrip()[:QUOTED_CHARS]
        if "html" in content_type.lower() or head.lower().startswith(("<!doctype", "<html")):
            raise AppFailed(f"{where} answered with HTML, not JSON ({_quote(head)}); check the "
                            "URL: it should be the service's JSON API, not a web page")  # fmt: skip
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise AppFailed(f"{where} answered with text that is not JSON ({_quote(head)}); "
                            "the service must reply with a JSON object") from None  # fmt: skip

    def open(self) -> Any:
        """Return the running loop's HTTP client, made on first use (outside the timed call).

        Importing httpx and building a client with its TLS context take long enough to eat
        the first calls' timeout, so the transport opens it before it starts the clock.
        """
        import httpx  # imported here: only suites with an HTTP candidate need it

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # No timeout here: the app's per-call timeout bounds the whole call (transport).
            client = self._clients[loop] = httpx.AsyncClient(timeout=None)
        return client

    async def aclose(self) -> None:
        """Close this event loop's HTTP client (a later call opens a new one)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return repr(text[:QUOTED_CHARS] + ("…" if len(text) > QUOTED_CHARS else ""))


def _at(data: Any, path: str, where: str, setting: str) -> Any:
    """The value at a dotted ``path`` (``output.text``, ``choices.0.message.content``).

    Raises:
        AppFailed: the reply has nothing at ``path``; the message says what is there instead.
    """
    parts = path.split(".")
    for depth, key in enumerate(parts):
        if isinstance(data, Mapping) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            at = ".".join(parts[:depth]) or "the top"
            raise AppFailed(f"{where}: the reply has no {path!r} ({setting}); at {at} it holds "
                            f"{_describe(data)}; fix {setting}")  # fmt: skip
    return data


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        keys = ", ".join(repr(k) for k in list(value)[:8])
        return f"an object with keys {keys}" if keys else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"a {type(value).__name__} {_quote(str(value))}"
