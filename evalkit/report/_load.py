"""Reading a run folder back into memory, for rendering without a single model call."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pandas as pd

from evalkit.audit import run_audit
from evalkit.records import read_answers, read_judgments, read_run

_PANEL_COLUMNS: Final = ["suite", "item_id", "verdict", "abstained", "reason"]


@dataclasses.dataclass(frozen=True)
class RunData:
    """Everything the report shows: run.json, the judgments table and the answers table.

    ``run`` has the shape :meth:`EvalSession.finish` writes (run_id, status, evalkit_version,
    config_digest, config, started, finished, suites, errors); each suite carries its name,
    models, gates, lineage, position and audit (:meth:`AuditReport.to_dict`).
    """

    run_dir: Path
    run: dict[str, Any]
    judgments: pd.DataFrame
    answers: pd.DataFrame


def _first(part: pd.DataFrame, column: str) -> str:
    values = part[column].dropna()
    return str(values.iloc[0]) if len(values) else "unknown"


def _audited_suites(judgments: pd.DataFrame, seed: int) -> list[dict[str, Any]]:
    """Suites for a judgments table recorded without run.json (e.g. by another tool).

    They carry the audit, measured now, but no gates: gates are decided by the suite that ran.
    """
    suites = []
    for name, part in judgments.groupby("suite", sort=True):
        audit = run_audit(part, seed=seed).to_dict()
        judges = part.groupby("judge", sort=True)["judge_family"].first()
        suites.append(
            {
                "name": str(name),
                "models": {
                    "candidate": {
                        "name": _first(part, "candidate"),
                        "family": _first(part, "candidate_family"),
                    },
                    "baseline": {
                        "name": _first(part, "baseline"),
                        "family": _first(part, "baseline_family"),
                    },
                    "panel": "",
                    "judges": [
                        {"name": str(j), "model": str(j), "family": str(f)}
                        for j, f in judges.items()
                    ],
                },
                "gates": [],
                "lineage": [],
                "position": audit["position"],
                "audit": audit,
            }
        )
    return suites


def load_run(run_dir: Path, *, seed: int = 0) -> RunData:
    """Read ``run_dir``'s run.json, judgments.jsonl and answers.jsonl.

    A folder whose run.json is missing, or lists no suites (judgments recorded elsewhere and
    copied in), is audited here from the judgments table, with bootstrap ``seed``.

    Raises:
        UsageError: the folder holds no judgments file, or its table is invalid.
    """
    judgments = read_judgments(run_dir)
    run = read_run(run_dir)
    if not run.get("suites") and len(judgments):
        run = {
            "run_id": _first(judgments, "run_id"),
            "status": "re-audited",
            **run,
            "suites": _audited_suites(judgments, seed),
        }
    return RunData(run_dir=run_dir, run=run, judgments=judgments, answers=read_answers(run_dir))


def panel_frame(run: Mapping[str, Any]) -> pd.DataFrame:
    """The panel verdict of every item of every suite of ``run`` (a run.json dict).

    A suite's own ``panel`` (the verdicts its gates were decided on, with the panel's
    aggregation and quorum) is preferred; a run.json without it falls back on the audit's.
    Columns suite, item_id, verdict, abstained, reason; empty when there are none.
    """
    records = []
    for suite in run.get("suites", []):
        panel = suite.get("panel")
        if not isinstance(panel, list):
            panel = (suite.get("audit") or {}).get("panel", [])
        records += [{**r, "suite": suite["name"]} for r in panel]
    frame = pd.DataFrame.from_records(records, columns=_PANEL_COLUMNS)
    return frame.astype({"suite": "string", "item_id": "string"})


def without_panels(run: Mapping[str, Any]) -> dict[str, Any]:
    """``run`` without the per-item panel records (the suites' and the audits').

    They are read as a table by :func:`panel_frame`; left in, they would be walked record by
    record with the rest of run.json.
    """
    suites = [
        {
            **{k: v for k, v in s.items() if not (k == "panel" and isinstance(v, list))},
            "audit": {k: v for k, v in (s.get("audit") or {}).items() if k != "panel"},
        }
        for s in run.get("suites", [])
    ]
    return {**run, "suites": suites}
