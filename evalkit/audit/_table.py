"""Checking a judgments table before it is audited, and mapping a foreign table onto ours.

The audit runs on tables evalkit wrote and on tables recorded by other tools, so it never trusts
its input: :func:`validate_judgments` turns every problem it can see — a missing column, a value
of the wrong type, a verdict outside the vocabulary, a judge call recorded twice — into one
:class:`~evalkit.errors.UsageError` that names the column, the rows and what to do about it.

Column conventions beyond :data:`evalkit.records._judgments.JUDGMENT_COLUMNS`:

``option_order`` (optional, pointwise and reference rows)
    How the options of a pointwise rubric were listed to the judge: ``ascending`` (the option
    with the lowest score first) or ``descending`` (the highest first). A pointwise judge run
    with both listings of the same item lets the audit measure option-order bias exactly as
    position bias is measured for pairwise judges (see
    :func:`evalkit.audit._orders.option_order_bias`).

Rows of deterministic graders (``judge_family`` ``"deterministic"``, see :mod:`evalkit.graders`)
share the table with the judges so that gates can combine them, but a grader is not a judge: it
has no position, no family to prefer and no opinion to agree with. Every statistic of the audit
therefore leaves them out (:func:`judges_only`), and :func:`validate_judgments` keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from evalkit.errors import UsageError

# Re-exported: the audit's modules read these with the table's other conventions.
from evalkit.panel._rows import ITEM as ITEM
from evalkit.panel._rows import SCORE_MODES as SCORE_MODES
from evalkit.panel._rows import score_ok as score_ok
from evalkit.panel._rows import verdict_ok as verdict_ok
from evalkit.records._judgments import JUDGMENT_COLUMNS, ORDERS, VERDICTS, coerce_judgments

MODES: Final = ("pairwise", "pointwise", "reference")
OPTION_ORDER: Final = "option_order"
OPTION_ORDERS: Final = ("ascending", "descending")
#: ``judge_family`` of deterministic graders' rows (:data:`evalkit.graders._base.GRADER_FAMILY`; not
#: imported from there, so that importing the audit does not import the graders).
GRADER_FAMILY: Final = "deterministic"

#: What each column the audit relies on means, for error messages.
_MEANING: Final[Mapping[str, str]] = {
    "suite": "the suite or dataset the item belongs to",
    "item_id": "the identity of the item that was judged",
    "judge": "the name of the judge model",
    "mode": "pairwise, pointwise or reference",
    "order": "AB when the candidate was shown first, BA when the baseline was",
    "verdict": "candidate, baseline or tie, in the original (unswapped) labels",
    "score": "the pointwise score",
}
_BOOL_WORDS: Final[Mapping[str, bool]] = {
    "true": True,
    "1": True,
    "yes": True,
    "false": False,
    "0": False,
    "no": False,
}
_SHOWN_ROWS = 5


def _rows(mask: pd.Series | np.ndarray) -> str:
    """Name the (0-based) positions where ``mask`` holds, a few of them."""
    where = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = ", ".join(str(i) for i in where[:_SHOWN_ROWS])
    more = f" and {where.size - _SHOWN_ROWS} more" if where.size > _SHOWN_ROWS else ""
    return f"row{'s' if where.size > 1 else ''} {shown}{more}"


def _rows_hold(mask: pd.Series | np.ndarray) -> str:
    """``"row 3 holds"`` or ``"rows 3, 7 hold"``."""
    many = int(np.asarray(mask, dtype=bool).sum()) > 1
    return f"{_rows(mask)} {'hold' if many else 'holds'}"


def _values(series: pd.Series, mask: pd.Series | np.ndarray) -> str:
    bad = pd.unique(series[np.asarray(mask, dtype=bool)].astype(str))
    return ", ".join(repr(v) for v in bad[:_SHOWN_ROWS])


def _mapping_hint(column: str) -> str:
    return (
        f"map one of your columns to it with rename_columns(table, {{'<your column>': "
        f"{column!r}}}) (or the CLI's column-mapping option)"
    )


def _filled(frame: pd.DataFrame, name: str) -> bool:
    """Whether ``frame`` has column ``name`` with at least one value."""
    return name in frame.columns and bool(frame[name].notna().any())


def _fill_absent(frame: pd.DataFrame) -> pd.DataFrame:
    """Supply ``mode`` and ``sample`` where a foreign table lacks them (absent or all empty).

    A table read through :func:`~evalkit.records._judgments.coerce_judgments` has every column,
    empty where the file had none, so an empty column counts as absent.
    """
    out = frame.copy()
    has_verdict, has_score = _filled(out, "verdict"), _filled(out, "score")
    if not _filled(out, "mode") and has_verdict != has_score:
        out["mode"] = "pairwise" if has_verdict else "pointwise"
    if "sample" not in out.columns:
        out["sample"] = 0
    return out


def _derive_parse_ok(frame: pd.DataFrame) -> pd.DataFrame:
    """Where no row is parse_ok, take parse_ok to mean "a verdict or score is present".

    A table that never recorded parsing has no parse_ok column, and coerce_judgments fills it
    with false, which would discard every verdict. Under the table's contract a row with
    parse_ok false carries no verdict, so deriving it cannot turn a failure into a verdict.
    """
    if frame["parse_ok"].any():
        return frame
    out = frame.copy()
    out["parse_ok"] = (out["verdict"].notna() | out["score"].notna()).astype(bool)
    return out


def _coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`~evalkit.records._judgments.coerce_judgments`, able to add absent float columns."""
    out = frame.copy()
    # coerce_judgments cannot fill an absent float column (pd.NA does not cast to float64).
    for name, dtype in JUDGMENT_COLUMNS.items():
        if dtype == "float64" and name not in out.columns:
            out[name] = np.nan
    return coerce_judgments(out)


def _check_required(frame: pd.DataFrame) -> None:
    required = ["suite", "item_id", "judge", "mode"]
    # unique() before str(): converting a million rows to text only to dedupe them is slow.
    modes = set(map(str, frame["mode"].dropna().unique())) if "mode" in frame.columns else set()
    if "pairwise" in modes:
        required += ["order", "verdict"]
    if modes & set(SCORE_MODES):
        required.append("score")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        what = "; ".join(f"{c!r} ({_MEANING[c]})" for c in missing)
        raise UsageError(
            f"the judgments table has no column {what}; {_mapping_hint(missing[0])}. "
            f"Its columns are: {', '.join(map(str, frame.columns))}"
        )


def _check_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Convert numeric and boolean columns, naming the first rows that do not convert."""
    out = frame.copy()
    for name, dtype in JUDGMENT_COLUMNS.items():
        if name not in out.columns:
            continue
        col = out[name]
        if dtype in ("int64", "Int64", "float64"):
            num = pd.to_numeric(col.astype("object"), errors="coerce").astype("float64")
            bad = col.notna() & num.isna()
            if dtype != "float64":
                bad |= num.notna() & (num != np.round(num))
            if name.startswith("len_"):
                bad |= num < 0
            if bad.any():
                kind = {"float64": "numbers", "int64": "whole numbers"}.get(
                    dtype, "non-negative whole numbers"
                )
                raise UsageError(
                    f"column {name!r} must hold {kind}; {_rows_hold(bad)} "
                    f"{_values(col, bad)}: fix or drop those values"
                )
            out[name] = num
        elif dtype == "bool" and col.dtype != bool:
            words = col.astype("object").map(
                lambda v: _BOOL_WORDS.get(str(v).strip().lower()) if not isinstance(v, bool) else v
            )
            bad = col.notna() & words.isna()
            if bad.any():
                raise UsageError(
                    f"column {name!r} must be true/false; {_rows_hold(bad)} {_values(col, bad)}"
                )
            out[name] = words.astype("boolean").fillna(False).astype(bool)
    return out


def _check_vocabulary(table: pd.DataFrame) -> None:
    for name in ("suite", "item_id", "judge", "mode"):
        if table[name].isna().any():
            raise UsageError(
                f"column {name!r} ({_MEANING[name]}) is empty on {_rows(table[name].isna())}; "
                f"every row needs one — {_mapping_hint(name)} if the values are in another column"
            )
    checks: list[tuple[str, pd.Series, Sequence[str], str]] = [
        ("mode", pd.Series(True, index=table.index), MODES, "use one of them"),
    ]
    pairwise = table["mode"] == "pairwise"
    checks += [
        ("order", pairwise, ORDERS, "pairwise rows must be judged in a known order"),
        (
            "verdict",
            pairwise & table["verdict"].notna(),
            VERDICTS,
            "map A/B back to candidate/baseline through the order column; leave unreadable "
            "answers empty with parse_ok false",
        ),
        ("human_label", pairwise & table["human_label"].notna(), VERDICTS, "or leave it empty"),
    ]
    if OPTION_ORDER in table.columns:
        checks.append(
            (OPTION_ORDER, table[OPTION_ORDER].notna(), OPTION_ORDERS, "or leave it empty")
        )
    for name, rows, allowed, todo in checks:
        bad = rows & ~table[name].isin(allowed)
        if bad.any():
            raise UsageError(
                f"column {name!r} must be one of {'|'.join(allowed)}; {_rows_hold(bad)} "
                f"{_values(table[name], bad)}: {todo}"
            )


def _check_duplicates(table: pd.DataFrame) -> None:
    pairwise = table["mode"] == "pairwise"
    keys = {
        "pairwise": (pairwise, [*ITEM, "judge", "order", "sample"]),
        "scored": (
            ~pairwise,
            [*ITEM, "candidate", "judge", "sample"]
            + ([OPTION_ORDER] if OPTION_ORDER in table.columns else []),
        ),
    }
    for rows, key in keys.values():
        part = table.loc[rows, key]
        group = part.groupby(key, dropna=False, sort=False).ngroup()
        dup = group.duplicated(keep=False)
        if not dup.any():
            continue
        first = part.loc[dup[dup].index[0]]
        where = np.zeros(len(table), dtype=bool)
        where[group.index[group == group[dup].iloc[0]].to_numpy()] = True
        desc = ", ".join(
            f"{k}={first[k].item() if hasattr(first[k], 'item') else first[k]!r}" for k in key
        )
        runs = pd.unique(table.loc[where, "run_id"].dropna().astype(str))
        runs_hint = (
            f" The rows come from runs {', '.join(runs)}: audit one run at a time."
            if len(runs) > 1
            else ""
        )
        raise UsageError(
            f"{_rows(where)} record the same judge call ({desc}); each call must appear once. "
            f"Keep only the final attempt, or number repeated calls with distinct "
            f"'sample' values; if an item is identified by several columns, join them "
            f"(evalkit audit --map item_id=COLUMN1+COLUMN2).{runs_hint}"
        )


def validate_judgments(table: pd.DataFrame) -> pd.DataFrame:
    """Check a judgments table and return it typed, with a fresh 0-based index.

    Columns the audit does not need may be absent; these are derived when absent or empty:
    ``mode`` (pairwise when the table has verdicts but no scores, pointwise for the reverse),
    ``parse_ok`` (when no row has it: true where a verdict or score is present) and
    ``sample`` (0).
    Row numbers in error messages are 0-based positions in ``table``.

    Raises:
        UsageError: a required column is missing or empty, a value has the wrong type or is
            outside its vocabulary (mode, order, verdict, human_label, option_order), or a judge
            call appears twice (same suite, item, judge, order and sample). The message names
            the column and rows and says what to do.
    """
    if not isinstance(table, pd.DataFrame):
        raise UsageError(f"expected a pandas DataFrame of judgments, got {type(table).__name__}")
    frame = _fill_absent(table.reset_index(drop=True))
    _check_required(frame)
    frame = _derive_parse_ok(_coerce(_check_types(frame)))
    if OPTION_ORDER in frame.columns:
        frame[OPTION_ORDER] = frame[OPTION_ORDER].astype("string")
    _check_vocabulary(frame)
    _check_duplicates(frame)
    return frame


def judges_only(valid: pd.DataFrame) -> pd.DataFrame:
    """Return a validated table without the rows of deterministic graders (see the module)."""
    graded = (valid["judge_family"] == GRADER_FAMILY).fillna(False).astype(bool)
    return valid.loc[~graded].reset_index(drop=True) if graded.any() else valid


def audited(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`validate_judgments`, then :func:`judges_only`: the rows every statistic reads.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return judges_only(validate_judgments(table))


def rename_columns(frame: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Rename a foreign table's columns to evalkit's, then validate it.

    ``mapping`` is ``{your column: evalkit column}``, as for :meth:`pandas.DataFrame.rename`;
    the renamed table goes through :func:`validate_judgments`.

    Raises:
        UsageError: a mapped column is not in ``frame``, a target is not an evalkit column, two
            non-empty columns would get the same name, or the renamed table fails validation
            (the message then names the evalkit column still missing and the mapping that would
            supply it).
    """
    known = list(dict.fromkeys([*JUDGMENT_COLUMNS, OPTION_ORDER]))
    absent = [src for src in mapping if src not in frame.columns]
    if absent:
        raise UsageError(
            f"the column mapping names {', '.join(map(repr, absent))}, which the table does not "
            f"have; its columns are: {', '.join(map(str, frame.columns))}"
        )
    unknown = [dst for dst in mapping.values() if dst not in known]
    if unknown:
        raise UsageError(
            f"the column mapping targets {', '.join(map(repr, unknown))}, which evalkit does not "
            f"know; map to one of: {', '.join(known)}"
        )
    # A table read through coerce_judgments already has every evalkit column, empty where the
    # file had none: an empty column makes way for the mapped one instead of clashing with it.
    targets = set(mapping.values()) - set(mapping)
    empty = [c for c in frame.columns if c in targets and frame[c].isna().all()]
    frame = frame.drop(columns=empty)
    names = [mapping.get(str(c), str(c)) for c in frame.columns]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise UsageError(
            f"after renaming, several columns would be called {', '.join(map(repr, clashes))}; "
            f"drop or rename the extra ones first"
        )
    return validate_judgments(frame.rename(columns=dict(mapping)))
