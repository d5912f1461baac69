"""The judgments table: one row per judge call, the contract between evalkit's parts.

The judging layer produces :class:`Judgment` rows; the audit, the gates and the report read them
back as a pandas DataFrame with the columns of :data:`JUDGMENT_COLUMNS` and never see anything
else. Keeping the table tidy (one call per row, verdicts already mapped back to the original
labels) is what lets the audit run on judgments recorded by other tools.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

import pandas as pd

from evalkit.records._status import Status, derive_status

Mode = Literal["pairwise", "pointwise", "reference"]
Order = Literal["AB", "BA"]
Verdict = Literal["candidate", "baseline", "tie"]

#: Verdict values, in the original (unswapped) labels.
VERDICTS: Final = ("candidate", "baseline", "tie")
#: ``AB``: the candidate was shown first; ``BA``: the baseline was shown first.
ORDERS: Final = ("AB", "BA")


@dataclasses.dataclass(frozen=True, slots=True)
class Judgment:
    """One judge call, with its verdict mapped back to the original labels.

    ``status`` says what became of the call (see :data:`~evalkit.records._status.Status`) and
    ``error`` why, in words, when it is not ``ok``. Only an ``ok`` row carries a verdict or a
    score: the others are counted, never guessed.
    """

    run_id: str
    suite: str
    item_id: str
    mode: Mode
    candidate: str
    candidate_family: str
    baseline: str | None
    baseline_family: str | None
    judge: str
    judge_family: str
    order: Order | None
    sample: int
    prompt_hash: str
    raw_output: str | None
    verdict: Verdict | None
    score: float | None
    status: Status
    parse_ok: bool
    error: str | None
    latency_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool
    human_label: str | None = None
    len_candidate: int | None = None
    len_baseline: int | None = None
    generator_family: str | None = None
    #: pointwise/reference rows whose rubric options were listed both ways: how this call
    #: listed them, ``ascending`` (lowest score first) or ``descending``; None otherwise.
    option_order: str | None = None
    #: the judge's reply to the repair prompt, when its first reply could not be parsed and
    #: the spec asks for one repair; the verdict or score then comes from this reply.
    repair_output: str | None = None
    #: the judge's reply could not be encoded and was repaired (U+FFFD in its place).
    text_repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a plain dict keyed by column name."""
        return dataclasses.asdict(self)


#: Column name → pandas dtype of the judgments table, in canonical order.
JUDGMENT_COLUMNS: Final[Mapping[str, str]] = {
    "run_id": "string",
    "suite": "string",
    "item_id": "string",
    "mode": "string",
    "candidate": "string",
    "candidate_family": "string",
    "baseline": "string",
    "baseline_family": "string",
    "judge": "string",
    "judge_family": "string",
    "order": "string",
    "sample": "int64",
    "prompt_hash": "string",
    "raw_output": "string",
    "verdict": "string",
    "score": "float64",
    "status": "string",
    "parse_ok": "bool",
    "error": "string",
    "latency_s": "float64",
    "input_tokens": "int64",
    "output_tokens": "int64",
    "cost_usd": "float64",
    "cached": "bool",
    "human_label": "string",
    "len_candidate": "Int64",
    "len_baseline": "Int64",
    "generator_family": "string",
    "option_order": "string",
    "repair_output": "string",
    "text_repaired": "bool",
}

assert tuple(JUDGMENT_COLUMNS) == tuple(f.name for f in dataclasses.fields(Judgment))


def judgments_frame(rows: Iterable[Judgment | Mapping[str, Any]]) -> pd.DataFrame:
    """Build the judgments table from rows, with every column present and typed.

    Mappings may omit optional columns (they become missing values); unknown keys are kept
    after the canonical columns so that callers can carry extra annotations through.
    """
    records = [r.to_dict() if isinstance(r, Judgment) else dict(r) for r in rows]
    frame = pd.DataFrame.from_records(records)
    return coerce_judgments(frame)


def coerce_judgments(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every canonical column present, in order, with its dtype.

    A table without a ``status`` column (written before it existed, or by another tool)
    gets it from :func:`~evalkit.records._status.derive_status`.
    """
    out = frame.copy()
    out["status"] = derive_status(out)
    for name, dtype in JUDGMENT_COLUMNS.items():
        if name not in out.columns:
            # A column the source lacks: all missing (False for flags, 0 for counts).
            filler: object = {"bool": False, "int64": 0}.get(dtype)
            out[name] = pd.Series([filler] * len(out), index=out.index, dtype="object")
        if dtype == "bool":
            out[name] = out[name].fillna(False).astype(bool)
        elif dtype in ("int64",):
            out[name] = pd.to_numeric(out[name]).fillna(0).astype("int64")
        elif dtype == "float64":
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
        else:
            out[name] = out[name].astype(dtype)  # type: ignore[call-overload]
    extra = [c for c in out.columns if c not in JUDGMENT_COLUMNS]
    return out[[*JUDGMENT_COLUMNS, *extra]]
