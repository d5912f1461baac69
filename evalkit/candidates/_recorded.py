"""Recorded answers as the candidate: judged without generating anything.

``evalkit.recorded(column="answer")`` takes each item's answer from a column of the suite's
dataset; ``evalkit.recorded(file="answers.jsonl", id_field="id", answer_field="answer")``
from a JSONL, CSV or Parquet file keyed by item id (answers exported from production logs or
from another tool). :meth:`Recorded.load` matches them with the dataset's items before any
call: an answer for an id the dataset lacks, two answers for one id, or an item without an
answer is refused, naming the file and the ids, so that no item is ever silently dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from evalkit.candidates._answer import MAX_ANSWER_BYTES, AppAnswer
from evalkit.errors import DatasetError, UsageError
from evalkit.models._families import UNKNOWN
from evalkit.records._dataset import Item, _read_rows
from evalkit.records._family import family_name

#: How many ids a message lists before it says how many more there are.
SHOWN_IDS: Final = 5


@dataclasses.dataclass(frozen=True)
class Recorded:
    """Answers that already exist (made by :func:`recorded`, which checks the arguments)."""

    column: str | None = None
    file: Path | str | None = None
    id_field: str = "id"
    answer_field: str = "answer"
    #: a field holding what the answer was based on (a text or a list of texts), if any.
    context_field: str | None = None
    name: str | None = None
    family: str = UNKNOWN

    @property
    def label(self) -> str:
        """How the tables name the candidate: its name, else ``recorded:<file or column>``."""
        if self.name:
            return self.name
        source = Path(self.file).name if self.file is not None else self.column
        return f"recorded:{source}"

    def load(self, items: Sequence[Item], base_dir: Path, dataset: Path) -> dict[str, AppAnswer]:
        """Each item's recorded answer, by item id; every item has exactly one.

        Raises:
            DatasetError: the file is missing or unreadable, a row lacks its id or answer,
                an id is not in ``dataset`` or appears twice, or an item has no answer; the
                message names the file, the ids and what to do.
        """
        if self.column is not None:
            return self._from_column(items, dataset)
        assert self.file is not None
        path = Path(self.file)
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise DatasetError(
                f"{path}: recorded answers file not found; check evalkit.recorded(file=...) "
                "(relative to the suite's folder)"
            )
        answers: dict[str, AppAnswer] = {}
        lines: dict[str, int] = {}
        duplicates: dict[str, list[int]] = {}
        for row in _read_rows(path):
            line = row.pop("__line__")
            raw_id = row.get(self.id_field)
            if raw_id is None or str(raw_id).strip() == "":
                raise DatasetError(
                    f"{path}:{line}: no {self.id_field!r} field; every answer needs the id of "
                    "its dataset item (set id_field=...)"
                )
            item_id = str(raw_id)
            if item_id in lines:
                duplicates.setdefault(item_id, [lines[item_id]]).append(line)
                continue
            lines[item_id] = line
            answers[item_id] = self._answer(row, f"{path}:{line}", self.answer_field)
        if duplicates:
            listed = "; ".join(f"{i!r} on rows {', '.join(map(str, rows))}"
                               for i, rows in list(duplicates.items())[:SHOWN_IDS])  # fmt: skip
            raise DatasetError(
                f"{path}: {len(duplicates)} id(s) have more than one answer: {listed}"
                f"{_more(duplicates)}; keep one answer per item"
            )
        known = {item.id for item in items}
        unknown = [i for i in answers if i not in known]
        if unknown:
            raise DatasetError(
                f"{path}: {len(unknown)} answer(s) for ids that are not in {dataset}: "
                f"{_ids(unknown)}; fix their ids, or remove them from the file"
            )
        missing = [item.id for item in items if item.id not in answers]
        if missing:
            raise DatasetError(
                f"{path}: no answer for {len(missing)} item(s) of {dataset}: {_ids(missing)}; "
                "add their answers, or remove those items from the dataset"
            )
        return answers

    def _from_column(self, items: Sequence[Item], dataset: Path) -> dict[str, AppAnswer]:
        assert self.column is not None
        missing = [i.id for i in items if not _text(i.fields.get(self.column))]
        if missing:
            raise DatasetError(
                f"{dataset}: {len(missing)} item(s) have no {self.column!r} answer: "
                f"{_ids(missing)}; fill the column, or remove those items"
            )
        return {
            i.id: self._answer(dict(i.fields), f"{dataset}, item {i.id!r}", self.column)
            for i in items
        }

    def _answer(self, row: Mapping[str, Any], where: str, field: str) -> AppAnswer:
        text = row.get(field)
        if not _text(text):
            raise DatasetError(f"{where}: field {field!r} must hold the answer as non-empty "
                               "text")  # fmt: skip
        assert isinstance(text, str)
        if len(text.encode("utf-8", "replace")) > MAX_ANSWER_BYTES:
            raise DatasetError(f"{where}: the answer in {field!r} is over "
                               f"{MAX_ANSWER_BYTES:,} bytes; record the answer only")  # fmt: skip
        context = row.get(self.context_field) if self.context_field else None
        if context is not None and not isinstance(context, str):
            context = [str(doc) for doc in context]
        return AppAnswer(text, context=context or None)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


def _more(found: Mapping[str, Any]) -> str:
    return f" and {len(found) - SHOWN_IDS} more" if len(found) > SHOWN_IDS else ""


def recorded(
    *,
    column: str | None = None,
    file: Path | str | None = None,
    id_field: str = "id",
    answer_field: str = "answer",
    context_field: str | None = None,
    name: str | None = None,
    family: str | None = None,
) -> Recorded:
    """Judge answers that already exist: a dataset ``column``, or a ``file`` keyed by item id.

    ``file`` (JSONL, CSV or Parquet; relative to the suite's folder) holds one row per item,
    with the item's id in ``id_field`` and the answer in ``answer_field``. ``context_field``
    names a field with what the answer was based on, for judges that check faithfulness.
    ``family`` is the family of the model that wrote the answers, when known.

    Raises:
        UsageError: neither or both of ``column`` and ``file`` are given.
    """
    if (column is None) == (file is None):
        raise UsageError(
            "evalkit.recorded() needs either column='answer' (a dataset column) or "
            "file='answers.jsonl' (answers keyed by item id), not "
            + ("both" if column is not None else "neither")
        )
    return Recorded(
        column=column, file=file, id_field=id_field, answer_field=answer_field,
        context_field=context_field, name=name, family=family_name(family) or UNKNOWN,
    )  # fmt: skip
