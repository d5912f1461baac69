"""Reading a run folder back into memory, for rendering without a single model call."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Final

import pandas as pd

from evalkit.audit import run_audit
from evalkit.panel import PanelRule
from evalkit.records import RunRecord, SuiteRecord, read_judgments, read_run
from evalkit.records._run import AuditSummary, JudgeRef, ModelRef, SuiteModels
from evalkit.records._store import read_answers
from evalkit.records._usage import call_counts, costs, tokens
from evalkit.report._leaderboard import with_leaderboards

_PANEL_COLUMNS: Final = ["suite", "item_id", "verdict", "abstained", "reason"]


@dataclasses.dataclass(frozen=True)
class RunData:
    """Everything the report shows: the run record, the judgments table and the answers table."""

    run_dir: Path
    run: RunRecord
    judgments: pd.DataFrame
    answers: pd.DataFrame
    #: the bias probes' table (probes.jsonl; empty when no suite ran probes).
    probes: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)


def _first(part: pd.DataFrame, column: str) -> str:
    values = part[column].dropna()
    return str(values.iloc[0]) if len(values) else "unknown"


def _rows_of(frame: pd.DataFrame, suite: str) -> pd.DataFrame:
    return frame.loc[frame["suite"] == suite] if len(frame) and "suite" in frame else frame[:0]


def audited_suites(
    judgments: pd.DataFrame, answers: pd.DataFrame, *, seed: int, rule: PanelRule | None = None
) -> list[SuiteRecord]:
    """Suite records for a judgments table recorded without run.json (e.g. by another tool).

    They carry the calls' counts and the audit under ``rule`` (default: the default panel
    rule), measured now, but no gates: gates are decided by the suite that ran.
    """
    suites = []
    for name, part in judgments.groupby("suite", sort=True):
        audit = AuditSummary.model_validate(run_audit(part, seed=seed, rule=rule).to_dict())
        judges = part.groupby("judge", sort=True)["judge_family"].first()
        mine = _rows_of(answers, str(name))
        models = SuiteModels(
            candidate=ModelRef(
                name=_first(part, "candidate"), family=_first(part, "candidate_family")
            ),
            baseline=ModelRef(name=_first(part, "baseline"), family=_first(part, "baseline_family"))
            if part["baseline"].notna().any() or (part["mode"] == "pairwise").any()
            else None,  # a scored suite that asked no baseline
            judges=[
                JudgeRef(
                    name=str(j), model=str(j), family=str(f) if isinstance(f, str) else "unknown"
                )
                for j, f in judges.items()
            ],
        )
        suites.append(
            SuiteRecord(
                name=str(name),
                models=models,
                calls=call_counts(part, mine),
                cost_usd=costs(part, mine),
                tokens=tokens(part, mine),
                position=audit.position,
                audit=audit,
            )
        )
    return suites


def load_run(run_dir: Path, *, seed: int = 0) -> RunData:
    """Read ``run_dir``'s run.json, judgments.jsonl and answers.jsonl.

    A folder whose run.json is missing, or lists no suites (judgments recorded elsewhere and
    copied in), is audited here from the judgments table, with bootstrap ``seed``: it gets a
    run record of status ``re-audited``. A suite that judged several candidates gets its
    leaderboard (bootstrap ``seed``) when its record has none.

    Raises:
        UsageError: the folder holds no judgments file, its table is invalid, or its run.json
            cannot be read (see :func:`evalkit.records.read_run`).
    """
    judgments = read_judgments(run_dir)
    answers = read_answers(run_dir)
    run = read_run(run_dir)
    if run is None:
        run = RunRecord(run_id=_first(judgments, "run_id"), status="re-audited")
    if not run.suites and len(judgments):
        suites = audited_suites(judgments, answers, seed=seed)
        run = run.model_copy(update={"status": "re-audited", "suites": suites})
    run = with_leaderboards(run, judgments, seed=seed)
    return RunData(run_dir=run_dir, run=run, judgments=judgments, answers=answers)


def log_run(
    path: Path, judgments: pd.DataFrame, *, seed: int = 0, rule: PanelRule | None = None
) -> RunData:
    """A judge log recorded elsewhere (no run folder), audited under ``rule``, as a run to render.

    ``judgments`` is the log read and validated (see :func:`evalkit.audit._input.load_log`);
    the run is named after the file, has no answers and status ``re-audited``.
    """
    run = RunRecord(
        run_id=path.name,
        status="re-audited",
        suites=audited_suites(judgments, pd.DataFrame(), seed=seed, rule=rule),
    )
    return RunData(run_dir=path.parent, run=run, judgments=judgments, answers=pd.DataFrame())


def panel_frame(run: RunRecord) -> pd.DataFrame:
    """The panel verdict of every item of every suite of ``run``.

    A suite's own ``panel`` (the verdicts its gates were decided on, with the panel's
    aggregation and quorum) is preferred; a suite without it falls back on the audit's.
    Columns suite, item_id, verdict, abstained, reason; empty when there are none.
    """
    records = []
    for suite in run.suites:
        if suite.panel:
            rows = [p.model_dump() for p in suite.panel]
        else:
            rows = list(suite.audit.panel) if suite.audit is not None else []
        records += [{**r, "suite": suite.name} for r in rows]
    frame = pd.DataFrame.from_records(records, columns=_PANEL_COLUMNS)
    return frame.astype({"suite": "string", "item_id": "string"})


def run_view(run: RunRecord) -> dict[str, Any]:
    """``run`` as plain data for the templates, without the per-item panel records.

    Those are read as a table by :func:`panel_frame`; left in, they would be walked record
    by record with the rest of the run.
    """
    return run.model_dump(
        mode="json", exclude={"suites": {"__all__": {"panel": True, "audit": {"panel"}}}}
    )
