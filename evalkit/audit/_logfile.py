"""Reading a judge log as it was written: JSONL, a JSON array, CSV or Parquet, maybe gzipped.

The audit's input edge (``evalkit audit FILE``). Judge logs come from many tools and papers, so
the reader accepts what they publish:

- ``.jsonl`` / ``.ndjson``: one JSON object per line (a torn last line is skipped, as for
  evalkit's own files);
- ``.json``: an array of objects, or an object holding one such array (``{"data": [...]}``);
  nested objects are flattened into dotted columns (``meta.judge``);
- ``.csv`` / ``.tsv`` and ``.parquet``;
- any of these gzipped (``.jsonl.gz``, ``.csv.gz``, ...).

``columns`` restricts what is kept to the columns a caller needs: Parquet and CSV then read
only those, and JSON rows drop the rest as they are parsed, so that a log with long texts is
audited without ever holding its texts (see ``bench/audit_log.py``). The names of all the
file's columns stay in ``frame.attrs["columns"]``, for messages that list them.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import pandas as pd

from evalkit.errors import UsageError
from evalkit.records._store import jsonl_rows

#: Names the reader understands, after an optional ``.gz``.
FORMATS: Final = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")
#: The judgments file inside a run folder.
_RUN_FILE: Final = "judgments.jsonl"

Wanted = Callable[[str], bool]


def _kind(path: Path) -> tuple[str, bool]:
    """The file's format suffix and whether it is gzipped."""
    suffixes = [s.lower() for s in path.suffixes]
    zipped = bool(suffixes) and suffixes[-1] == ".gz"
    if zipped:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in FORMATS:
        raise UsageError(
            f"{path}: unsupported file type {''.join(path.suffixes[-2:]) or '(none)'!r}; "
            f"use {', '.join(FORMATS)} (optionally gzipped, e.g. .jsonl.gz)"
        )
    return suffix, zipped


def _open_text(path: Path, zipped: bool) -> IO[str]:
    if zipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _json_lines(
    path: Path, text: str, wanted: Wanted | None, names: dict[str, None]
) -> Iterator[dict[str, Any]]:
    for row in jsonl_rows(path, text, array_hint=True):
        names.update(dict.fromkeys(row))
        yield row if wanted is None else {k: v for k, v in row.items() if wanted(k)}


def _records_in(path: Path, data: object) -> list[Any]:
    """The list of rows in a parsed ``.json`` file: the array, or the one array in an object."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1:
            return list(data[lists[0]])
        if lists:
            raise UsageError(
                f"{path}: holds several lists of rows ({', '.join(map(repr, lists))}); "
                "save the one to audit as a JSON array of its own"
            )
    raise UsageError(
        f"{path}: holds a JSON {type(data).__name__} with no list of rows in it; evalkit reads "
        'a JSON array of objects ([{"column": value, ...}, ...]) or an object holding one'
    )


def _json_array(path: Path, text: str, wanted: Wanted | None) -> pd.DataFrame:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{") and "\n{" in text.strip():
            raise UsageError(
                f"{path}: holds one JSON object per line, not one JSON document; rename it to "
                f"{path.stem}.jsonl"
            ) from None
        raise UsageError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); fix the file"
        ) from None
    records = _records_in(path, data)
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise UsageError(
            f"{path}: element {bad} of the array is a JSON {type(records[bad]).__name__}; "
            'every element must be an object ({"column": value, ...})'
        )
    frame = pd.json_normalize(records, sep=".") if records else pd.DataFrame()
    names = list(map(str, frame.columns))
    if wanted is not None:
        frame = frame[[c for c in frame.columns if wanted(str(c))]]
    frame.attrs["columns"] = names
    return frame


def _read_csv(fh: IO[str], sep: str, wanted: Wanted | None) -> pd.DataFrame:
    header = list(pd.read_csv(fh, sep=sep, nrows=0).columns)
    fh.seek(0)
    keep = [c for c in header if wanted is None or wanted(str(c))]
    # Only a projection needs usecols, and pandas then tolerates ragged rows: read all columns
    # strictly whenever every column is wanted.
    frame = pd.read_csv(fh, sep=sep, usecols=None if len(keep) == len(header) else keep)
    frame.attrs["columns"] = list(map(str, header))
    return frame


def _read_text_format(path: Path, suffix: str, zipped: bool, wanted: Wanted | None) -> pd.DataFrame:
    try:
        with _open_text(path, zipped) as fh:
            if suffix in (".csv", ".tsv"):
                return _read_csv(fh, "\t" if suffix == ".tsv" else ",", wanted)
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (gzip.BadGzipFile, EOFError) as exc:
        raise UsageError(f"{path}: not a readable gzip file ({exc}); check the file") from None
    except (ValueError, pd.errors.ParserError) as exc:
        reason = " ".join(str(exc).split())  # pandas' messages span lines
        raise UsageError(f"{path}: not a readable CSV file ({reason}); check the file") from None
    if not text.strip():
        return pd.DataFrame()
    if suffix == ".json":
        return _json_array(path, text, wanted)
    names: dict[str, None] = {}
    frame = pd.DataFrame.from_records(list(_json_lines(path, text, wanted, names)))
    frame.attrs["columns"] = list(names)
    return frame


def _read_parquet(path: Path, zipped: bool, wanted: Wanted | None) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        source: Any = io.BytesIO(gzip.decompress(path.read_bytes())) if zipped else path
        names = pq.read_schema(source).names
        columns = names if wanted is None else [c for c in names if wanted(c)]
        frame: pd.DataFrame = pq.read_table(source, columns=columns).to_pandas()
        frame.attrs["columns"] = names
        return frame
    except ImportError as exc:
        raise UsageError(
            f"{path}: reading Parquet needs pyarrow ({exc}); run `pip install pyarrow`"
        ) from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise UsageError(f"{path}: not a readable gzip file ({exc}); check the file") from None
    except (ValueError, OSError) as exc:
        reason = " ".join(str(exc).split())
        raise UsageError(
            f"{path}: not a readable Parquet file ({reason}); check the file"
        ) from None


def read_log(path: Path, columns: Wanted | None = None) -> pd.DataFrame:
    """Read the judge log at ``path`` (a file, or a run folder) as it is, untyped.

    ``columns`` keeps only the columns for which it returns true (None: all). An empty file
    gives a table without rows or columns.

    Raises:
        UsageError: the path does not exist, is of a type the reader does not know, or cannot
            be read as its name says (not UTF-8, malformed JSON or CSV, a JSON array in a
            ``.jsonl`` file, corrupt Parquet or gzip); the message names the file and what to do.
    """
    if path.is_dir():
        path = path / _RUN_FILE
    if not path.exists():
        raise UsageError(f"{path}: no such file; pass a judge log or a run folder")
    suffix, zipped = _kind(path)
    if path.stat().st_size == 0:
        return pd.DataFrame()
    if suffix == ".parquet":
        return _read_parquet(path, zipped, columns)
    return _read_text_format(path, suffix, zipped, columns)
