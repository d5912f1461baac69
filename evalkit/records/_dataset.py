"""Eval datasets: rows from a JSONL, CSV or Parquet file, validated before any call is made.

Each row becomes an :class:`Item`. Every problem is reported with the file, the row (1-based,
as an editor shows it) and the field, so that the user can go straight to it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from evalkit.errors import DatasetError
from evalkit.records._conversation import Conversation, read_conversation, turn_id
from evalkit.records._family import family_name

#: Longest text field accepted; longer ones are almost always a mistake (a whole file pasted).
MAX_FIELD_CHARS: Final = 100_000
#: Optional fields with a meaning to evalkit.
KNOWN_FIELDS: Final = (
    "id", "reference", "human_label", "tags", "generator_family", "messages", "turns",
)  # fmt: skip
HUMAN_LABELS: Final = ("candidate", "baseline", "tie")


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    """One dataset row: its id and every field, as read.

    ``conversation`` is set when the row holds ``messages`` or ``turns`` (see
    :mod:`evalkit.records._conversation`): the model answers it instead of the suite's prompt.
    """

    id: str
    fields: Mapping[str, Any]
    conversation: Conversation | None = None

    @property
    def human_label(self) -> str | None:
        """A human's pairwise verdict for this item, when the dataset has one."""
        value = self.fields.get("human_label")
        return None if value is None or value == "" else str(value)

    @property
    def generator_family(self) -> str | None:
        """The family of the model that wrote this item, when the dataset says."""
        value = self.fields.get("generator_family")
        return family_name(value)

    @property
    def tags(self) -> tuple[str, ...]:
        """The item's tags (a list, or a comma-separated string in CSV files)."""
        value = self.fields.get("tags")
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return tuple(str(t) for t in value)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(
                f"{path}: not UTF-8 text (byte {exc.start}); re-save the file as UTF-8"
            ) from None
        rows = []
        # Only "\n" ends a JSONL record: str.splitlines would also split a string holding a raw
        # U+2028, U+0085 or form feed, all of which JSON allows unescaped. A "\r" before the
        # "\n" is whitespace to json.loads.
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{path}:{number}: expected a JSON object per line")
            rows.append({"__line__": number, **row})
        return rows
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            offset = 2  # line 1 is the header
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
            offset = 1
        else:
            raise DatasetError(
                f"{path}: unsupported dataset type {suffix!r}; use .jsonl, .csv or .parquet"
            )
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
    except ImportError as exc:
        raise DatasetError(
            f"{path}: reading Parquet needs pyarrow, which is not installed ({exc}); "
            "run `pip install pyarrow`, or save the dataset as .jsonl or .csv"
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DatasetError(f"{path}: could not be read ({exc})") from None
    records = frame.to_dict(orient="records")
    return [
        {"__line__": i + offset, **{str(k): v for k, v in r.items()}} for i, r in enumerate(records)
    ]


def _strings(value: Any, field: str) -> Iterator[tuple[str, str]]:
    """Every string in ``value``, however deeply nested, with its path (``ctx.docs[2]``)."""
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _strings(inner, f"{field}.{key}")
    elif isinstance(value, list | tuple | np.ndarray):
        # Parquet gives nested lists as numpy arrays.
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{field}[{index}]")


def _check_text(value: Any, name: str, where: str) -> None:
    r"""Refuse a string (at any depth of ``value``) that is too long or not valid Unicode.

    Both would otherwise be found at the provider, after calls were spent: a huge field makes
    a huge request, and a lone surrogate (a JSON ``\ud800``-style escape) cannot be encoded.

    Raises:
        DatasetError: naming ``where`` (file and row) and the field's path.
    """
    for path, text in _strings(value, name):
        if len(text) > MAX_FIELD_CHARS:
            raise DatasetError(
                f"{where}: field {path!r} is {len(text):,} characters "
                f"(limit {MAX_FIELD_CHARS:,}); shorten it or split the item"
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DatasetError(
                f"{where}: field {path!r} holds {text[exc.start]!a} at character {exc.start}, "
                "half of a surrogate pair, which is not valid Unicode; remove it or write the "
                "whole character"
            ) from None


def load_dataset(
    path: Path,
    *,
    required: Iterable[str] = ("question",),
    conversation_required: Iterable[str] = (),
) -> tuple[Item, ...]:
    """Read and validate a dataset.

    Each row needs every ``required`` field as non-empty text; a row holding a conversation
    (``messages`` or ``turns``) is asked instead of the suite's prompt, and needs the
    ``conversation_required`` fields instead. ``id`` is optional; without it a
    row's id is ``row-<n>``. Ids must be unique. ``human_label``, when present, must be one of
    candidate / baseline / tie.

    Raises:
        DatasetError: the file is missing, empty, unreadable, or a row is invalid; the
            message names the file, the row and the field.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: dataset file not found; check the suite's dataset path")
    rows = _read_rows(path)
    if not rows:
        raise DatasetError(f"{path}: the dataset is empty; add at least one row")
    needed, needed_by_conversations = tuple(required), tuple(conversation_required)
    items: list[Item] = []
    seen: dict[str, int] = {}
    for row in rows:
        line = row.pop("__line__")
        where = f"{path}:{line}"
        conversation = read_conversation(row, where)
        for name in needed if conversation is None else needed_by_conversations:
            value = row.get(name)
            if name not in row:
                raise DatasetError(f"{where}: missing field {name!r} (the suite's prompt uses it)")
            if not isinstance(value, str) or not value.strip():
                raise DatasetError(f"{where}: field {name!r} must be non-empty text")
        for name, value in row.items():
            _check_text(value, name, where)
        label = row.get("human_label")
        if label not in (None, "") and label not in HUMAN_LABELS:
            raise DatasetError(
                f"{where}: field 'human_label' is {label!r}; use one of {', '.join(HUMAN_LABELS)}"
            )
        raw_id = row.get("id")
        item_id = f"row-{line}" if raw_id is None or raw_id == "" else str(raw_id)
        if item_id in seen:
            raise DatasetError(
                f"{where}: duplicate id {item_id!r} (first used on row {seen[item_id]}); "
                "ids must be unique"
            )
        seen[item_id] = line
        items.append(Item(id=item_id, fields=row, conversation=conversation))
    return tuple(items)


def split_turns(items: Sequence[Item], path: Path) -> tuple[Item, ...]:
    """Items judged turn by turn: a conversation of n user turns becomes n items.

    Item ``<id>#t<k>`` holds the conversation up to turn k, so that its answer is the answer
    to turn k and the audit, the panel and the gates treat each turn as an item of its own.
    Items with one turn, or no conversation, are kept as they are.

    Raises:
        DatasetError: a turn's id is already the id of another row.
    """
    out: list[Item] = []
    for item in items:
        talk = item.conversation
        if talk is None or len(talk.turns) == 1:
            out.append(item)
            continue
        for k in range(1, len(talk.turns) + 1):
            turns = dataclasses.replace(talk, turns=talk.turns[:k], first_turn=k)
            out.append(Item(id=turn_id(item.id, k), fields=item.fields, conversation=turns))
    seen: set[str] = set()
    for item in out:
        if item.id in seen:
            raise DatasetError(
                f"{path}: id {item.id!r} is used twice once conversations are split into one "
                "item per turn (judge_turns='each'); rename the row with that id"
            )
        seen.add(item.id)
    return tuple(out)
