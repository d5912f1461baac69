"""Gates on the eval data itself: does it look like production, is it judged by its own kin.

Judge bias is half of why offline scores lie; the other half is data that does not look like
what users type, or that was written by the family of the judges grading it. These gates
decide on that before the score is trusted.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit._caller import caller_dir
from evalkit.errors import ConfigError
from evalkit.gates._gates import (
    GateInputs,
    GateResult,
    Outcome,
    decide,
    name_gate,
    not_applicable,
)


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
    differ, the eval items least like production, the production inputs least covered, and
    the kinds of production request the suite never asks (the file's ``tag`` column when it
    has one, else clusters; named in the message too, but not deciding the gate).
    """

    production: str | Path = dataclasses.field(metadata={"in_name": False})
    max_auc: float = 0.75
    field: str | None = None
    sample: int = 10_000

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""
    #: folder ``production`` is resolved against: the declaring module's folder.
    base_dir: Path = dataclasses.field(
        default_factory=lambda: caller_dir(3), metadata={"in_name": False}, compare=False
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
            self.path(), self.field, sample=self.sample, seed=inputs.seed, option="field=",
            tags=True,
        )  # fmt: skip
        comparison = compare(
            list(inputs.inputs), texts.texts, seed=inputs.seed, confidence=inputs.confidence,
            prod_tags=texts.tags,
        )  # fmt: skip
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
        kinds = comparison.coverage
        if kinds is not None and kinds.uncovered:
            said += ("; " if said else "") + (
                f"{len(kinds.uncovered)} of production's {kinds.k} kinds of request "
                f"({kinds.uncovered_share:.0%} of production) are not asked by the suite"
            )
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
        # Families are canonical where they enter (evalkit.records._family): compare exactly.
        own = usable["judge_family"].astype("string") == usable["generator_family"].astype("string")
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


@dataclasses.dataclass(frozen=True, slots=True)
class Robustness:
    """The score must survive production-like input: at most ``max_drop`` lost per perturbation.

    For a suite with ``perturbations=[...]``, each clean item is paired with each of its
    variants, and the drop is the mean of (clean item's figure - variant's figure) over the
    pairs: the item's panel verdict as 1 / 0.5 / 0 (win, tie, loss) in a pairwise suite, the
    panel score of the candidate's answer in a scored suite. Each perturbation's drop gets a
    paired percentile bootstrap interval (seeded). The gate fails when some perturbation's
    whole interval lies above ``max_drop``, passes when every perturbation's interval lies at or
    below it, and is otherwise inconclusive (also with fewer than ``min_items`` pairs).
    ``perturbation`` restricts the gate to one perturbation. The figure is the largest drop.
    """

    max_drop: float = 0.05
    perturbation: str | None = None
    min_items: int = 20

    #: unique within the suite; by default derived from the parameters (see name_gate).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "robustness")

    def check(self) -> None:
        """Raises UsageError for an unknown perturbation or a negative ``max_drop``."""
        from evalkit.data._perturb import check_perturbations

        if self.perturbation is not None:
            check_perturbations([self.perturbation], where="perturbation")
        if not self.max_drop >= 0:
            raise ConfigError(f"max_drop={self.max_drop!r}; give a drop of at least 0")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the paired drops between clean items and their variants."""
        from evalkit.gates._regression import item_scores, paired_bootstrap

        pairs = pd.DataFrame(
            [(v, c, p) for v, (c, p) in inputs.variants.items()],
            columns=["variant", "clean", "perturbation"],
        )
        if self.perturbation is not None:
            pairs = pairs.loc[pairs["perturbation"] == self.perturbation]
        if pairs.empty:
            return not_applicable(
                self.name, self.max_drop,
                "the suite asks no perturbed variants: set perturbations=[...] on the suite",
            )  # fmt: skip
        scores = item_scores(inputs.panel, inputs.candidate)
        pairs = pairs.assign(
            clean_score=pairs["clean"].map(scores), variant_score=pairs["variant"].map(scores)
        ).dropna(subset=["clean_score", "variant_score"])
        rows = []
        for name, group in pairs.groupby("perturbation", sort=True):  # one row per perturbation
            diff = (group["clean_score"] - group["variant_score"]).to_numpy(dtype=float)
            seed = inputs.seed + zlib.crc32(str(name).encode())
            drop, low, high = paired_bootstrap(diff, confidence=inputs.confidence, seed=seed)
            rows.append(
                _Drop(
                    str(name), len(diff), drop, low, high, float(group["clean_score"].mean()),
                    float(group["variant_score"].mean()),
                    decide(-high, -low, -self.max_drop, n=len(diff), min_items=self.min_items),
                )
            )  # fmt: skip
        if not rows:
            return not_applicable(
                self.name, self.max_drop, "no clean item and variant both have a panel figure"
            )
        outcomes = {r.outcome for r in rows}
        overall: Outcome = (
            "fail" if "fail" in outcomes else "pass" if outcomes == {"pass"} else "inconclusive"
        )
        worst = max(rows, key=lambda r: r.drop)
        said = "; ".join(
            f"{r.perturbation} {r.drop:+.3f} [{r.low:+.3f}, {r.high:+.3f}] (n={r.n}, {r.outcome})"
            for r in rows
        )
        message = (
            f"drop from clean to perturbed input (paired bootstrap): {said}; at most "
            f"{self.max_drop:g} allowed"
        )
        details = {
            "kind": "robustness", "max_drop": self.max_drop,
            "perturbations": [dataclasses.asdict(r) for r in rows],
        }  # fmt: skip
        return GateResult(
            self.name, overall, worst.drop, worst.low, worst.high, sum(r.n for r in rows),
            self.max_drop, message, details,
        )  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class _Drop:
    """One perturbation's paired drop (clean minus perturbed figure) and its outcome."""

    perturbation: str
    n: int
    drop: float
    low: float
    high: float
    clean: float
    perturbed: float
    outcome: Outcome
