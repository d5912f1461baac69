"""Gates on the eval data itself: does it look like production, is it judged by its own kin.

Judge bias is half of why offline scores lie; the other half is data that does not look like
what users type, or that was written by the family of the judges grading it. These gates
decide on that before the score is trusted.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import ConfigError
from evalkit.gates._gates import GateInputs, GateResult, Outcome, name_gate, not_applicable


def _caller_dir(depth: int) -> Path:
    # The frame that built the gate: _caller_dir <- default factory <- __init__ <- caller.
    import sys

    return Path(sys._getframe(depth).f_code.co_filename).resolve().parent


@dataclasses.dataclass(frozen=True, slots=True)
class MatchesProduction:
    """The suite's inputs must be hard to tell from a sample of real production inputs.

    A text classifier (character and word n-grams) is trained on half of the suite's inputs
    (the questions as the candidate is asked them) and of ``production``, a JSONL/CSV/Parquet
    file of real user messages (no labels needed; ``field`` names its text column, by default
    the first of ``text``, ``input``, ``question``, ``prompt``, ``message``), and tested on the
    other half (see :func:`evalkit.data.compare`). Its ROC AUC is 0.5 when the two cannot be
    told apart and 1.0 when every eval input is recognisable as such. The gate passes when the
    AUC's upper bound is below ``max_auc``, fails when its lower bound is at or above it, and
    is otherwise inconclusive. Large production files are sampled (``sample`` rows, seeded by
    the run's seed). The report shows what gives the eval set away: the descriptors that
    differ, the eval items least like production, the production inputs least covered.
    """

    production: str | Path = dataclasses.field(metadata={"in_name": False})
    max_auc: float = 0.75
    field: str | None = None
    sample: int = 10_000

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""
    #: folder ``production`` is resolved against: the declaring module's folder.
    base_dir: Path = dataclasses.field(
        default_factory=lambda: _caller_dir(3), metadata={"in_name": False}, compare=False
    )

    def __post_init__(self) -> None:
        name_gate(self, "matches_production")

    def path(self) -> Path:
        """The production sample, resolved against the suite module's folder."""
        path = Path(self.production)
        return path if path.is_absolute() else self.base_dir / path

    def check(self) -> None:
        """Check the settings and the production file's header, before any call.

        Raises:
            ConfigError: ``max_auc`` is not above 0.5 and at most 1, or ``sample`` is below 2.
            DatasetError: the file is missing, unreadable, or has no such text field.
        """
        from evalkit.data._read import text_field

        if not 0.5 < self.max_auc <= 1.0:
            raise ConfigError(
                f"max_auc={self.max_auc!r}; give a value above 0.5 (an AUC "
                "of 0.5 means indistinguishable) and at most 1, e.g. 0.75"
            )
        if self.sample < 2:
            raise ConfigError(f"sample={self.sample!r}; give at least 2 rows")
        text_field(self.path(), self.field, option="field=")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the classifier two-sample test of the suite's inputs vs production."""
        from evalkit.data import compare
        from evalkit.data._read import read_texts

        if len(inputs.inputs) < 2:
            return not_applicable(self.name, self.max_auc, "needs at least 2 suite inputs")
        texts = read_texts(
            self.path(), self.field, sample=self.sample, seed=inputs.seed, option="field="
        )
        comparison = compare(
            list(inputs.inputs), texts.texts, seed=inputs.seed, confidence=inputs.confidence
        )
        auc = comparison.classifier.auc
        details: dict[str, Any] = {
            "kind": "matches_production", "production": str(self.path()),
            "read": texts.note(), **comparison.to_dict(),
        }  # fmt: skip
        if auc.value is None or auc.low is None or auc.high is None:
            return GateResult(
                self.name, "inconclusive", math.nan, math.nan, math.nan, auc.n, self.max_auc,
                f"classifier AUC not measurable: {auc.reason}", details,
            )  # fmt: skip
        outcome: Outcome
        if auc.high < self.max_auc:
            outcome = "pass"
        elif auc.low >= self.max_auc:
            outcome = "fail"
        else:
            outcome = "inconclusive"
        flagged = comparison.flagged()
        said = "; ".join(f"eval inputs {s.direction}" for s in flagged[:3])
        message = (
            f"a classifier tells the suite's inputs from production with AUC {auc.value:.2f} "
            f"[{auc.low:.2f}, {auc.high:.2f}] (0.5: indistinguishable; at most "
            f"{self.max_auc:g} required)" + (f"; {said}" if said else "")
        )
        return GateResult(
            self.name, outcome, auc.value, auc.low, auc.high, auc.n, self.max_auc, message,
            details,
        )  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class Lineage:
    """At most ``at_most`` of the items may be judged by a judge of the data's own family.

    A dataset row records the family of the model that wrote it (``generator_family``); a
    judge of that family grades text in its own style, and its verdicts measure
    self-agreement. The figure is the share of items with a known generator family that at
    least one judge of that family gave a usable verdict or score on (a count over this
    eval set, not an estimate: no interval). The panel's ``family_policy: exclude`` brings it
    to 0. Inconclusive when no item records its generator family.
    """

    at_most: float = 0.0

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "lineage")

    def check(self) -> None:
        """Raises ConfigError when ``at_most`` is not a share between 0 and 1."""
        if not 0.0 <= self.at_most <= 1.0:
            raise ConfigError(f"at_most={self.at_most!r}; give a share between 0 and 1")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from each judge's family against each item's generator family."""
        rows = inputs.combined
        if "generator_family" not in rows.columns or rows["generator_family"].isna().all():
            return not_applicable(
                self.name, self.at_most,
                "no item records its generator_family: add it to the dataset rows (the family "
                "of the model that wrote them) to measure lineage",
            )  # fmt: skip
        value = rows["verdict"] if "verdict" in rows.columns else rows["score"]
        usable = rows.loc[value.notna() & rows["generator_family"].notna()]
        if usable.empty:
            return not_applicable(self.name, self.at_most, "no usable verdict on such an item")
        own = _family(usable["judge_family"]) == _family(usable["generator_family"])
        per_item = own.groupby([usable["suite"], usable["item_id"]]).any()
        n, kin = len(per_item), int(per_item.sum())
        share = kin / n
        judges = sorted(usable.loc[own, "judge"].astype(str).unique())
        outcome: Outcome = "pass" if share <= self.at_most else "fail"
        message = (
            f"{kin} of {n} items ({share:.0%}) judged by a judge of the generator's family"
            + (f" ({', '.join(judges)})" if judges else "")
            + f"; at most {self.at_most:.0%} allowed"
        )
        return GateResult(self.name, outcome, share, share, share, n, self.at_most, message)


def _family(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower()
