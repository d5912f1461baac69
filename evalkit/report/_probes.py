"""The report's bias-probe section: judge x probe, robustness with its interval, and examples.

Reads the suite's probe statistics (run.json ``probes``), its reliability checks (the status
that colours each cell) and the probe table of probes.jsonl (the drill-down: each edited pair
with every judge's verdict on it and on the unedited pair, in each order). Pure: plain data
in, plain data out; the template renders it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd

from evalkit.probes._edits import UNEDITED
from evalkit.records import SuiteRecord

#: Edited pairs shown per probe in the drill-down: enough to see what the edit was.
EXAMPLES_PER_PROBE: Final = 3
_BADGE: Final = {"ok": "trusted", "questionable": "questionable", "untrusted": "untrusted"}


def _statuses(suite: SuiteRecord) -> dict[tuple[str, str], str]:
    checks = suite.audit.checks if suite.audit is not None else []
    return {
        (str(c["judge"]), str(c["check"]).removeprefix("probe:")): str(c["status"])
        for c in checks
        if str(c["check"]).startswith("probe:")
    }


def _examples(table: pd.DataFrame, probe: str) -> list[dict[str, Any]]:
    """Up to :data:`EXAMPLES_PER_PROBE` edited pairs of ``probe`` with every verdict on them."""
    edited = table.loc[table["probe"] == probe]
    base = table.loc[table["probe"] == UNEDITED]
    before = {
        (r["item_id"], r["judge"], r["order"], r["sample"]): r["verdict"]
        for r in base.to_dict("records")
    }
    out = []
    for item_id in list(dict.fromkeys(edited["item_id"]))[:EXAMPLES_PER_PROBE]:
        rows = edited.loc[edited["item_id"] == item_id].to_dict("records")
        first = rows[0]
        out.append({
            "item_id": item_id, "target": first["target"], "note": first.get("note") or "",
            "question": _text(first.get("question")),
            "first": first.get("first") or "", "second": first.get("second") or "",
            "verdicts": [
                {"judge": r["judge"], "order": r["order"],
                 "unedited": before.get((item_id, r["judge"], r["order"], r["sample"])),
                 "edited": r["verdict"] if r["status"] == "ok" else r["status"]}
                for r in rows
            ],
        })  # fmt: skip
    return out


def _text(value: Any) -> str:
    # Tables written before rows carried the question read it back as NaN (a float).
    return value if isinstance(value, str) else ""


def probe_view(suite: SuiteRecord, probes: pd.DataFrame) -> dict[str, Any] | None:
    """The section's data for ``suite`` (None when it ran no probe).

    ``probes`` is the run's probe table (any suites; extra columns ``question``, ``first``,
    ``second`` and ``note`` hold each pair's texts for the drill-down).
    """
    if not suite.probes:
        return None
    statuses = _statuses(suite)
    rows: Sequence[Mapping[str, Any]] = suite.probes
    cells = [
        {**row, "status": (s := statuses.get((str(row["judge"]), str(row["probe"])), "ok")),
         "badge": _BADGE.get(s, "")}
        for row in rows
    ]  # fmt: skip
    names = list(dict.fromkeys(str(row["probe"]) for row in rows))
    by_judge: dict[str, dict[str, Any]] = {}
    for cell in cells:
        by_judge.setdefault(str(cell["judge"]), {})[str(cell["probe"])] = cell
    mine = probes.loc[probes["suite"] == suite.name] if "suite" in probes else probes[:0]
    return {
        "judges": list(by_judge),
        "probes": names,
        "cells": by_judge,
        "examples": {name: _examples(mine, name) for name in names} if len(mine) else {},
    }
