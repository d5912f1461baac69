"""The answers table: one row per answer a candidate or baseline model gave to an item.

Rows of older runs lack ``context`` and ``tool_calls``; they read as None (no context).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from evalkit.records._status import AnswerStatus

Role = Literal["candidate", "baseline"]


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """A model's answer to one dataset item.

    ``text`` is None unless ``status`` is ``ok``; ``error`` then says why, in words.
    """

    run_id: str
    suite: str
    item_id: str
    role: Role
    model: str
    family: str
    prompt: str
    text: str | None
    status: AnswerStatus
    error: str | None
    latency_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool
    #: model (or app) calls made for this answer, from the cache or not: one per turn of a
    #: conversation it accounts for, none for recorded answers or a call never made. Rows
    #: written before it was recorded read as one.
    calls: int = 1
    #: the provider's text could not be encoded and was repaired (U+FFFD in its place).
    text_repaired: bool = False
    #: a conversation item's messages as this model had them, its own answers included (the
    #: suite's system message left out); None for a single-turn item.
    transcript: tuple[Mapping[str, str], ...] | None = None
    #: what an app based its answer on (retrieved documents), when it said; judges see it.
    context: list[str] | None = None
    #: the tool calls an app reported making, as JSON objects.
    tool_calls: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a plain dict keyed by column name."""
        return dataclasses.asdict(self)


def context_text(documents: Sequence[str] | None, tool_calls: Sequence[Any] | None) -> str:
    """The context as judge templates see it: numbered documents, then the tool calls.

    >>> print(context_text(["Paris is in France.", "Lyon too."], [{"name": "search"}]))
    [1] Paris is in France.
    <BLANKLINE>
    [2] Lyon too.
    <BLANKLINE>
    tool call: {"name": "search"}
    """
    parts = [f"[{n}] {doc}" for n, doc in enumerate(documents or (), start=1)]
    parts += [f"tool call: {json.dumps(call, ensure_ascii=False)}" for call in tool_calls or ()]
    return "\n\n".join(parts)
