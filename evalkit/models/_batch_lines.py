"""The batch file formats, as pure functions: requests to JSONL lines, result lines to answers.

OpenAI's Batch API (and every OpenAI-compatible server that speaks it) takes one JSON line per
request, ``{"custom_id", "method": "POST", "url", "body"}``, where the body is exactly what the
interactive call would send, and returns one line per request in the output file (answers) or
the error file (failures): ``{"custom_id", "response": {"status_code", "body"}, "error"}``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from evalkit.errors import (
    AuthError,
    BadRequest,
    ModelError,
    ProviderUnavailable,
    RateLimited,
    TransientModelError,
)
from evalkit.models._litellm import RESERVED_PARAMS
from evalkit.models._types import Completion, ModelRequest

#: Request params that are not part of a batch line's body: those evalkit sets itself on an
#: interactive call, and the HTTP client's headers (a batch line carries none).
_NOT_BODY: Final = RESERVED_PARAMS | {"headers", "extra_headers"}
#: The error code of a line the provider did not reach before the batch expired.
EXPIRED_CODE: Final = "batch_expired"


def endpoint_url(request: ModelRequest) -> str:
    """The batch endpoint of ``request``'s style (one batch holds one endpoint only)."""
    return "/v1/chat/completions" if request.style == "chat" else "/v1/completions"


def request_line(custom_id: str, request: ModelRequest, model_name: str) -> dict[str, Any]:
    """The batch line asking ``request`` (``model_name``: the provider's name, no prefix)."""
    body: dict[str, Any] = {k: v for k, v in request.params.items() if k not in _NOT_BODY}
    extra = body.pop("extra_body", None)
    if isinstance(extra, Mapping):
        body.update(extra)
    body["model"] = model_name
    if request.style == "chat":
        body["messages"] = [dict(m) for m in request.messages]
    else:
        body["prompt"] = request.prompt
    return {"custom_id": custom_id, "method": "POST", "url": endpoint_url(request), "body": body}


def jsonl(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """Lines as a JSONL file's bytes."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


@dataclasses.dataclass(frozen=True, slots=True)
class LineResult:
    """What became of one request of a batch.

    Exactly one of ``completion`` (an answer, before pricing) and ``error`` is set, or
    neither when the batch ended before the provider reached the request (``unfinished``).
    """

    custom_id: str
    completion: Completion | None = None
    error: ModelError | None = None

    @property
    def unfinished(self) -> bool:
        """Whether the provider never got to this request (the batch expired first)."""
        return self.completion is None and self.error is None


def read_results(data: bytes, *, chat: bool, model: str, where: str) -> list[LineResult]:
    """Parse an output or error file into one result per line (pure; ``model`` names errors).

    A line that cannot be read becomes an error of its request rather than stopping the run,
    since the other lines are good answers already paid for.
    """
    results = []
    for raw in data.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            custom_id = str(line["custom_id"])
        except (ValueError, KeyError, TypeError):
            continue  # no custom_id: nothing to attach it to
        results.append(_result(custom_id, line, chat=chat, model=model, where=where))
    return results


def _result(
    custom_id: str, line: Mapping[str, Any], *, chat: bool, model: str, where: str
) -> LineResult:
    error = line.get("error")
    response = line.get("response")
    if isinstance(error, Mapping) and error.get("code") == EXPIRED_CODE:
        return LineResult(custom_id)
    if not isinstance(response, Mapping):
        message = error.get("message") if isinstance(error, Mapping) else None
        return LineResult(
            custom_id,
            error=TransientModelError(
                f"{where} returned no answer for {model} in the batch: {message or 'no response'}"
            ),
        )
    status = int(response.get("status_code") or 0)
    body = response.get("body")
    if status != 200:
        return LineResult(custom_id, error=_status_error(status, body, model, where))
    try:
        return LineResult(custom_id, completion=_completion(body, chat=chat))
    except (KeyError, IndexError, TypeError, ValueError):
        return LineResult(
            custom_id,
            error=TransientModelError(
                f"{where} returned a malformed batch answer for {model} (no choices)"
            ),
        )


def _completion(body: Any, *, chat: bool) -> Completion:
    choice = body["choices"][0]
    text = choice["message"]["content"] if chat else choice["text"]
    usage = body.get("usage") or {}
    return Completion(
        text=text or "",
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        cost_usd=0.0,  # priced by the caller, at the batch price
        latency_s=0.0,  # a batch line has no latency of its own
        finish_reason=choice.get("finish_reason"),
    )


def _status_error(status: int, body: Any, model: str, where: str) -> ModelError:
    """The evalkit error for a batch line the provider answered with ``status``."""
    detail = body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        detail = body["error"].get("message", body)
    said = f"{where} answered {model}'s batch request with HTTP {status}: {detail}"
    if status == 429:
        return RateLimited(said, None)
    if status >= 500 or status in (0, 408):
        return ProviderUnavailable(said)
    if status in (401, 403):
        return AuthError(f"{said}; check the API key and its permissions")
    return BadRequest(f"{said}; check the messages and sampling parameters")
