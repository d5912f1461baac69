"""The run folder on disk: the only place evalkit writes results.

Layout of ``reports/<run-id>/``::

    judgments.jsonl   the judgments table, one JSON object per judge call, appended as made
    answers.jsonl     the candidate and baseline answers, appended as they arrive
    run.json          what the run was (config, models, times, status, gates), replaced atomically
    report.html       the rendered report

Rows are appended and flushed one at a time, never rewritten, so a crash loses at most the
line being written; :func:`read_jsonl` skips a torn last line instead of failing on it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import pandas as pd
import pydantic

from evalkit.errors import UsageError
from evalkit.records._answers import Answer
from evalkit.records._judgments import Judgment, coerce_judgments
from evalkit.records._run import SCHEMA_VERSION, RunRecord
from evalkit.records._status import derive_answer_status

JUDGMENTS_FILE: Final = "judgments.jsonl"
ANSWERS_FILE: Final = "answers.jsonl"
#: the probe table of the suites' bias probes (evalkit.probes.PROBE_COLUMNS), one row per call.
PROBES_FILE: Final = "probes.jsonl"
RUN_FILE: Final = "run.json"
REPORT_FILE: Final = "report.html"


class JsonlAppender:
    """Append JSON rows to a file, one line each, flushed as they are written.

    Thread-safe, so that rows from concurrent model calls never interleave within a line.
    ``lazy`` opens the file on the first row only, so that a file with no rows is not made.
    """

    def __init__(self, path: Path, *, lazy: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fh: IO[str] | None = None if lazy else self._open()

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.path.open("a", encoding="utf-8")

    def append(self, row: Mapping[str, Any] | Judgment | Answer) -> None:
        """Write one row and flush it to the operating system."""
        data = row.to_dict() if isinstance(row, Judgment | Answer) else dict(row)
        line = json.dumps(data, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            if self._fh is None:
                self._fh = self._open()
            self._fh.write(line)
            self._fh.flush()

    def close(self) -> None:
        """Flush to disk and close the file."""
        with self._lock:
            if self._fh is not None and not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the rows of a JSONL file, skipping blank lines and a torn (crash-cut) last line.

    Raises:
        UsageError: the file is not UTF-8, a line other than the last is not valid JSON (the
            file is corrupt, not cut), or a line holds a JSON value that is not an object.
    """
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    yield from jsonl_rows(path, text)


def jsonl_rows(path: Path, text: str, *, array_hint: bool = False) -> Iterator[dict[str, Any]]:
    """Yield the rows of ``text``, the content of JSONL file ``path``, as :func:`iter_jsonl` does.

    Only a newline ends a row (see load_dataset). A last line that is not valid JSON is a row the
    writer was cut in the middle of, and is left out; any other bad line is an error. With
    ``array_hint`` (a file a user wrote), a file holding one JSON array is told to be renamed.

    Raises:
        UsageError: a line other than the last is not valid JSON, or a line holds a JSON value
            that is not an object; each names the file and the line.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                return  # the writer died mid-line; everything before it is intact
            if array_hint and number == 1 and line.lstrip().startswith("["):
                raise _an_array(path) from None
            raise UsageError(
                f"{path}:{number}: not valid JSON ({exc.msg}); fix or delete that line"
            ) from None
        if not isinstance(row, dict):
            if array_hint and number == 1 and isinstance(row, list) and len(lines) <= 2:
                raise _an_array(path)
            raise UsageError(
                f"{path}:{number}: a JSON {type(row).__name__} where each line must hold one "
                'object ({"column": value, ...}); fix or delete that line'
            )
        yield row


def _an_array(path: Path) -> UsageError:
    return UsageError(
        f"{path}: holds a JSON array, not one JSON object per line; rename it to "
        f"{path.stem.removesuffix('.jsonl')}.json, which evalkit reads as an array"
    )


def write_json_atomic(path: Path, data: Mapping[str, Any], *, indent: int | None = 2) -> None:
    """Replace ``path`` with ``data`` as JSON, so that readers see the old or the new file.

    ``indent`` None writes one line: with an indent, json falls back to its pure-Python
    encoder, several times slower on a large audit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, so that readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_judgments(path: Path) -> pd.DataFrame:
    """Read a judgments table from a run folder or a JSONL, CSV or Parquet file, typed.

    Raises:
        UsageError: the path does not exist or has an unsupported suffix.
    """
    return coerce_judgments(read_table(path))


def read_table(path: Path) -> pd.DataFrame:
    """Read a run folder's judgments or a JSONL, CSV or Parquet file as it is, untyped.

    An empty file gives a table without rows or columns.

    Raises:
        UsageError: the path does not exist, has an unsupported suffix, or cannot be read as
            its suffix says (not UTF-8, malformed, corrupt); the message names the file and,
            for JSONL, the line.
    """
    if path.is_dir():
        path = path / JUDGMENTS_FILE
    if not path.exists():
        raise UsageError(f"{path}: no such file; pass a run folder or a judgments file")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise UsageError(f"{path}: unsupported file type {suffix!r}; use .jsonl, .csv or .parquet")
    if path.is_file() and path.stat().st_size == 0:
        return pd.DataFrame()  # pandas refuses an empty CSV; it is a table without rows
    if suffix == ".jsonl":
        return pd.DataFrame.from_records(list(iter_jsonl(path)))
    try:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8")
        return pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8"
        ) from None
    except ImportError as exc:
        raise UsageError(
            f"{path}: reading Parquet needs pyarrow ({exc}); run `pip install pyarrow`"
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        kind = "CSV" if suffix == ".csv" else "Parquet"
        reason = " ".join(str(exc).split())  # pandas' messages span lines
        raise UsageError(f"{path}: not a readable {kind} file ({reason}); check the file") from None


def read_answers(run_dir: Path) -> pd.DataFrame:
    """Read a run folder's answers table (empty if the run wrote none), with its status column.

    Answers written before the status column existed get it from
    :func:`~evalkit.records._status.derive_answer_status`.
    """
    path = run_dir / ANSWERS_FILE
    if not path.exists():
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(list(iter_jsonl(path)))
    if len(frame):
        frame["status"] = derive_answer_status(frame)
    return frame


def write_run(run_dir: Path, record: RunRecord) -> Path:
    """Write ``record`` as the run folder's ``run.json`` (atomically); return its path."""
    path = run_dir / RUN_FILE
    write_json_atomic(path, record.model_dump(mode="json"))
    return path


def read_run(run_dir: Path) -> RunRecord | None:
    """Read a run folder's ``run.json`` into a :class:`RunRecord` (None if there is none).

    A run.json written before records were versioned has no ``schema_version``; its shape is
    version 1's, so it is read as such.

    Raises:
        UsageError: run.json is not JSON, has a ``schema_version`` this evalkit does not
            read, or a field that is missing, unknown or of the wrong type; the message
            names the file and the field.
    """
    path = run_dir / RUN_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}); delete run.json to re-audit the "
            "folder's judgments"
        ) from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); the run may have been cut "
            "short: delete run.json to re-audit the folder's judgments, or re-run the suites"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}: holds a JSON {type(data).__name__}, not the object evalkit writes; delete "
            "run.json to re-audit the folder's judgments"
        )
    version = data.setdefault("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise UsageError(
            f"{path}: schema_version {version!r} is not one this evalkit reads (it reads "
            f"{SCHEMA_VERSION}); open it with the evalkit version that wrote it "
            f"({data.get('evalkit_version') or 'unknown'}), or delete run.json to re-audit "
            "the folder's judgments"
        )
    try:
        return RunRecord.model_validate(data)
    except pydantic.ValidationError as exc:
        raise UsageError(f"{path}: {_first_problem(exc)}") from exc


def _first_problem(exc: pydantic.ValidationError) -> str:
    """The first problem pydantic found, as "field suites[0].calls.judge: why; what to do"."""
    error = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
    field = where.lstrip(".") or "(the whole file)"
    if error["type"] == "extra_forbidden":
        why = "is not a field of run.json"
    elif error["type"] == "missing":
        why = "is missing"
    else:
        why = f"is invalid ({error['msg']}, got {error.get('input')!r:.60})"
    more = exc.error_count() - 1
    tail = f" ({more} more problem(s) after this one)" if more else ""
    return (
        f"field {field} {why}{tail}; this run.json was not written by this evalkit "
        "(or was edited): fix the field, or delete run.json to re-audit the folder's judgments"
    )
