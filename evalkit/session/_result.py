"""What one suite produced: its tables, panel verdicts, audit and gate outcomes."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from evalkit.gates import GateResult
from evalkit.records import SuiteRecord
from evalkit.records._answers import Answer
from evalkit.records._run import (
    AuditSummary,
    GateRecord,
    LineageRecord,
    PanelVerdict,
    SuiteModels,
    table_rows,
)
from evalkit.records._status import FAILED_STATUSES
from evalkit.records._texts import SuiteTexts
from evalkit.records._usage import call_counts, costs, tokens
from evalkit.session._engine import LineageDecision


@dataclasses.dataclass(frozen=True, slots=True)
class Conclusion:
    """How one test of a suite ends; the plugin turns it into pytest's pass, fail or skip."""

    status: Literal["passed", "failed", "skipped"]
    #: why it failed or was skipped ("" when it passed).
    message: str = ""


@dataclasses.dataclass(frozen=True)
class SuiteResult:
    """The outcome of running one suite (see :meth:`EvalSession.suite_result`)."""

    name: str
    judgments: pd.DataFrame
    answers: Mapping[str, Mapping[str, Answer]]  # role -> item_id -> answer
    combined: pd.DataFrame
    panel: pd.DataFrame
    position: pd.DataFrame
    audit: Any  # evalkit.audit.AuditReport
    gates: Sequence[GateResult]
    lineage: Sequence[LineageDecision]
    models: Mapping[str, Any]
    #: the inputs and answers an accepted run keeps (see :mod:`evalkit.records._texts`).
    texts: SuiteTexts | None = None
    #: the probe table (evalkit.probes.PROBE_COLUMNS) and its statistics, for a suite with probes.
    probes: pd.DataFrame | None = None
    probe_stats: pd.DataFrame | None = None

    def gate(self, name: str) -> GateResult:
        """The result of the gate called ``name``."""
        for result in self.gates:
            if result.name == name:
                return result
        raise KeyError(name)

    def item_summary(self, item_id: str) -> str:
        """A few lines on one item: its answers and every judge's verdict in each order."""
        lines = []
        for role, by_item in self.answers.items():
            if item_id in by_item:  # a scored suite may ask no baseline
                a = by_item[item_id]
                lines.append(f"{role} ({a.model}): {a.text if a.text is not None else a.error}")
        rows = self.judgments[self.judgments["item_id"] == item_id]
        for row in rows.to_dict("records"):
            ok = row["status"] == "ok"
            outcome = row["verdict"] if ok else f"{row['status']}: {row['error'] or 'no verdict'}"
            raw = row["raw_output"]
            lines.append(f"  {row['judge']} [{row['order']}]: {outcome}  (raw: {raw!r})")
        panel = self.panel[self.panel["item_id"] == item_id]
        if len(panel):
            p = panel.iloc[0]
            verdict = p["verdict"] if not p["abstained"] else f"abstained ({p['reason']})"
            lines.append(f"panel verdict: {verdict}")
        return "\n".join(lines)

    def item_conclusion(self, item_id: str) -> Conclusion:
        """The item's test fails when the item was not evaluated; otherwise it passes.

        Not evaluated: the candidate could not answer it, or no call judging it gave a verdict
        because the calls failed (an outage, a spent budget, a missing baseline answer). Losing
        an item to the baseline is not a failure, nor is a judge's unreadable reply (a fact
        about the judge, which the audit weighs): the suite's gates decide on the whole
        sample, with its interval.
        """
        cand = self.answers["candidate"][item_id]
        if cand.status != "ok":
            summary = self.item_summary(item_id)
            return Conclusion("failed", f"the candidate gave no answer: {cand.error}\n{summary}")
        error = self._not_judged.get(item_id)
        if error is not None:
            summary = self.item_summary(item_id)
            return Conclusion("failed", f"no judge could evaluate the item: {error}\n{summary}")
        return Conclusion("passed")

    @functools.cached_property
    def _not_judged(self) -> Mapping[str, str]:
        """Items whose judge calls gave no verdict and at least one failed: item → its error.

        Computed once for the whole table (one item's test at a time would filter it again
        for every item).
        """
        table = self.judgments
        if table.empty:
            return {}
        judged = table["status"].eq("ok").groupby(table["item_id"]).any()
        failed = table.loc[table["status"].isin(FAILED_STATUSES)]
        errors = failed.groupby("item_id")["error"].first()
        errors = errors[~judged.reindex(errors.index, fill_value=False).to_numpy(dtype=bool)]
        return {str(item): str(error) for item, error in errors.items()}

    def panel_records(self) -> list[PanelVerdict]:
        """Each item's panel verdict or score, abstained flag and reason."""
        cols = ["item_id", "candidate", "verdict", "score", "abstained", "reason"]
        frame = self.panel[[c for c in cols if c in self.panel.columns]]
        return [PanelVerdict.model_validate(r) for r in table_rows(frame)]

    def record(self) -> SuiteRecord:
        """The suite's part of run.json."""
        answers = pd.DataFrame.from_records(
            [a.to_dict() for by_item in self.answers.values() for a in by_item.values()]
        )
        table = self.judgments
        return SuiteRecord(
            name=self.name,
            models=SuiteModels.model_validate(self.models),
            calls=call_counts(table, answers),
            cost_usd=costs(table, answers),
            tokens=tokens(table, answers),
            gates=[GateRecord.model_validate(g.to_dict()) for g in self.gates],
            panel=self.panel_records(),
            lineage=[
                LineageRecord.model_validate(dataclasses.asdict(d) | {"message": d.message()})
                for d in self.lineage
            ],
            position=table_rows(self.position),
            audit=AuditSummary.model_validate(self.audit.to_dict()) if self.audit else None,
            texts=self.texts,
            probes=[] if self.probe_stats is None else table_rows(self.probe_stats),
        )
