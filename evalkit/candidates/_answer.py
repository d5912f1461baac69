"""What a candidate application returns: its answer text, and what it based the answer on.

An app returns a plain ``str`` or an :class:`AppAnswer`. :func:`checked` turns either into an
:class:`AppAnswer` or raises :class:`~evalkit.errors.AppFailed` saying what was wrong, so
that every way an app can misbehave becomes one failed answer row with its reason.
:func:`encode` and :func:`decode` carry an answer through the response cache, whose entries
hold one text: the envelope is JSON, so the context comes back with the text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from evalkit.errors import AppFailed

#: The largest answer accepted, in UTF-8 bytes: a longer one is almost surely a bug (a whole
#: document returned), and it would be copied into every judge prompt.
MAX_ANSWER_BYTES: Final = 1_000_000
#: The largest context accepted, in UTF-8 bytes of its JSON.
MAX_CONTEXT_BYTES: Final = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class AppAnswer:
    """An application's answer to one item, with what it retrieved and what it spent.

    ``context`` is what the answer should be faithful to (retrieved documents: one text, or
    a list of texts); ``tool_calls`` are the calls the app made, as JSON-like dicts. Both land
    in the answers table, are shown in the report's item drill-down and reach judge templates
    as ``context``. Token counts and cost are the app's own, when it knows them.
    """

    text: str
    context: str | Sequence[str] | None = None
    tool_calls: Sequence[Mapping[str, Any]] | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def documents(self) -> tuple[str, ...] | None:
        """The context as a tuple of texts (None when the app gave none)."""
        if self.context is None:
            return None
        if isinstance(self.context, str):
            return (self.context,)
        return tuple(str(doc) for doc in self.context)


def checked(result: object, where: str) -> AppAnswer:
    """Return ``result`` (a ``str`` or an :class:`AppAnswer`) as a usable :class:`AppAnswer`.

    ``where`` names the app and the item for the message.

    Raises:
        AppFailed: the result is None, not text, empty, over :data:`MAX_ANSWER_BYTES`, or
            its context or tool calls cannot be stored as JSON.
    """
    if isinstance(result, str):
        result = AppAnswer(result)
    if result is None:
        raise AppFailed(f"{where} returned None; return the answer text (a str) or an AppAnswer")
    if not isinstance(result, AppAnswer):
        raise AppFailed(
            f"{where} returned a {type(result).__name__}, not a str or AppAnswer; return the "
            "answer text, or evalkit.AppAnswer(text, context=...)"
        )
    if not isinstance(result.text, str):
        raise AppFailed(f"{where} returned an AppAnswer whose text is a "
                        f"{type(result.text).__name__}; give the answer as a str")  # fmt: skip
    size = len(result.text.encode("utf-8", "replace"))
    if size > MAX_ANSWER_BYTES:
        raise AppFailed(
            f"{where} returned {size:,} bytes of text, over the {MAX_ANSWER_BYTES:,}-byte "
            "limit; return the answer only (put documents in AppAnswer.context)"
        )
    if not result.text.strip():
        raise AppFailed(f"{where} returned an empty answer")
    try:
        extra = json.dumps([result.documents(), _calls(result.tool_calls)], ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise AppFailed(f"{where}: its context or tool_calls are not JSON ({exc}); give "
                        "texts, and dicts of plain values") from None  # fmt: skip
    if len(extra.encode("utf-8", "replace")) > MAX_CONTEXT_BYTES:
        raise AppFailed(f"{where}: its context and tool calls are over "
                        f"{MAX_CONTEXT_BYTES:,} bytes; return the passages used, not whole "
                        "documents")  # fmt: skip
    return result


def _calls(calls: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if calls is None else [dict(call) for call in calls]


def encode(answer: AppAnswer) -> str:
    """The answer as one JSON text, to be cached and later :func:`decode`-d."""
    return json.dumps(
        {"text": answer.text, "context": answer.documents(),
         "tool_calls": _calls(answer.tool_calls)},
        ensure_ascii=False,
    )  # fmt: skip


def decode(text: str) -> AppAnswer:
    """Read back what :func:`encode` wrote (token counts and cost travel beside it).

    Raises:
        AppFailed: ``text`` is not an encoded answer (a damaged cache entry).
    """
    try:
        data = json.loads(text)
        return AppAnswer(str(data["text"]), context=data.get("context"),
                         tool_calls=data.get("tool_calls"))  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        raise AppFailed(f"a cached app answer could not be read ({exc}); rerun with "
                        "--evalkit-cache-mode=refresh") from None  # fmt: skip
