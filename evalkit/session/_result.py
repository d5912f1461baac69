"""What one suite produced: its tables, panel verdicts, audit and gate outcomes."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pytest

from evalkit.gates import GateResult
from evalkit.records import Answer
from evalkit.session._engine import LineageDecision
from evalkit.session._summary import failure_groups


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

    def gate(self, name: str) -> GateResult:
        """The result of the gate called ``name``."""
        for result in self.gates:
            if result.name == name:
                return result
        raise KeyError(name)

    def item_summary(self, item_id: str) -> str:
        """A few lines on one item: both answers and every judge's verdict in each order."""
        cand = self.answers["candidate"][item_id]
        base = self.answers["baseline"][item_id]
        lines = [
            f"candidate ({cand.model}): {cand.text if cand.text is not None else cand.error}",
            f"baseline ({base.model}): {base.text if base.text is not None else base.error}",
        ]
        rows = self.judgments[self.judgments["item_id"] == item_id]
        for row in rows.to_dict("records"):
            outcome = row["verdict"] if row["parse_ok"] else (row["error"] or "no verdict")
            raw = row["raw_output"]
            lines.append(f"  {row['judge']} [{row['order']}]: {outcome}  (raw: {raw!r})")
        panel = self.panel[self.panel["item_id"] == item_id]
        if len(panel):
            p = panel.iloc[0]
            verdict = p["verdict"] if not p["abstained"] else f"abstained ({p['reason']})"
            lines.append(f"panel verdict: {verdict}")
        return "\n".join(lines)

    def check_item(self, item_id: str) -> None:
        """Fail the item's test when the candidate could not answer it; otherwise pass.

        Losing an item to the baseline is not a failure: the suite's gates decide on the
        whole sample, with its interval.
        """
        cand = self.answers["candidate"][item_id]
        if cand.text is None:
            pytest.fail(f"the candidate gave no answer: {cand.error}\n{self.item_summary(item_id)}")

    def panel_records(self) -> list[dict[str, Any]]:
        """Each item's panel verdict or score, abstained flag and reason, JSON-ready."""
        cols = ["item_id", "candidate", "verdict", "score", "abstained", "reason"]
        frame = self.panel[[c for c in cols if c in self.panel.columns]]
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        return [{str(k): v for k, v in r.items()} for r in records]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary for run.json."""

        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and math.isnan(v) else v

        table = self.judgments
        error = table["error"].fillna("")
        parse_failed = ~table["parse_ok"] & error.str.startswith("parse")
        answers = [a for by_item in self.answers.values() for a in by_item.values()]
        return {
            "name": self.name,
            "models": dict(self.models),
            "calls": {
                "answers": len(answers),
                "answers_cached": sum(a.cached for a in answers),
                "answers_failed": sum(a.text is None for a in answers),
                "judge": len(table),
                "judge_cached": int(table["cached"].sum()),
                "unparseable": int(parse_failed.sum()),
                "failed": int((table["error"].notna() & ~parse_failed).sum()),
                "failures": failure_groups([*table["error"].dropna(), *(a.error for a in answers)]),
            },
            "cost_usd": {
                "answers": sum(a.cost_usd for a in answers),
                "judges": float(table["cost_usd"].sum()),
                "audit": 0.0,
            },
            "tokens": {
                "answers": sum(a.input_tokens + a.output_tokens for a in answers),
                "judges": int(table["input_tokens"].sum() + table["output_tokens"].sum()),
            },
            "gates": [g.to_dict() for g in self.gates],
            "panel": self.panel_records(),
            "lineage": [dataclasses.asdict(d) | {"message": d.message()} for d in self.lineage],
            "position": [
                {k: clean(v) for k, v in r.items()} for r in self.position.to_dict("records")
            ],
            "audit": self.audit.to_dict() if self.audit is not None else None,
        }
