"""The gate that asks the auditor first: may these judges' verdicts be used at all."""

from __future__ import annotations

import dataclasses
import math

from evalkit.gates._gates import GateInputs, GateResult, Outcome, name_gate


@dataclasses.dataclass(frozen=True, slots=True)
class JudgesTrusted:
    """Every judge of the panel must be rated *trusted* by the bias auditor.

    Fails when any judge is *untrusted* (a measured bias beyond tolerance); inconclusive when
    none is untrusted but some are *questionable* (too little data to clear a check) unless
    ``allow_questionable``. The figure is the share of trusted judges.
    """

    allow_questionable: bool = False

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "judges_trusted")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the auditor's reliability verdicts."""
        table = inputs.reliability
        if table is None or table.empty:
            return GateResult(
                self.name, "inconclusive", math.nan, math.nan, math.nan, 0, 1.0,
                "no reliability verdicts: the audit measured no judge",
            )  # fmt: skip
        verdicts = dict(zip(table["judge"], table["verdict"], strict=True))
        reasons = dict(zip(table["judge"], table["reasons"], strict=True))
        untrusted = sorted(j for j, v in verdicts.items() if v == "untrusted")
        questionable = sorted(j for j, v in verdicts.items() if v == "questionable")
        share = sum(v == "trusted" for v in verdicts.values()) / len(verdicts)
        outcome: Outcome
        if untrusted:
            outcome = "fail"
        elif questionable and not self.allow_questionable:
            outcome = "inconclusive"
        else:
            outcome = "pass"
        parts = [f"{share:.0%} of {len(verdicts)} judges trusted"]
        parts += [f"{j} untrusted: {reasons[j]}" for j in untrusted]
        parts += [f"{j} questionable: {reasons[j]}" for j in questionable]
        return GateResult(
            name=self.name, outcome=outcome, figure=share, low=share, high=share,
            n=len(verdicts), threshold=1.0, message="; ".join(parts),
        )  # fmt: skip
