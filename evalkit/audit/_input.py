"""A judge log, as recorded anywhere, turned into a valid judgments table for the audit.

:func:`load_log` is the whole input edge of ``evalkit audit FILE``: read the file (only the
columns the audit needs, see :mod:`evalkit.audit._logfile`), apply the column maps
(:mod:`evalkit.audit._mapping`), supply what a foreign log may lack and say so, name every
missing column at once, then validate (:func:`evalkit.audit._table.validate_judgments`).

What a log may lack, and what it then means (each becomes a note in the output):

- ``suite``: the file's name (one log, one suite);
- ``order`` on pairwise rows: every row is one order, taken as ``AB``; position bias cannot be
  measured from such a log;
- ``mode``, ``sample``, ``parse_ok``: derived as :func:`validate_judgments` documents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pandas as pd

from evalkit.audit._logfile import read_log
from evalkit.audit._mapping import ColumnMap, apply_maps, sources
from evalkit.audit._table import OPTION_ORDER, validate_judgments
from evalkit.errors import UsageError
from evalkit.records._judgments import JUDGMENT_COLUMNS

#: Columns of the judgments table the audit never reads: the texts, by far the largest part of
#: a log. (Usage columns are small and still read, so that a bad value in them is reported.)
_NOT_AUDITED: Final = frozenset({"raw_output", "repair_output", "prompt_hash"})
#: Columns the audit reads, when the log has them.
AUDIT_COLUMNS: Final = frozenset(JUDGMENT_COLUMNS) - _NOT_AUDITED | {OPTION_ORDER}
#: What each column a log must supply means, for the message that names it missing.
_NEEDED: Final = {
    "item_id": "the identity of the item that was judged",
    "judge": "the name of the judge",
}
_VALUE: Final = "verdict (candidate, baseline or tie) or score"


@dataclasses.dataclass(frozen=True)
class Log:
    """A judge log ready for the audit: the valid ``table``, and ``notes`` on what was assumed."""

    table: pd.DataFrame
    notes: tuple[str, ...]


def _filled(frame: pd.DataFrame, name: str) -> bool:
    return name in frame.columns and bool(frame[name].notna().any())


def _missing(frame: pd.DataFrame) -> list[str]:
    """Every column the log must supply and does not (absent or empty throughout)."""
    out = [f"{name!r} ({meaning})" for name, meaning in _NEEDED.items() if not _filled(frame, name)]
    if not (_filled(frame, "verdict") or _filled(frame, "score")):
        out.append(f"'verdict' or 'score' (the {_VALUE})")
    return out


def _supply(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """Fill the columns a foreign log may lack, with a note for each assumption."""
    notes = []
    if not _filled(frame, "suite"):
        frame = frame.assign(suite=name)
        notes.append(f"no suite column: every row belongs to suite {name!r}")
    pairwise = _filled(frame, "verdict") and (
        not _filled(frame, "mode") or bool((frame["mode"] == "pairwise").any())
    )
    if pairwise and not _filled(frame, "order"):
        frame = frame.assign(order="AB")
        notes.append(
            "no order column: each row is one order, taken as AB (candidate shown first); "
            "position bias cannot be measured (map a column saying whether the answers were "
            "swapped, e.g. --map order=swapped:false=AB,true=BA)"
        )
    return frame, notes


def wanted_columns(maps: Sequence[ColumnMap], extra: Sequence[str] = ()) -> set[str]:
    """The log's columns the audit reads under ``maps``, plus ``extra`` (e.g. a --by column)."""
    return set(AUDIT_COLUMNS) | sources(maps) | set(extra)


def load_log(
    path: Path,
    maps: Sequence[ColumnMap] = (),
    *,
    keep: Sequence[str] = (),
    all_columns: bool = False,
) -> Log:
    """Read, map, complete and validate the judge log at ``path``.

    Only the columns the audit reads are loaded (plus ``keep``), unless ``all_columns``.
    The returned table is typed and valid; empty (no rows) when the file is.

    Raises:
        UsageError: the file cannot be read, a map does not fit it, columns the audit needs are
            missing (all named in one message, with the --map that would supply them), a
            ``keep`` column is absent, or a value is invalid; every message names the file.
    """
    wanted = wanted_columns(maps, keep)
    raw = read_log(path, None if all_columns else wanted.__contains__)
    where = path / "judgments.jsonl" if path.is_dir() else path
    if raw.empty and not len(raw.columns):
        return Log(raw, ())
    names = ", ".join(map(str, raw.attrs.get("columns", raw.columns)))
    try:
        frame = apply_maps(raw, maps, sorted(AUDIT_COLUMNS | set(JUDGMENT_COLUMNS)), names)
        absent = [c for c in keep if c not in frame.columns]
        if absent:
            raise UsageError(
                f"--by {absent[0]!r}: the log has no such column (nor a --map that makes it); "
                f"its columns are: {names}"
            )
        missing = _missing(frame)
        if missing:
            raise UsageError(
                f"the log has no column {'; no column '.join(missing)}. Map yours with "
                "--map OURS=THEIRS (e.g. --map item_id=question_id), or give a constant "
                f"(e.g. --map judge=@gpt-4). Its columns are: {names}"
            )
        frame, notes = _supply(frame, path.name.split(".")[0])
        return Log(validate_judgments(frame), tuple(notes))
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
