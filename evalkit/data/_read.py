"""Read one text column of a JSONL, CSV or Parquet file: the data audit's only file reader.

Only the needed column is read, a chunk of rows at a time, and every other field is dropped as
it goes. A file with more texts than the sample asked for is read twice (once to count its
texts, once to keep the seeded sample of them), so that memory holds the sample, never the
file. Every problem is one :class:`~evalkit.errors.DatasetError` naming the file and field.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from evalkit.data._sample import sample_positions
from evalkit.errors import DatasetError

#: Field names tried, in order, when none is given.
TEXT_FIELDS: Final = ("question", "input", "text", "message", "prompt", "query")
#: A column saying which kind of request each text is; read beside the texts when present.
TAG_FIELD: Final = "tag"
#: How a text without a tag is counted.
NO_TAG: Final = "(no tag)"
_CHUNK: Final = 50_000


@dataclasses.dataclass(frozen=True, slots=True)
class Texts:
    """The texts read from ``path``'s ``field``, and how many rows were left out and why."""

    path: Path
    field: str
    texts: list[str]
    rows: int
    skipped_empty: int
    skipped_not_text: int
    sampled_from: int | None = None
    #: each text's value of the file's tag column (:data:`TAG_FIELD`), when it has one.
    tags: list[str] | None = None

    def note(self) -> str:
        """One line on what was read: rows, skipped rows, sampling."""
        parts = [f"{self.path}: {len(self.texts)} texts from field {self.field!r}"]
        if self.sampled_from is not None:
            parts.append(f"a seeded sample of {self.sampled_from}")
        if self.skipped_empty:
            parts.append(f"{self.skipped_empty} empty or missing left out")
        if self.skipped_not_text:
            parts.append(f"{self.skipped_not_text} not text (numbers, lists) left out")
        return "; ".join(parts)


def _columns(path: Path, suffix: str) -> list[str]:
    if suffix == ".csv":
        return [str(c) for c in pd.read_csv(path, nrows=0, encoding="utf-8").columns]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return [str(c) for c in pq.ParquetFile(path).schema_arrow.names]
    first = pd.read_json(path, lines=True, nrows=1, dtype=False, encoding="utf-8")
    return [str(c) for c in first.columns]


def _chunks(path: Path, suffix: str, fields: list[str]) -> Iterator[pd.DataFrame]:
    """The values of ``fields``, :data:`_CHUNK` rows at a time: no file is held whole."""
    if suffix == ".csv":
        with pd.read_csv(
            path, usecols=fields, dtype=str, keep_default_na=False, encoding="utf-8",
            chunksize=_CHUNK,
        ) as reader:  # fmt: skip
            for frame in reader:
                yield frame[fields]
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=_CHUNK, columns=fields):
            yield batch.to_pandas()[fields]
    else:
        with pd.read_json(
            path, lines=True, dtype=False, chunksize=_CHUNK, encoding="utf-8"
        ) as reader:
            for chunk in reader:
                yield chunk.reindex(columns=fields).astype(object)


@dataclasses.dataclass(frozen=True, slots=True)
class _Part:
    """One chunk's values sorted out: its texts, and how many rows were left out and why."""

    texts: pd.Series
    rows: int
    missing: int
    not_text: int
    has_letter: bool
    tags: pd.Series | None = None


def _sort_out(frame: pd.DataFrame) -> _Part:
    """The first column's texts, and the second column's tags of those rows, if there is one."""
    values = frame.iloc[:, 0]
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        is_text = values.notna()  # CSV, and most files: every value is text or missing
    else:  # a column mixing text with numbers or lists: only here is each value looked at
        is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
    missing = values.isna() | (is_text & (values.astype(str).str.strip() == ""))
    not_text = ~is_text & ~missing
    kept = values[is_text & ~missing].astype(str)
    tags = None
    if frame.shape[1] > 1:
        raw = frame.iloc[:, 1][is_text & ~missing]
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        tags = raw.astype(str).str.strip().where(~blank, NO_TAG)
    return _Part(
        kept, len(values), int(missing.sum()), int(not_text.sum()),
        bool(kept.str.contains(r"[^\W\d_]").any()), tags,
    )  # fmt: skip


def _bad_json_line(path: Path) -> str | None:
    """``FILE:LINE: why`` for the first line that is not a JSON object, if there is one."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                return f"{path}:{number}: not valid JSON ({exc.msg})"
            if not isinstance(row, dict):
                return f"{path}:{number}: expected a JSON object per line"
    return None


def _unreadable(path: Path, suffix: str, exc: Exception) -> DatasetError:
    """The one message for a file pandas or pyarrow could not read."""
    if isinstance(exc, UnicodeDecodeError):
        return DatasetError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8")
    where = _bad_json_line(path) if suffix == ".jsonl" else None
    if where is not None:
        return DatasetError(f"{where}; fix or remove that line")
    return DatasetError(f"{path}: could not be read ({exc})")


def text_field(path: Path, field: str | None = None, *, option: str = "--field") -> str:
    """The field of ``path`` that :func:`read_texts` reads, checked without reading the file.

    Reads only the header (the first row of a JSONL file), so a suite can check its inputs
    before any call however large the file is. ``option`` is how the user names the field
    (``--field`` on the command line, ``field=`` in a suite) in the messages.

    Raises:
        DatasetError: the file is missing, unreadable or of another type, or has no such field
            (no field of :data:`TEXT_FIELDS` when ``field`` is None).
    """
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; check the path")
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise DatasetError(
            f"{path}: unsupported file type {suffix!r}; use .jsonl, .csv or .parquet"
        )
    try:
        columns = _columns(path, suffix)
    except (UnicodeDecodeError, ValueError, OSError, pd.errors.ParserError) as exc:
        raise _unreadable(path, suffix, exc) from None
    if field is None:
        found = [name for name in TEXT_FIELDS if name in columns]
        if not found:
            raise DatasetError(
                f"{path}: no text field named {', '.join(TEXT_FIELDS)}; pass {option} "
                f"with one of its columns: {', '.join(columns) or '(none)'}"
            )
        return found[0]
    if suffix != ".jsonl" and field not in columns:
        raise DatasetError(
            f"{path}: no field {field!r}; its columns are {', '.join(columns) or '(none)'}"
        )
    return field


def read_texts(
    path: Path,
    field: str | None = None,
    *,
    sample: int | None = None,
    seed: int = 0,
    option: str = "--field",
    tags: bool = False,
) -> Texts:
    """The non-empty text values of ``field`` in ``path``, optionally a seeded sample of them.

    Without ``field``, the first of :data:`TEXT_FIELDS` the file has is used; ``option`` is
    how the user names the field, in the messages (see :func:`text_field`). With ``tags``,
    the :data:`TAG_FIELD` column is read beside the texts when the file has one (a row
    without a tag is :data:`NO_TAG`).

    Raises:
        DatasetError: the file is missing, unreadable or of another type, the field is absent
            or holds no text; the message names the file and the field.
    """
    if sample is not None and sample < 1:
        raise DatasetError(f"--sample {sample}: give a number of rows of at least 1")
    field = text_field(path, field, option=option)
    suffix = path.suffix.lower()
    fields = [field]
    if tags and field != TAG_FIELD and TAG_FIELD in _columns(path, suffix):
        fields.append(TAG_FIELD)
    rows = missing = not_text = n_texts = 0
    has_letter = False
    held: list[str] = []  # every text, as long as all of them may be needed
    held_tags: list[str] = []
    try:
        for part in map(_sort_out, _chunks(path, suffix, fields)):
            rows, missing = rows + part.rows, missing + part.missing
            not_text += part.not_text
            has_letter |= part.has_letter
            n_texts += len(part.texts)
            if sample is None or n_texts <= sample:
                held.extend(part.texts.tolist())
                held_tags.extend([] if part.tags is None else part.tags.tolist())
            else:
                held, held_tags = [], []  # more texts than the sample: drawn on a second pass
        sampled_from = None
        if sample is not None and n_texts > sample:
            positions = sample_positions(n_texts, sample, seed)
            held, held_tags = _pick(path, suffix, fields, positions)
            sampled_from = n_texts
    except (UnicodeDecodeError, ValueError, OSError, pd.errors.ParserError) as exc:
        raise _unreadable(path, suffix, exc) from None
    # A CSV column of ids or numbers reads as strings; without a letter anywhere it is not text.
    if n_texts and not has_letter:
        raise DatasetError(
            f"{path}: field {field!r} holds no text (no letter in any row); "
            f"pass {option} with the column holding the messages"
        )
    if not n_texts:
        what = "holds no text" if not_text else "is empty or missing in every row"
        raise DatasetError(
            f"{path}: field {field!r} {what}; pass {option} with the column holding the messages"
        )
    return Texts(
        path, field, held, rows, missing, not_text, sampled_from,
        held_tags if len(fields) > 1 else None,
    )  # fmt: skip


def _pick(
    path: Path, suffix: str, fields: list[str], positions: npt.NDArray[np.int64]
) -> tuple[list[str], list[str]]:
    """The texts (and tags) at ``positions``, sorted and counted over the file's texts.

    The file is read a second time, a chunk at a time.
    """
    out: list[str] = []
    tags: list[str] = []
    start = 0
    for part in map(_sort_out, _chunks(path, suffix, fields)):
        low, high = np.searchsorted(positions, [start, start + len(part.texts)])
        out.extend(part.texts.iloc[positions[low:high] - start].tolist())
        if part.tags is not None:
            tags.extend(part.tags.iloc[positions[low:high] - start].tolist())
        start += len(part.texts)
    return out, tags
