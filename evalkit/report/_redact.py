"""Scrubbing credentials out of everything the report shows.

A report is shared (attached to a CI run, pasted into a review), and most of what it shows was
not written by evalkit: error messages from providers, which sometimes echo the request's
headers; model answers; config values such as an ``api_base`` with a password in it. So every
string read from the run folder goes through :func:`redact` (one at a time) or
:func:`redact_texts` (a whole column) before it reaches a template.

The patterns only ever match runs of characters that are neither quotes, backslashes, ``<``,
``&`` nor whitespace, and replace them with plain letters, so a redaction cannot change how
the text is escaped later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # api_key=xyz, "access_token": "xyz", password=xyz, ?key=xyz in a URL.
    re.compile(
        r"(?i)\b(api_?key|access_?token|refresh_?token|client_?secret|secret_?key|password"
        r"|passwd|aws_secret_access_key)([\"']?\s*[:=]\s*[\"']?)" + _TOKEN
    ),
    re.compile(r"(?i)([?&](?:key|token|sig|signature))(=)[^\s\"'\\<>&#]+"),
)
# Key formats recognisable on their own, wherever they appear.
_SHAPES: Final = re.compile(
    r"\bsk-[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic (sk-ant-...)
    r"|\bAIza[0-9A-Za-z_-]{35}"  # Google
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub
    r"|\bhf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
)
# user:password@ in a URL.
_USERINFO: Final = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s\"'\\<>&@:]+:[^/\s\"'\\<>&@]+@")


# Every match of the patterns above contains one of these (lower-cased), so text without any of
# them is left alone without running a regex: scanning megabytes of model output with the
# patterns themselves takes seconds, a substring search takes milliseconds.
_TRIGGERS: Final = (
    "authorization", "api-key", "apikey", "api_key", "bearer", "accesstoken", "access_token",
    "refreshtoken", "refresh_token", "secret", "password", "passwd", "key=", "token=", "sig=",
    "signature=", "sk-", "aiza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "hf_", "xox", "akia",
    "://",
)  # fmt: skip

#: Keys (in run.json, a header dict) whose values are replaced whole, whatever they look like.
_SECRET_KEY: Final = re.compile(
    r"(?i)(api_?key|authorization|password|passwd|secret|(^|_)token$|access_?token|credential)"
)


def redact(text: str) -> str:
    """Return ``text`` with API keys, auth headers and URL passwords replaced by ``[redacted]``.

    Keeps the name of what was removed ("Authorization: [redacted]") so a reader can tell a
    header was there. Idempotent, and safe on HTML and on JSON text (see the module docstring).

    >>> redact("401: Authorization: Bearer sk-abcdefghijklmnopqrstu rejected")
    '401: Authorization: [redacted] rejected'
    >>> redact("http://bob:hunter2@proxy:8080/v1?key=AIzaXYZ")
    'http://[redacted]@proxy:8080/v1?key=[redacted]'
    """
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text  # the common case, and much cheaper than the patterns
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\1\2{REDACTED}", text)
    text = _SHAPES.sub(REDACTED, text)
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


def trigger_hits(values: Sequence[str | None]) -> list[int]:
    """Indices of the values that contain a trigger substring, i.e. might hold a secret.

    The values are lower-cased and joined once, and each trigger located with ``str.find``,
    which is far faster than running the patterns over every value.
    """
    lowered = [v.lower() if v else "" for v in values]
    joined = "\x00".join(lowered)
    # starts[i] is where value i begins in ``joined``; a hit at p belongs to the last start <= p.
    starts = np.concatenate(([0], np.cumsum([len(v) + 1 for v in lowered])))
    hits: set[int] = set()
    for trigger in _TRIGGERS:
        pos = joined.find(trigger)
        while pos != -1:
            index = int(np.searchsorted(starts, pos, side="right")) - 1
            hits.add(index)
            pos = joined.find(trigger, int(starts[index + 1]))
    return sorted(hits)


def redact_texts(values: Sequence[str | None]) -> list[str | None]:
    """Return :func:`redact` of each value (None stays None), fast on large columns."""
    out = list(values)
    for index in trigger_hits(out):
        value = out[index]
        if value is not None:
            out[index] = redact(value)
    return out


def redact_data(data: Any) -> Any:
    """Return a copy of JSON-like ``data`` with :func:`redact` applied to every string.

    Values under a key that names a credential (``api_key``, ``authorization``, ``token``…) are
    replaced whole, whatever they look like.
    """
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {
            k: REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact_data(v)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact_data(v) for v in data]
    return data
