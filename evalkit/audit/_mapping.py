"""Mapping a foreign judge log onto the judgments table: columns, values and constants.

One :class:`ColumnMap` says where one evalkit column comes from. On the command line
(``evalkit audit --map``) it is written ``OURS=SPEC``:

- ``item_id=question_id`` — read column ``question_id`` as ``item_id``;
- ``verdict=winner:model_a=candidate,model_b=baseline,tie=tie`` — and translate its values
  (matched as text, case-insensitively: ``1``, ``1.0`` and ``True``/``true`` are what they look
  like); a non-empty value the translation does not list is an error naming it;
- ``judge=@gpt-4`` — a constant for every row;
- ``item_id=question_id+turn`` — several columns joined with ``/`` (when no column is called
  ``question_id+turn``): the identity of an item that spans columns;
- ``len_candidate=#output_2`` — the length of a text column in words (whitespace-separated),
  for logs that keep the answers but not their lengths: the verbosity audit then has lengths
  to work with (a word is about 1.3 tokens of English, so its "per +100 tokens" odds ratio is
  per +100 words).

The same in a YAML mapping file (``--map-file``), for reuse::

    item_id: question_id
    verdict: {column: winner, values: {model_a: candidate, model_b: baseline, tie: tie}}
    judge: {value: gpt-4}
    len_candidate: {column: output_2, words: true}

Two targets go beyond the table's columns, for the shapes logs really have:

- ``verdict`` values ``first`` and ``second`` name the *position* the judge picked; they are
  mapped back to candidate/baseline through ``order`` (first in AB is the candidate, first in
  BA the baseline). This is the fix for logs whose swapped-order verdicts were never mapped
  back (see :mod:`evalkit.audit._swap`).
- ``verdict_ab`` and ``verdict_ba``: a log with both orders' verdicts on one row is split into
  two rows, one per order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pydantic

from evalkit.errors import UsageError

#: Verdict values that name a position rather than an answer (see the module docstring).
POSITIONS: Final = ("first", "second")
#: Targets that split a row holding both orders' verdicts into two rows.
WIDE_VERDICTS: Final = {"verdict_ab": "AB", "verdict_ba": "BA"}
_SHOWN = 5


def value_key(value: object) -> str:
    """How a cell is matched against a translation: its text, trimmed and lower-cased.

    >>> [value_key(v) for v in (1, 1.0, True, " Model_A ")]
    ['1', '1', 'true', 'model_a']
    """
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value).strip().lower()


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where one evalkit column (``target``) comes from: a ``source`` column or a ``constant``.

    ``values`` translates the source's values (keys as :func:`value_key` gives them);
    ``words`` takes the source's length in words instead of its values.
    """

    target: str
    source: str | None = None
    values: Mapping[str, str] | None = None
    constant: str | None = None
    words: bool = False

    def written(self) -> str:
        """The mapping as the command line writes it (for messages)."""
        if self.constant is not None:
            return f"{self.target}=@{self.constant}"
        if self.words:
            return f"{self.target}=#{self.source}"
        pairs = ",".join(f"{k}={v}" for k, v in (self.values or {}).items())
        return f"{self.target}={self.source}" + (f":{pairs}" if pairs else "")


def parse_map(spec: str, flag: str = "--map") -> ColumnMap:
    """Parse one ``OURS=THEIRS[:FROM=TO,...]`` or ``OURS=@CONSTANT`` (see the module docstring).

    Raises:
        UsageError: the spec does not have that shape; the message names ``flag`` and shows it.
    """
    target, sep, rest = spec.partition("=")
    target, rest = target.strip(), rest.strip()
    if not sep or not target or not rest:
        raise UsageError(
            f"{flag} {spec!r}: write it as OURS=THEIRS (e.g. item_id=question_id), "
            "OURS=THEIRS:FROM=TO,... (e.g. verdict=winner:1=candidate,2=baseline,0=tie), "
            "OURS=@CONSTANT (e.g. judge=@gpt-4) or OURS=#TEXT (e.g. len_candidate=#output_2)"
        )
    if rest.startswith("@"):
        return ColumnMap(target, constant=rest[1:])
    if rest.startswith("#"):
        return ColumnMap(target, source=rest[1:].strip(), words=True)
    source, colon, pairs = rest.partition(":")
    if not colon:
        return ColumnMap(target, source=source)
    values: dict[str, str] = {}
    for pair in pairs.split(","):
        frm, eq, to = pair.partition("=")
        if not eq or not frm.strip() or not to.strip():
            raise UsageError(
                f"{flag} {spec!r}: the translation {pair!r} is not FROM=TO; write the values as "
                "FROM=TO pairs separated by commas, e.g. 1=candidate,2=baseline,0=tie"
            )
        values[value_key(frm)] = to.strip()
    return ColumnMap(target, source=source.strip(), values=values)


class _FromColumn(pydantic.BaseModel):
    """One entry of a mapping file: a column (with optional translation) or a constant."""

    model_config = pydantic.ConfigDict(extra="forbid")

    column: str | None = None
    #: keys as YAML reads them (1, true, model_a): matched through :func:`value_key`.
    values: dict[Any, str] | None = None
    value: str | int | float | bool | None = None
    #: take the column's length in words instead of its values.
    words: bool = False

    @pydantic.model_validator(mode="after")
    def _one_source(self) -> _FromColumn:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either column: (with optional values:) or value:, not both")
        if self.values is not None and self.column is None:
            raise ValueError("values: translates a column; add column:")
        if self.words and (self.column is None or self.values is not None):
            raise ValueError("words: measures a column; give column: and no values:")
        return self


_MapFile = pydantic.TypeAdapter(dict[str, str | _FromColumn])


def load_map_file(path: Path) -> list[ColumnMap]:
    """Read a YAML mapping file (see the module docstring) into column maps.

    Raises:
        UsageError: the file is missing, not YAML, or an entry has an unknown key or lacks a
            source; the message names the file and the entry.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--map-file {path}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise UsageError(f"--map-file {path}: not a readable YAML file ({reason})") from None
    if not isinstance(data, dict):
        raise UsageError(
            f"--map-file {path}: must map evalkit columns to yours (e.g. item_id: question_id)"
        )
    try:
        entries = _MapFile.validate_python({str(k): v for k, v in data.items()})
    except pydantic.ValidationError as exc:
        # The union's last branch (a mapping) explains more than "not a string".
        error = exc.errors()[-1]
        where = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("str", "func")))
        raise UsageError(f"--map-file {path}: entry {where}: {error['msg']}") from None
    maps = []
    for target, entry in entries.items():
        if isinstance(entry, str):
            maps.append(ColumnMap(target, source=entry))
        elif entry.column is None:
            maps.append(ColumnMap(target, constant=value_key(entry.value)))
        else:
            values = {value_key(k): v for k, v in (entry.values or {}).items()} or None
            maps.append(ColumnMap(target, source=entry.column, values=values, words=entry.words))
    return maps


def _parts(source: str, columns: Iterable[str]) -> list[str]:
    """The columns a source names: itself, or the ``+``-joined parts when no column has its name."""
    return [source] if source in set(columns) or "+" not in source else source.split("+")


def sources(maps: Iterable[ColumnMap]) -> set[str]:
    """The log's columns that ``maps`` may read (a joined source names each part and itself)."""
    out = set()
    for m in maps:
        if m.source is not None:
            out |= {m.source, *m.source.split("+")}
    return out


def _source_column(frame: pd.DataFrame, source: str) -> pd.Series:
    parts = _parts(source, frame.columns)
    if len(parts) == 1:
        return frame[source]
    joined = frame[parts[0]].astype("string")
    for part in parts[1:]:
        joined = joined + "/" + frame[part].astype("string")
    return joined


def _translate(column: pd.Series, m: ColumnMap) -> pd.Series:
    assert m.values is not None
    keys = column.map(value_key, na_action="ignore")
    out = keys.map(m.values)
    unmapped = column.notna() & out.isna()
    if unmapped.any():
        where = np.flatnonzero(unmapped.to_numpy())
        seen = ", ".join(repr(v) for v in pd.unique(column[unmapped].astype(str))[:_SHOWN])
        rows = ", ".join(str(i) for i in where[:_SHOWN])
        more = " and more" if where.size > _SHOWN else ""
        raise UsageError(
            f"--map {m.written()}: column {m.source!r} holds {seen} "
            f"(row{'s' if where.size > 1 else ''} {rows}{more}), which the translation does not "
            "list; add FROM=TO for each, or empty those cells"
        )
    return out.astype("object")


def _positions(frame: pd.DataFrame) -> pd.DataFrame:
    """Verdicts ``first``/``second`` → candidate/baseline, through the order each row had."""
    verdict = frame["verdict"].astype("object")
    positional = verdict.isin(POSITIONS)
    if not positional.any():
        return frame
    if "order" not in frame.columns:
        raise UsageError(
            "verdicts first/second name a position, so evalkit needs each row's order: map the "
            "column that says whether the answers were swapped, e.g. "
            "--map order=swapped:false=AB,true=BA"
        )
    first_is_candidate = frame["order"] == "AB"
    picked_first = verdict == "first"
    out = frame.copy()
    out["verdict"] = verdict.mask(
        positional, np.where(picked_first == first_is_candidate, "candidate", "baseline")
    ).where(~positional | frame["order"].isin(("AB", "BA")))
    return out


def _split_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows holding both orders' verdicts (``verdict_ab``, ``verdict_ba``) → one row per order."""
    present = [c for c in WIDE_VERDICTS if c in frame.columns]
    if not present:
        return frame
    if "verdict" in frame.columns or "order" in frame.columns:
        raise UsageError(
            "map either verdict (and order), one row per order, or verdict_ab and verdict_ba, "
            "both orders on one row; not both"
        )
    rest = frame.drop(columns=present)
    parts = [rest.assign(order=WIDE_VERDICTS[c], verdict=frame[c]) for c in present]
    return pd.concat(parts, ignore_index=True)


def apply_maps(
    frame: pd.DataFrame, maps: Sequence[ColumnMap], known: Iterable[str], names: str = ""
) -> pd.DataFrame:
    """Build evalkit's columns from a foreign table: rename, translate, add constants, split.

    Columns no map mentions are kept as they are; a mapped target replaces a column of the same
    name. ``known`` lists the targets allowed besides ``verdict_ab``/``verdict_ba``; ``names``
    lists the log's columns for messages (default: ``frame``'s).

    Raises:
        UsageError: a map reads a column the table lacks, targets an unknown column, targets
            one column twice, or meets a value its translation does not list.
    """
    allowed = [*known, *WIDE_VERDICTS]
    unknown = [m.target for m in maps if m.target not in allowed]
    if unknown:
        raise UsageError(
            f"--map {', '.join(map(repr, unknown))}: not an evalkit column; map to one of: "
            f"{', '.join(allowed)}"
        )
    twice = sorted({m.target for m in maps if [n.target for n in maps].count(m.target) > 1})
    if twice:
        raise UsageError(f"--map: {', '.join(map(repr, twice))} mapped more than once; keep one")
    absent = [
        (m, part)
        for m in maps
        if m.source is not None
        for part in _parts(m.source, frame.columns)
        if part not in frame.columns
    ]
    if absent:
        raise UsageError(
            f"--map {', '.join(dict.fromkeys(m.written() for m, _ in absent))}: the log has no "
            f"column {', '.join(repr(part) for _, part in absent)}; its columns are: "
            f"{names or ', '.join(map(str, frame.columns))}"
        )
    built: dict[str, Any] = {}
    for m in maps:
        if m.constant is not None:
            built[m.target] = m.constant
        else:
            assert m.source is not None
            column = _source_column(frame, m.source)
            if m.words:
                built[m.target] = column.astype("string").str.count(r"\S+")
            else:
                built[m.target] = _translate(column, m) if m.values else column
    # Sources stay too (another map may read them, or --by may group by them), unless a
    # target takes their name.
    out = frame.drop(columns=[c for c in built if c in frame.columns]).assign(**built)
    out = _split_orders(out)
    return _positions(out) if "verdict" in out.columns else out
