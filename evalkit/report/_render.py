"""Rendering a run as one self-contained HTML page: no network, no external script or style.

Everything the page shows comes from the run folder (see :func:`load_run`), so an old run can
be re-rendered at no cost. Model output is untrusted text: the template autoescapes every
value, and the page's small script only reads ``data-`` attributes and toggles visibility.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from evalkit.report._load import RunData

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_ENV.filters["fmt"] = _fmt


def interval_svg_rows(position: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Geometry for the first-position-rate chart: one row per judge, x in [0, 1] → pixels."""
    width, left = 360.0, 150.0
    rows = []
    for i, row in enumerate(position):
        est = row.get("first_position_rate")
        low, high = row.get("fp_low"), row.get("fp_high")
        if est is None or low is None or high is None:
            continue
        rows.append(
            {
                "y": 20 + i * 26,
                "label": row["judge"],
                "x": left + est * width,
                "x1": left + low * width,
                "x2": left + high * width,
                "text": f"{est:.2f} [{low:.2f}, {high:.2f}]",
            }
        )
    return rows


def _items(run: RunData) -> list[dict[str, Any]]:
    """One entry per (suite, item): answers, each judge's verdict per order, flags to sort by."""
    table = run.judgments
    answers = run.answers
    by_item: dict[tuple[str, str], dict[str, Any]] = {}
    if len(answers):
        for row in answers.to_dict("records"):
            entry = by_item.setdefault(
                (row["suite"], row["item_id"]),
                {"suite": row["suite"], "item_id": row["item_id"], "calls": []},
            )
            entry[row["role"]] = row
            entry["prompt"] = row["prompt"] if row["role"] == "candidate" else entry.get("prompt")
    for row in table.to_dict("records"):
        entry = by_item.setdefault(
            (row["suite"], row["item_id"]),
            {"suite": row["suite"], "item_id": row["item_id"], "calls": []},
        )
        entry["calls"].append({k: (None if v is pd.NA else v) for k, v in row.items()})
    items = []
    for entry in by_item.values():
        calls = entry["calls"]
        verdicts: dict[str, set[str]] = {}
        for call in calls:
            if call["verdict"] is not None:
                verdicts.setdefault(call["judge"], set()).add(call["verdict"])
        flipped = any(len(v) > 1 for v in verdicts.values())
        combined = {next(iter(v)) for v in verdicts.values() if len(v) == 1}
        entry["flipped"] = flipped
        entry["disagree"] = len(combined) > 1
        entry["parse_fail"] = any(not c["parse_ok"] for c in calls)
        entry["priority"] = (not entry["disagree"], not flipped, not entry["parse_fail"])
        items.append(entry)
    items.sort(key=lambda e: (e["priority"], e["suite"], e["item_id"]))
    return items


def render(run: RunData) -> str:
    """Render the run as a standalone HTML document."""
    info = run.run
    suites = info.get("suites", [])
    for suite in suites:
        suite["chart"] = interval_svg_rows(suite.get("position", []))
    table = run.judgments
    totals = {
        "judge_calls": len(table),
        "unparseable": int(
            (~table["parse_ok"] & table["error"].fillna("").str.startswith("parse")).sum()
        ),
        "failed": int(
            (table["error"].notna() & ~table["error"].fillna("").str.startswith("parse")).sum()
        ),
        "cached": int(table["cached"].sum()),
        "judge_cost": float(table["cost_usd"].sum()),
        "answer_cost": float(run.answers["cost_usd"].sum()) if len(run.answers) else 0.0,
    }
    return _ENV.get_template("report.html.j2").render(
        run=info,
        suites=suites,
        totals=totals,
        items=_items(run),
        status=info.get("status", "unknown"),
    )
