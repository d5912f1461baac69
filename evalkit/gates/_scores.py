"""Gates on scores: the panel's mean rubric score, and the pass rate of deterministic graders."""

from __future__ import annotations

import dataclasses
import math

from evalkit.audit._intervals import wilson_interval
from evalkit.gates._gates import GateInputs, GateResult, decide, name_gate, not_applicable
from evalkit.gates._regression import paired_bootstrap


@dataclasses.dataclass(frozen=True, slots=True)
class MeanScore:
    """The candidate's mean panel score must be at least ``at_least`` (on the judges' scale).

    Items the panel abstained on are excluded and counted. The interval is a percentile
    bootstrap of the mean over items (seeded), and the gate passes when its lower bound reaches
    ``at_least``. Why not Student's t: judges' scores pile up at the ends of a bounded scale,
    and a symmetric t interval then reaches past the scale (a mean of 9.1 on 1-10 got
    [8.07, 10.13]); clipping it to the scale would hide that its other end is too close, too.
    Every resampled mean lies between the lowest and the highest score given, so the bootstrap
    interval stays on the judges' scale and follows the skew. With one item there is no
    interval (NaN bounds), and the gate is inconclusive.
    """

    at_least: float = 7.0
    min_items: int = 20

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "mean_score")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the panel's scores of the candidate's answers."""
        panel = inputs.panel
        if "score" not in panel.columns:
            return not_applicable(self.name, self.at_least, "mean_score needs a scored suite")
        mine = panel.loc[panel["candidate"] == inputs.candidate] if inputs.candidate else panel
        abstained = int(mine["abstained"].astype(bool).sum())
        scores = mine.loc[~mine["abstained"].astype(bool), "score"].astype(float).dropna()
        n = int(scores.size)
        mean, low, high = paired_bootstrap(
            scores.to_numpy(dtype=float), confidence=inputs.confidence, seed=inputs.seed
        )
        if n < 2:
            low = high = math.nan
        outcome = decide(low, high, self.at_least, n=n, min_items=self.min_items)
        pct = round(inputs.confidence * 100)
        message = (
            f"mean score {mean:.2f} [{low:.2f}, {high:.2f}] ({pct}% bootstrap) on {n} items "
            f"({abstained} abstained); needs the lower bound >= {self.at_least}"
        )
        return GateResult(self.name, outcome, mean, low, high, n, self.at_least, message)


@dataclasses.dataclass(frozen=True, slots=True)
class PassRate:
    """The share of items whose answer passes the deterministic graders.

    ``grader`` names one grader; by default an item passes when every grader passes it. A
    missing answer counts as a failure: it did not pass. Wilson interval; the gate passes when
    its lower bound reaches ``at_least``.
    """

    at_least: float = 0.95
    grader: str | None = None
    min_items: int = 20

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "pass_rate")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the graders' rows for the candidate's answers."""
        rows = inputs.graded
        if rows is None or rows.empty:
            return not_applicable(self.name, self.at_least, "the suite has no graders")
        if inputs.candidate:
            rows = rows.loc[rows["candidate"] == inputs.candidate]
        if self.grader is not None:
            rows = rows.loc[rows["judge"] == self.grader]
            if rows.empty:
                return not_applicable(self.name, self.at_least, f"no grader {self.grader!r}")
        passed = rows["score"].astype(float).fillna(0.0).eq(1.0)
        per_item = passed.groupby(rows["item_id"]).all()
        n, k = int(per_item.size), int(per_item.sum())
        ci = wilson_interval(k, n, confidence=inputs.confidence)
        outcome = decide(ci.low, ci.high, self.at_least, n=n, min_items=self.min_items)
        which = f"grader {self.grader}" if self.grader else "all graders"
        message = (
            f"{k} of {n} items pass {which}: {ci.estimate:.3f} [{ci.low:.3f}, {ci.high:.3f}] "
            f"(Wilson); needs the lower bound >= {self.at_least}"
        )
        return GateResult(
            self.name, outcome, ci.estimate, ci.low, ci.high, n, self.at_least, message
        )
