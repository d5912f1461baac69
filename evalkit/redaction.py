"""The one rule for keeping credentials out of everything evalkit writes or shows.

Error messages from providers sometimes echo the request's headers, an ``api_base`` may carry
a password in its user part, and the report is shared (attached to a CI run, pasted into a
review). So the model layer passes every error message and endpoint it records through
:func:`redact`, the session passes what it writes to run.json through :func:`redact_data`, and
the report does the same again for whatever it reads (runs recorded elsewhere, or by older
versions).

A credential is recognised two ways:

- by where it came from: the values of key environment variables present in ``os.environ``
  (``OPENAI_API_KEY``, ``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``…), and the values the caller
  knows (an ``api_key``, the values of configured headers, a URL's user part — see
  :func:`request_secrets`). These are masked whatever their length or shape;
- by its shape: ``Authorization: Bearer …``, ``sk-…``, ``sk-ant-…``, ``AIza…``, ``hf_…``,
  ``gsk_…``, ``user:password@`` in a URL, ``?key=…``.

The patterns only ever match runs of characters that are neither quotes, backslashes, ``<``,
``&`` nor whitespace, and replace them with plain letters, so a redaction cannot change how the
text is escaped later; for the same reason a known value containing such characters is masked
only by the patterns.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np

#: What replaces a secret.
REDACTED: Final = "[redacted]"

# One token of a secret: stops at anything that could end a JSON string, an HTML attribute or
# an escape sequence (see the module docstring).
_TOKEN: Final = r"[^\s\"'\\<>&,;]+"

_PATTERNS: Final = (
    # "Authorization: Bearer xyz", "x-api-key: xyz", "'api-key': 'xyz'" (headers in any quoting).
    re.compile(
        r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key)"
        r"([\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?" + _TOKEN
    ),
    # A bare bearer token.
    re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{6,}"),
    # api_key=xyz, "access_token": "xyz", password=xyz, ?key=xyz in a URL.
    re.compile(
        r"(?i)\b(api_?key|access_?token|refresh_?token|client_?secret|secret_?key|password"
        r"|passwd|aws_secret_access_key)([\"']?\s*[:=]\s*[\"']?)" + _TOKEN
    ),
    re.compile(r"(?i)([?&](?:key|token|sig|signature))(=)[^\s\"'\\<>&#]+"),
)
# Key formats recognisable on their own, wherever they appear. The lengths are lower bounds
# well under the real ones, so that shortened or test keys are caught too.
_SHAPES: Final = re.compile(
    r"\bsk-[A-Za-z0-9_-]{8,}"  # OpenAI, Anthropic (sk-ant-...), DeepSeek, ...
    r"|\bAIza[0-9A-Za-z_-]{8,}"  # Google
    r"|\bgh[pousr]_[A-Za-z0-9]{8,}"  # GitHub
    r"|\bhf_[A-Za-z0-9]{8,}"  # Hugging Face
    r"|\bgsk_[A-Za-z0-9]{8,}"  # Groq
    r"|\bxox[abprs]-[A-Za-z0-9-]{8,}"  # Slack
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
)
# The user part of a URL: user:password@ or token@.
_USERINFO: Final = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s\"'\\<>&@]+@")
_URL_USER: Final = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)@")

# Every match of the patterns above contains one of these (lower-cased), so text without any of
# them is left alone without running a regex: scanning megabytes of model output with the
# patterns themselves takes seconds, a substring search takes milliseconds.
_TRIGGERS: Final = (
    "authorization", "api-key", "apikey", "api_key", "bearer", "accesstoken", "access_token",
    "refreshtoken", "refresh_token", "secret", "password", "passwd", "key=", "token=", "sig=",
    "signature=", "sk-", "aiza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "hf_", "gsk_", "xox",
    "akia", "://",
)  # fmt: skip

#: Keys (in run.json, a header dict) whose values are replaced whole, whatever they look like.
_SECRET_KEY: Final = re.compile(
    r"(?i)(api_?key|authorization|password|passwd|secret|(^|_)token$|access_?token|credential"
    r"|(^|_)headers$)"
)
#: Environment variables whose values are credentials.
_SECRET_ENV: Final = re.compile(
    r"(?i)(^|_)(api_?key|key|token|secret|password|passwd|credentials?|access_?key)$"
    r"|api_?key|secret"
)
# Values shorter than this are not masked by value: "1", "true" or "none" in a *_TOKEN variable
# would otherwise blank out ordinary words everywhere. Real keys are far longer.
_MIN_KNOWN: Final = 6
# A known value containing one of these is masked only by the patterns (see the module doc).
_UNSAFE: Final = re.compile(r"[\s\"'\\<>&]")


def env_secrets(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Return the values of credential environment variables (``*_API_KEY``, ``*_TOKEN``…)."""
    env = os.environ if environ is None else environ
    return frozenset(v for k, v in env.items() if _SECRET_ENV.search(k) and v)


def request_secrets(
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    headers: Mapping[str, Any] | None = None,
) -> frozenset[str]:
    """Return the credentials a call carries: its key, its header values, its URL's user part.

    A header value ``Bearer xyz`` yields ``xyz`` too, and a URL's ``user:password`` its HTTP
    Basic form, since a provider may echo either back.
    """
    found: set[str] = set()
    if api_key:
        found.add(api_key)
    for value in (headers or {}).values():
        text = str(value)
        found.add(text)
        _, _, token = text.partition(" ")
        found.add(token)
    if api_base:
        # A regex, not urlsplit: the URL may be malformed, and its secrets must go anyway.
        match = _URL_USER.match(api_base)
        userinfo = match.group(1) if match else ""
        if userinfo:
            found.add(userinfo)
            found.update(userinfo.split(":", 1))
            found.add(base64.b64encode(userinfo.encode()).decode())
            found.add(urllib.parse.unquote(userinfo))
    return frozenset(s for s in found if s)


def _usable(known: Iterable[str]) -> list[str]:
    # Longest first, so that a key containing another is masked whole.
    values = {v for v in known if len(v) >= _MIN_KNOWN and not _UNSAFE.search(v)}
    return sorted(values, key=len, reverse=True)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Return ``text`` with credentials replaced by ``[redacted]``.

    ``known`` adds values the caller knows to be secret (see :func:`request_secrets`); the
    values of credential environment variables are always masked. Keeps the name of what was
    removed ("Authorization: [redacted]") so a reader can tell a header was there. Idempotent,
    and safe on HTML and on JSON text (see the module docstring).

    >>> redact("401: Authorization: Bearer sk-abcdefghijklmnopqrstu rejected")
    '401: Authorization: [redacted] rejected'
    >>> redact("http://bob:hunter2@proxy:8080/v1?key=AIzaXYZ")
    'http://[redacted]@proxy:8080/v1?key=[redacted]'
    >>> redact("echo: k9X2pQ", known=["k9X2pQ"])
    'echo: [redacted]'
    """
    return _redact(text, _usable([*known, *env_secrets()]))


def _redact(text: str, values: Sequence[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text  # the common case, and much cheaper than the patterns
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\1\2{REDACTED}", text)
    text = _SHAPES.sub(REDACTED, text)
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


def trigger_hits(values: Sequence[str | None], known: Sequence[str] = ()) -> list[int]:
    """Indices of the values that contain a trigger substring or a known secret.

    The values are lower-cased and joined once, and each trigger located with ``str.find``,
    which is far faster than running the patterns over every value.
    """
    lowered = [v.lower() if v else "" for v in values]
    joined = "\x00".join(lowered)
    # starts[i] is where value i begins in ``joined``; a hit at p belongs to the last start <= p.
    starts = np.concatenate(([0], np.cumsum([len(v) + 1 for v in lowered])))
    hits: set[int] = set()
    for trigger in (*_TRIGGERS, *(k.lower() for k in known)):
        pos = joined.find(trigger)
        while pos != -1:
            index = int(np.searchsorted(starts, pos, side="right")) - 1
            hits.add(index)
            pos = joined.find(trigger, int(starts[index + 1]))
    return sorted(hits)


def redact_texts(values: Sequence[str | None], known: Iterable[str] = ()) -> list[str | None]:
    """Return :func:`redact` of each value (None stays None), fast on large columns."""
    secrets = _usable([*known, *env_secrets()])
    out = list(values)
    for index in trigger_hits(out, secrets):
        value = out[index]
        if value is not None:
            out[index] = _redact(value, secrets)
    return out


def redact_data(data: Any, known: Iterable[str] = ()) -> Any:
    """Return a copy of JSON-like ``data`` with :func:`redact` applied to every string.

    Values under a key that names a credential (``api_key``, ``authorization``, ``token``,
    ``extra_headers``…) are replaced whole, whatever they look like.
    """
    return _redact_data(data, _usable([*known, *env_secrets()]))


def _redact_data(data: Any, secrets: Sequence[str]) -> Any:
    if isinstance(data, str):
        return _redact(data, secrets)
    if isinstance(data, dict):
        return {
            k: REDACTED
            if _SECRET_KEY.search(str(k)) and v not in (None, "", {}, [])
            else _redact_data(v, secrets)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [_redact_data(v, secrets) for v in data]
    return data
