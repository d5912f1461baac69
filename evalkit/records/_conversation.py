"""Conversations in dataset rows: a chat so far (``messages``) or user turns to answer (``turns``).

Both become one :class:`Conversation`: fixed ``prefix`` messages, then the user ``turns`` the
model answers one after another, each after its own earlier answers. A ``messages`` row is a
prefix (every message but the last) and one turn (the last, a user message); an MT-Bench-style
``turns`` row has no prefix and one turn per user string. Rows are checked here, when the
dataset is read, so that a malformed conversation is reported before any model call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from evalkit.errors import DatasetError

#: The dataset fields that hold a conversation; a row holds at most one of them.
CONVERSATION_FIELDS: Final = ("messages", "turns")
#: The roles a ``messages`` entry may have.
MESSAGE_ROLES: Final = ("system", "user", "assistant")
#: A chat message as a request carries it: ``{"role": ..., "content": ...}``.
Message = Mapping[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Conversation:
    """A row's conversation: ``prefix`` messages, then ``turns`` the model answers in order.

    ``first_turn`` (1-based) is the first turn whose call this item accounts for: 1, unless
    the item is one turn of a conversation judged turn by turn (see :func:`split_turns`),
    whose earlier turns are accounted for by the items of those turns.
    """

    prefix: tuple[Message, ...]
    turns: tuple[str, ...]
    first_turn: int = 1

    @property
    def question(self) -> str:
        """The user turn whose answer is judged: the last one."""
        return self.turns[-1]


def _is_list(value: Any) -> bool:
    # Parquet gives lists as numpy arrays.
    return isinstance(value, list | tuple | np.ndarray)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value == "")


def _messages(value: Any, where: str) -> list[Message]:
    hint = 'write it as a JSON list like [{"role": "user", "content": "..."}]'
    if not _is_list(value):
        raise DatasetError(
            f"{where}: field 'messages' must be a list of {{role, content}} objects, "
            f"not {type(value).__name__}; {hint}"
        )
    if len(value) == 0:
        raise DatasetError(f"{where}: field 'messages' is empty; {hint}")
    out: list[Message] = []
    for index, message in enumerate(value):
        field = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise DatasetError(
                f"{where}: field {field!r} must be an object with 'role' and 'content', "
                f"not {type(message).__name__}"
            )
        extra = sorted(set(message) - {"role", "content"})
        if extra:
            raise DatasetError(
                f"{where}: field {field!r} has {', '.join(map(repr, extra))}; a message holds "
                "only 'role' and 'content'"
            )
        role = message.get("role")
        if role not in MESSAGE_ROLES:
            raise DatasetError(
                f"{where}: field '{field}.role' is {role!r}; use one of {', '.join(MESSAGE_ROLES)}"
            )
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise DatasetError(
                f"{where}: field '{field}.content' is empty or not text; write the "
                "message's text, or remove the message"
            )
        out.append({"role": str(role), "content": content})
    last = out[-1]["role"]
    if last != "user":
        raise DatasetError(
            f"{where}: field 'messages' ends with a {last!r} message; the last message must be "
            "the user turn the model answers: remove the trailing message or add a user one"
        )
    return out


def _turns(value: Any, where: str) -> list[str]:
    hint = 'write it as a JSON list of the user\'s messages, like ["...", "..."]'
    if not _is_list(value):
        raise DatasetError(
            f"{where}: field 'turns' must be a list of user messages, "
            f"not {type(value).__name__}; {hint}"
        )
    if len(value) == 0:
        raise DatasetError(f"{where}: field 'turns' is empty; {hint}")
    for index, turn in enumerate(value):
        if not isinstance(turn, str) or not turn.strip():
            raise DatasetError(
                f"{where}: field 'turns[{index}]' is empty or not text; write the user's "
                "message for that turn, or remove it"
            )
    return [str(turn) for turn in value]


def read_conversation(row: Mapping[str, Any], where: str) -> Conversation | None:
    """The row's conversation, or None when it holds neither ``messages`` nor ``turns``.

    Raises:
        DatasetError: the row holds both, or the one it holds is malformed (not a list, empty,
            an unknown role, an empty message or turn, a ``messages`` list that does not end
            with a user message); the message names ``where`` and the field.
    """
    present = [name for name in CONVERSATION_FIELDS if _present(row.get(name))]
    if len(present) == 2:
        raise DatasetError(
            f"{where}: the row has both 'messages' and 'turns'; keep one: 'messages' for a "
            "chat ending with the user turn to answer, 'turns' for user turns the model "
            "answers one after another"
        )
    if not present:
        return None
    if present[0] == "messages":
        messages = _messages(row["messages"], where)
        return Conversation(prefix=tuple(messages[:-1]), turns=(messages[-1]["content"],))
    return Conversation(prefix=(), turns=tuple(_turns(row["turns"], where)))


def turn_id(item_id: str, turn: int) -> str:
    """The id of one turn of an item judged turn by turn.

    >>> turn_id("trip", 2)
    'trip#t2'
    """
    return f"{item_id}#t{turn}"


def earlier(transcript: Sequence[Message] | None) -> list[Message] | None:
    """The messages before the judged exchange (the last user turn and the answer to it).

    None when there is no transcript (a single-turn item).

    >>> earlier([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
    ...          {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}])
    [{'role': 'user', 'content': 'a'}, {'role': 'assistant', 'content': 'b'}]
    """
    if transcript is None:
        return None
    return [dict(m) for m in transcript[:-2]]
