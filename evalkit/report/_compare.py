"""Comparing two runs: gates, items whose panel verdict changed, judge reliability drift.

Like the report, a pure render of two run folders (:func:`render_compare`). Runs are matched
by suite name, gates by (suite, gate name), items by (suite, item_id), judges by (suite, judge
name); anything present in one run only is shown with the other side empty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from evalkit.records import SuiteRecord
from evalkit.report._env import ENV
from evalkit.report._judges import judge_rows
from evalkit.report._leaderboard import leaderboard_pairs
from evalkit.report._load import RunData, panel_frame
from evalkit.report._redact import redact_data, redact_texts
from evalkit.report._summary import overall_outcome

#: Most changed items listed; the transition counts cover all of them.
MAX_CHANGED: Final = 1000
_MISSING: Final = "(not in run)"

#: Reliability figures compared per judge: (label, audit frame key, estimate, low, high).
_FIGURES: Final = (
    ("flip rate", "position", "flip_rate", "flip_low", "flip_high"),
    ("first-position rate", "position", "first_position_rate", "fp_low", "fp_high"),
    ("self-preference", "self_preference", "self_preference", "low", "high"),
    ("verbosity odds ratio", "verbosity", "odds_ratio", "or_low", "or_high"),
    ("kappa with the panel", "kappa", "kappa_mean", "kappa_mean_low", "kappa_mean_high"),
)


def _suites(run: RunData) -> dict[str, SuiteRecord]:
    # Suite names are shown: redacted like every other string read from the run.
    return {str(redact_data(s.name)): s for s in run.run.suites}


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def gate_pairs(a: RunData, b: RunData) -> list[dict[str, Any]]:
    """Every gate of either run, with both runs' result (or None) and the figure's change."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for side, run in (("a", a), ("b", b)):
        for name, suite in _suites(run).items():
            for gate in suite.gates:
                key = (name, gate.name)
                rows.setdefault(key, {"suite": name, "gate": key[1], "a": None, "b": None})
                rows[key][side] = redact_data(gate.model_dump())
    for row in rows.values():
        fa = _number(row["a"]["figure"]) if row["a"] else None
        fb = _number(row["b"]["figure"]) if row["b"] else None
        row["change"] = fb - fa if fa is not None and fb is not None else None
    return [rows[k] for k in sorted(rows)]


def _verdicts(run: RunData) -> pd.Series:
    """Each item's panel verdict, ``abstained`` when the panel abstained."""
    panel = panel_frame(run.run)
    verdict = panel["verdict"].astype(object).where(panel["verdict"].notna(), None)
    verdict = verdict.mask(panel["abstained"].eq(True).to_numpy(), "abstained").fillna("none")
    index = pd.MultiIndex.from_frame(panel[["suite", "item_id"]])
    return pd.Series(verdict.to_numpy(), index=index)


def changed_items(a: RunData, b: RunData) -> dict[str, Any]:
    """Items whose panel verdict differs between the runs, and counts of each transition.

    Returns ``items`` (at most :data:`MAX_CHANGED`: suite, item_id, a, b), ``transitions``
    (a, b, count, most frequent first), ``n_changed``, ``n_common`` (items in both runs) and
    ``n_only_a`` / ``n_only_b``.
    """
    va, vb = _verdicts(a), _verdicts(b)
    va = va[~va.index.duplicated(keep="last")]
    vb = vb[~vb.index.duplicated(keep="last")]
    both = pd.DataFrame({"a": va, "b": vb})
    common = both.dropna()
    changed = common.loc[common["a"] != common["b"]].reset_index()
    changed.columns = ["suite", "item_id", "a", "b"]
    transitions = (
        changed.groupby(["a", "b"]).size().sort_values(ascending=False).reset_index(name="count")
    )
    shown = changed.head(MAX_CHANGED)
    return {
        "items": [
            {"suite": s, "item_id": i, "a": x, "b": y}
            for s, i, x, y in zip(
                redact_texts(shown["suite"].astype(str).tolist()),
                redact_texts(shown["item_id"].astype(str).tolist()),
                shown["a"], shown["b"], strict=True,
            )
        ],
        "transitions": transitions.to_dict(orient="records"),
        "n_changed": len(changed),
        "n_common": len(common),
        "n_only_a": int(both["b"].isna().sum()),
        "n_only_b": int(both["a"].isna().sum()),
    }  # fmt: skip


def _figure(row: Mapping[str, Any] | None, key: str, est: str, low: str, high: str) -> Any:
    record = (row or {}).get(key)
    if not record or (key in ("self_preference", "verbosity") and not record.get("measurable")):
        return None
    values = (_number(record.get(est)), _number(record.get(low)), _number(record.get(high)))
    return None if values[0] is None else values


def judge_drift(a: RunData, b: RunData) -> list[dict[str, Any]]:
    """Per (suite, judge) of either run: both verdicts and each reliability figure in both runs.

    A figure *drifted* when both runs measured it and their intervals do not overlap: the
    change is then larger than either run's own uncertainty.
    """
    sides: dict[tuple[str, str], dict[str, Any]] = {}
    for side, run in (("a", a), ("b", b)):
        for name, suite in _suites(run).items():
            audit = redact_data(suite.audit.model_dump()) if suite.audit is not None else {}
            for row in judge_rows(audit):
                judge_key = (name, str(row["judge"]))
                sides.setdefault(judge_key, {"a": None, "b": None})[side] = row
    out = []
    for (suite_name, judge), pair in sorted(sides.items()):
        figures = []
        for label, frame, est, low, high in _FIGURES:
            fa = _figure(pair["a"], frame, est, low, high)
            fb = _figure(pair["b"], frame, est, low, high)
            drift = bool(fa and fb and (fa[1] > fb[2] or fb[1] > fa[2]))
            figures.append({"label": label, "a": fa, "b": fb, "drift": drift})
        out.append(
            {
                "suite": suite_name,
                "judge": judge,
                "verdict_a": pair["a"]["verdict"] if pair["a"] else None,
                "verdict_b": pair["b"]["verdict"] if pair["b"] else None,
                "figures": figures,
                "n_drift": sum(f["drift"] for f in figures),
            }
        )
    return out


def _header(run: RunData) -> dict[str, Any]:
    record = run.run
    return {
        "run_id": redact_data(record.run_id),
        "dir": run.run_dir.name,
        "status": record.status,
        "evalkit_version": record.evalkit_version,
        "config_digest": record.config_digest,
        "started": record.started,
        "outcome": overall_outcome(record.suites, record.errors),
        "models": {
            redact_data(s.name): redact_data(s.models.model_dump(mode="json"))
            for s in record.suites
        },
    }


def render_compare(a: RunData, b: RunData) -> str:
    """Render a page comparing run ``a`` (before) with run ``b`` (after).

    Pure: reads only the two runs, calls no model, writes no file.
    """
    return ENV.get_template("compare.html.j2").render(
        a=_header(a),
        b=_header(b),
        gates=gate_pairs(a, b),
        changed=changed_items(a, b),
        drift=judge_drift(a, b),
        boards=leaderboard_pairs(a.run, b.run),
        missing=_MISSING,
    )
