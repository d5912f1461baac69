"""The exam in the judge's reliability verdict, its thresholds, and the proof over many seeds."""

import numpy as np
import pandas as pd
import pytest
from _exam_tables import simulate_exam

from evalkit.audit import ReliabilityThresholds, run_audit
from evalkit.audit._reliability import exam_checks
from evalkit.config import load_config
from evalkit.errors import ConfigError
from evalkit.gates import JudgesTrusted
from evalkit.gates._gates import GateInputs
from evalkit.probes._exam_stats import exam_accuracy
from evalkit.testing import SimJudge, simulate_judgments

TRUSTED_PANEL = [SimJudge(name, name, tie_rate=0.02) for name in ("careful", "sloppy")]


def _exam_check(accuracy: dict[str, float], *, n_pairs: int, seed: int, **limits: float):
    exam = exam_accuracy(simulate_exam(accuracy, n_pairs=n_pairs, seed=seed))
    table = simulate_judgments(TRUSTED_PANEL, n_items=300, seed=1, quality_sd=6.0)
    thresholds = ReliabilityThresholds(**limits)
    report = run_audit(
        table, n_boot=50, thresholds=thresholds, extra_checks=exam_checks(exam, thresholds)
    )
    return report, report.checks.loc[report.checks["check"] == "exam"].set_index("judge")


def test_a_judge_below_the_exam_threshold_is_untrusted_whatever_its_other_figures() -> None:
    report, checks = _exam_check({"careful": 0.95, "sloppy": 0.5}, n_pairs=80, seed=0)
    # Without the exam both judges are trusted: position, flips, kappa are all clean.
    others = report.checks.loc[report.checks["check"] != "exam", "status"]
    assert set(others) <= {"ok", "not measured"}
    assert report.verdicts() == {"careful": "trusted", "sloppy": "untrusted"}
    sloppy = checks.loc["sloppy"]
    assert sloppy["status"] == "untrusted"
    assert sloppy["high"] < 0.75
    assert sloppy["message"].startswith("exam accuracy 0.")
    assert "over 80 pairs with a known better answer is below 0.75" in sloppy["message"]
    gate = JudgesTrusted().evaluate(
        GateInputs(pd.DataFrame(), pd.DataFrame(), 0.95, reliability=report.reliability)
    )
    assert gate.outcome == "fail"
    assert "sloppy untrusted: exam accuracy" in gate.message


def test_too_few_exam_pairs_leave_a_judge_questionable_unless_clearly_below() -> None:
    _, checks = _exam_check({"careful": 1.0, "sloppy": 0.0}, n_pairs=8, seed=0)
    assert checks.loc["careful", "status"] == "questionable"
    assert checks.loc["careful", "message"].endswith(
        "; only 8 pairs (at least 20 needed to tell a judge at chance from a competent one)"
    )
    assert checks.loc["sloppy", "status"] == "untrusted"  # [0, 0.32]: below however few


def test_the_exam_threshold_can_be_switched_off_or_moved() -> None:
    _, checks = _exam_check(
        {"careful": 0.95, "sloppy": 0.5}, n_pairs=80, seed=0, min_exam_accuracy=None
    )
    assert checks.empty
    _, checks = _exam_check(
        {"careful": 0.95, "sloppy": 0.5}, n_pairs=80, seed=0, min_exam_accuracy=0.3
    )
    assert checks.loc["sloppy", "status"] == "ok"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (1.5, "less than or equal to 1"),
        (-0.1, "greater than or equal to 0"),
        ("high", "valid number"),
    ],
)
def test_an_exam_threshold_outside_0_1_is_refused_naming_its_key(
    value: object, complaint: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(pyproject={"reliability": {"min_exam_accuracy": value}})
    message = str(err.value)
    assert message.startswith("pyproject.toml [tool.evalkit.reliability] min_exam_accuracy: ")
    assert complaint in message
    assert f"(got {value!r})" in message


def test_exam_thresholds_are_read_from_the_reliability_table() -> None:
    cfg = load_config(pyproject={"reliability": {"min_exam_accuracy": 0.8, "min_exam_pairs": 40}})
    assert (cfg.reliability.min_exam_accuracy, cfg.reliability.min_exam_pairs) == (0.8, 40)
    default = load_config().reliability
    assert (default.min_exam_accuracy, default.min_exam_pairs) == (0.75, 20)
    with pytest.raises(ConfigError, match=r"min_exam_pairs: .*greater than or equal to 1"):
        load_config(pyproject={"reliability": {"min_exam_pairs": 0}})


N_SEEDS = 200
N_PAIRS = 60  # e.g. 30 items, each with a number and a negation planted


def _statuses(accuracy: float) -> pd.Series:
    """The exam check's status over many seeds: each seed one independent simulated judge.

    One table holds them all, so the statistics run once, vectorised, instead of once per seed.
    """
    judges = {f"seed-{s}": accuracy for s in range(N_SEEDS)}
    exam = exam_accuracy(simulate_exam(judges, n_pairs=N_PAIRS, seed=7))
    checks = exam_checks(exam, ReliabilityThresholds())
    assert len(checks) == N_SEEDS
    return checks.set_index("judge")["status"]


def test_a_judge_that_cannot_tell_a_planted_error_fails_the_exam_in_95_percent_of_seeds() -> None:
    statuses = _statuses(0.5)
    # Hand computation: each pair scores 0, ½ or 1 with chances ¼, ½, ¼ (mean ½, variance ⅛),
    # so over 60 pairs the accuracy has sd sqrt(0.125 / 60) = 0.046; the Wilson upper bound
    # stays below 0.75 while the accuracy is below about 0.64, 3.1 sd above ½: about 0.1 % of
    # seeds escape.
    assert (statuses == "untrusted").mean() >= 0.95


def test_a_competent_judge_passes_the_exam_in_95_percent_of_seeds() -> None:
    statuses = _statuses(0.9)
    # Hand computation: a pair scores 1, ½, 0 with chances 0.81, 0.18, 0.01 (mean 0.9, variance
    # 0.045), sd over 60 pairs 0.027: falling below 0.75 is 5.5 sd away.
    assert (statuses == "ok").mean() >= 0.95


def test_the_simulated_accuracies_match_their_hand_computed_spread() -> None:
    """The simulation itself: over seeds, a chance judge averages ½ with sd sqrt(⅛ / n)."""
    judges = {f"seed-{s}": 0.5 for s in range(N_SEEDS)}
    exam = exam_accuracy(simulate_exam(judges, n_pairs=N_PAIRS, seed=11))
    got = exam.loc[exam["probe"] == "exam", "accuracy"].to_numpy()
    assert got.size == N_SEEDS
    assert got.mean() == pytest.approx(0.5, abs=3 * np.sqrt(0.125 / N_PAIRS / N_SEEDS))
    assert got.std() == pytest.approx(np.sqrt(0.125 / N_PAIRS), rel=0.15)
