"""The whole audit of a judgments table in one value: :func:`run_audit` → :class:`AuditReport`.

Multiple comparisons: an audit reports one test per judge and bias, so with a few judges some
p-values fall below 0.05 by chance. Every p-value is therefore shown beside its Holm-adjusted
value (``p_holm``), adjusted over all the tests of the report; reliability verdicts do not use
p-values at all, but intervals against tolerances.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import numpy as np
import pandas as pd

from evalkit.audit._agreement import agreement_tables, panel_agreement_of
from evalkit.audit._fluent import FluentButWrong, fluent_but_wrong
from evalkit.audit._human import corrected_pass_rate_of, human_agreement_of
from evalkit.audit._intervals import holm
from evalkit.audit._orders import option_order_bias_of, position_bias_of
from evalkit.audit._panel import WinRateEstimate, win_rate
from evalkit.audit._prepared import Prepared
from evalkit.audit._reliability import ReliabilityThresholds, judge_reliability
from evalkit.audit._self_preference import self_preference_of
from evalkit.audit._table import judges_only, validate_judgments
from evalkit.audit._verbosity import length_slope_of, verbosity_bias_of
from evalkit.panel import PanelRule, item_verdicts
from evalkit.panel._aggregate import PANEL_COLUMNS, SCORE_PANEL_COLUMNS
from evalkit.records._run import table_rows

#: Frames that carry a p-value, and the name of the test it comes from.
_TESTS: Final = {
    "position": "position: exact binomial test of the first-position rate",
    "option_order": "option order: sign test of discordant listings",
    "self_preference": "self-preference: t test of per-item differences",
    "verbosity": "verbosity: Wald test of the length odds ratio",
    "length_slope": "verbosity (scores): Wald test of the length slope",
}
_TEST_COLUMNS: Final = ("frame", "test", "judge", "mode", "p_value", "p_holm")


@dataclasses.dataclass(frozen=True, eq=False)
class AuditReport:
    """Everything the audit measured on one judgments table.

    Each frame is documented by the function that makes it: ``judges`` (judge, judge_family,
    n_rows, n_usable), ``position`` (:func:`position_bias`), ``option_order``
    (:func:`option_order_bias`), ``self_preference``, ``verbosity``, ``length_slope``,
    ``agreement`` (:func:`judge_agreement`), ``kappa_with_others``
    (:func:`kappa_with_others`), ``panel_agreement``, ``human``
    (:func:`human_agreement`), ``corrected`` (:func:`corrected_pass_rate`), ``reliability``
    and ``checks`` (:func:`judge_reliability`), ``tests`` (every p-value with its Holm
    adjustment), ``panel`` (pairwise panel verdicts), ``score_panel`` (pointwise panel
    scores), both under ``rule``, and ``win_rate`` counted from ``panel``. Frames with p-values
    carry ``p_holm`` beside ``p_value``. ``fluent_but_wrong`` measures the judges against the
    deterministic graders' rows of the same table (:func:`fluent_but_wrong`).
    """

    confidence: float
    seed: int
    n_boot: int
    thresholds: ReliabilityThresholds
    rule: PanelRule
    judges: pd.DataFrame
    position: pd.DataFrame
    option_order: pd.DataFrame
    self_preference: pd.DataFrame
    verbosity: pd.DataFrame
    length_slope: pd.DataFrame
    agreement: pd.DataFrame
    kappa_with_others: pd.DataFrame
    panel_agreement: pd.DataFrame
    human: pd.DataFrame
    corrected: pd.DataFrame
    reliability: pd.DataFrame
    checks: pd.DataFrame
    tests: pd.DataFrame
    panel: pd.DataFrame
    score_panel: pd.DataFrame
    win_rate: WinRateEstimate
    fluent_but_wrong: FluentButWrong

    def verdicts(self) -> dict[str, str]:
        """Return each judge's reliability verdict: trusted, questionable or untrusted."""
        return dict(zip(self.reliability["judge"], self.reliability["verdict"], strict=True))

    def summary_lines(self) -> list[str]:
        """Return a compact plain-text summary for the terminal."""
        from evalkit.audit._summary import summary_lines

        return summary_lines(self)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (no NaN: missing values are None)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        frames = {k: table_rows(v) for k, v in values.items() if isinstance(v, pd.DataFrame)}
        return {
            "confidence": self.confidence,
            "seed": self.seed,
            "n_boot": self.n_boot,
            "thresholds": self.thresholds.model_dump(),
            "rule": self.rule.to_dict(),
            **frames,
            "win_rate": self.win_rate.to_dict(),
            "fluent_but_wrong": self.fluent_but_wrong.to_dict(),
            "verdicts": self.verdicts(),
            "summary": self.summary_lines(),
        }


def _holm_family(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Holm-adjust every p-value of the report together; add ``p_holm`` beside ``p_value``."""
    parts = [
        pd.DataFrame(
            {
                "frame": name,
                "test": _TESTS[name],
                "judge": frame["judge"],
                "mode": frame["mode"] if "mode" in frame.columns else "pairwise",
                "p_value": frame["p_value"].astype(float),
                "row": np.arange(len(frame)),
            }
        )
        for name, frame in frames.items()
    ]
    tests = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["p_value"])
    tests["p_holm"] = holm(tests["p_value"].to_numpy(dtype=float))
    out = {}
    for name, frame in frames.items():
        adjusted = tests.loc[tests["frame"] == name].set_index("row")["p_holm"]
        frame = frame.copy()
        frame.insert(list(frame.columns).index("p_value") + 1, "p_holm", adjusted.to_numpy())
        out[name] = frame
    listed = tests.loc[tests["p_value"].notna(), list(_TEST_COLUMNS)].reset_index(drop=True)
    return listed, out


def _with_panel_rows(judges: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """The judges' rows against humans, each mode followed by its panel's row."""
    if panel.empty:
        return judges
    if judges.empty:
        return panel
    modes = list(dict.fromkeys([*judges["mode"], *panel["mode"]]))
    both = pd.concat([judges, panel], ignore_index=True)
    order = both["mode"].map({m: i for i, m in enumerate(modes)})
    return both.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def run_audit(
    table: pd.DataFrame,
    *,
    confidence: float = 0.95,
    thresholds: ReliabilityThresholds | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    rule: PanelRule | None = None,
    pass_score: float | None = None,
    extra_checks: pd.DataFrame | None = None,
) -> AuditReport:
    """Audit every judge of a judgments table: bias, agreement, humans, and a verdict each.

    ``rule`` is the panel's (:class:`evalkit.panel.PanelRule`; default: majority verdict or mean
    score, a majority quorum, disagreeing orders a tie): the panel verdicts, the win rate and
    the panel's agreement with humans all follow it, and under ``weighted`` each judge weighs
    what its reliability verdict of this same audit is worth. ``pass_score`` makes pointwise
    scores pass/fail for the corrected pass rate; bootstrap intervals use ``n_boot`` resamples
    of the items, seeded by ``seed`` (the same table and seed give the same report).

    Deterministic graders' rows (``judge_family == "deterministic"``) are left out of every
    judge statistic: graders are not judges. They are what ``fluent_but_wrong`` measures the
    judges against. Degenerate tables — no rows, one item, one judge, every call failed or
    unparseable — give a report, never an error: a judge with nothing usable is untrusted with
    the reason, a statistic with no data is not measured, a panel item without enough valid
    verdicts is abstained with the reason.

    ``extra_checks`` are reliability check rows measured outside the table (bias probes, the
    exam; the columns of :func:`judge_reliability`'s checks): each judge's verdict counts
    them too.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    thresholds = thresholds if thresholds is not None else ReliabilityThresholds()
    rule = rule if rule is not None else PanelRule()
    # Validated once: the judges' statistics read the judges' rows, fluent-but-wrong all rows.
    valid = validate_judgments(table)
    prep = Prepared(judges_only(valid), rule.disagreement)
    agreement, kappa_with_others = agreement_tables(
        prep.ratings, confidence=confidence, n_boot=n_boot, seed=seed
    )
    # The judges' reliability does not depend on the panel; the panel may depend on it
    # (``weighted``), so the judges are measured first and the panel joins the human rows after.
    human = human_agreement_of(prep, {}, confidence=confidence, n_boot=n_boot, seed=seed)
    tested = {
        "position": position_bias_of(prep.table, prep.combined, confidence),
        "option_order": option_order_bias_of(prep.table, confidence),
        "self_preference": self_preference_of(
            prep, confidence=confidence, n_boot=n_boot, seed=seed
        ),
        "verbosity": verbosity_bias_of(prep.table, confidence),
        "length_slope": length_slope_of(prep.table, confidence),
    }
    tests, tested = _holm_family(tested)
    reliability, checks = judge_reliability(
        judges=prep.judges,
        position=tested["position"],
        option_order=tested["option_order"],
        self_preference=tested["self_preference"],
        verbosity=tested["verbosity"],
        kappa_with_others=kappa_with_others,
        human=human,
        thresholds=thresholds,
        extra_checks=extra_checks,
    )
    panels = item_verdicts(prep.table, rule, rule.judge_weights(reliability))
    human = _with_panel_rows(
        human, human_agreement_of(prep, panels, confidence, n_boot, seed, judges=False)
    )
    panel_agreement = panel_agreement_of(prep.ratings, confidence, n_boot, seed)
    corrected = corrected_pass_rate_of(prep, panels, pass_score, confidence, n_boot, seed)
    panel = panels.get("pairwise", pd.DataFrame(columns=list(PANEL_COLUMNS)))
    score_panels = [p for mode, p in panels.items() if mode != "pairwise"]
    return AuditReport(
        confidence=confidence,
        seed=seed,
        n_boot=n_boot,
        thresholds=thresholds,
        rule=rule,
        judges=prep.judges,
        agreement=agreement,
        kappa_with_others=kappa_with_others,
        panel_agreement=panel_agreement,
        human=human,
        corrected=corrected,
        reliability=reliability,
        checks=checks,
        tests=tests,
        panel=panel,
        win_rate=win_rate(panel, confidence),
        score_panel=pd.concat(score_panels, ignore_index=True)
        if score_panels
        else pd.DataFrame(columns=list(SCORE_PANEL_COLUMNS)),
        fluent_but_wrong=fluent_but_wrong(
            valid, confidence=confidence, disagreement=rule.disagreement
        ),
        **tested,
    )
