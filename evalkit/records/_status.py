"""A row's status: what became of one judge call or one answer, as a column of its own.

The status is set once, where the row is made (the judging engine and the answer makers); the
``error`` column keeps only the message. Every reader (run.json's counts, the progress line,
the report, the audit) reads this column and never re-derives it from the message.

Tables written before the column existed, or by other tools, get it from
:func:`derive_status`, the only place that reads it back out of the other columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, get_args

import pandas as pd

#: What became of a judge call:
#:
#: - ``ok``: a verdict or score was read from the reply;
#: - ``unparseable``: the judge replied, but no verdict or score could be read (even after
#:   the repair, when the spec asks for one);
#: - ``failed``: the call failed after retries (or a grader raised);
#: - ``not_run``: the call was never made: the run was interrupted or its budget spent;
#: - ``no_answer``: the call was not made because an answer it would judge is missing.
Status = Literal["ok", "unparseable", "failed", "not_run", "no_answer"]
#: What became of a candidate's or baseline's answer (``failed`` includes an empty reply).
AnswerStatus = Literal["ok", "failed", "not_run"]

STATUSES: Final[tuple[Status, ...]] = get_args(Status)
#: The statuses counted as *failed* judge calls in run.json, the progress line and the
#: report: no verdict, and not because the reply was unreadable (that is ``unparseable``).
FAILED_STATUSES: Final[tuple[Status, ...]] = ("failed", "not_run", "no_answer")
ANSWER_STATUSES: Final[tuple[AnswerStatus, ...]] = get_args(AnswerStatus)

# How evalkit wrote the kind into ``error`` before the status column existed.
_LEGACY_PREFIXES: Final[Mapping[str, Status]] = {
    "parse": "unparseable",
    "not_run:": "not_run",
    "not run:": "not_run",
    "not judged:": "no_answer",
    "not graded:": "no_answer",
}


def derive_status(frame: pd.DataFrame) -> pd.Series:
    """The status of each row of a judgments table that lacks one, from its other columns.

    A row with a verdict or a score is ``ok``; one whose error starts as evalkit used to
    write the kind (``parse: …``, ``not_run: …``, ``not judged: …``) gets that kind; any other
    error is ``failed``; a row with neither a verdict, a score nor an error is
    ``unparseable`` (the judge replied, but nothing could be read). Rows that already carry a
    status keep it.

    >>> derive_status(pd.DataFrame({"verdict": ["tie", None, None, None],
    ...     "error": [None, "parse: no label", "timeout: slow", None]})).tolist()
    ['ok', 'unparseable', 'failed', 'unparseable']
    """
    n = len(frame)

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name]
        return pd.Series([None] * n, index=frame.index, dtype="object")

    error = column("error").astype("string")
    has_value = column("verdict").notna() | pd.to_numeric(column("score"), errors="coerce").notna()
    derived = pd.Series("unparseable", index=frame.index, dtype="object")
    derived[error.notna().to_numpy()] = "failed"
    for prefix, status in _LEGACY_PREFIXES.items():
        derived[error.str.startswith(prefix).fillna(False).to_numpy(dtype=bool)] = status
    derived[(has_value & error.isna()).to_numpy()] = "ok"
    given = column("status")
    known = given.isin(STATUSES)
    return given.where(known, derived).astype("string")


def derive_answer_status(frame: pd.DataFrame) -> pd.Series:
    """The status of each row of an answers table that lacks one (see :data:`AnswerStatus`)."""
    n = len(frame)
    error = (
        frame["error"].astype("string")
        if "error" in frame.columns
        else pd.Series([None] * n, index=frame.index, dtype="string")
    )
    not_run = error.str.startswith(("not_run:", "not run:")).fillna(False).to_numpy(dtype=bool)
    derived = pd.Series("ok", index=frame.index, dtype="object")
    derived[error.notna().to_numpy()] = "failed"
    derived[not_run] = "not_run"
    given = frame["status"] if "status" in frame.columns else derived
    return given.where(given.isin(ANSWER_STATUSES), derived).astype("string")


def status_counts(status: pd.Series) -> dict[Status, int]:
    """How many rows have each status (every status present, zero when absent)."""
    counts = status.value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}
