import math

import pydantic
import pytest

from evalkit.audit import ReliabilityThresholds, run_audit
from evalkit.audit._reliability import judge_interval
from evalkit.audit._table import validate_judgments
from evalkit.panel import PanelRule, combine_orders
from evalkit.panel._aggregate import panel_verdicts
from evalkit.testing import SimJudge, simulate_judgments
from evalkit.testing._tables import FAILED, pairwise_table

C, B = "candidate", "baseline"


def consistent(name, family, **bias):
    """A judge that rarely flips: sharp on quality, few ties."""
    return SimJudge(name, family, tie_rate=0.02, **bias)


def audit(judges, *, n_items=300, seed=1, **kwargs):
    table = simulate_judgments(judges, n_items=n_items, seed=seed, quality_sd=6.0)
    return run_audit(table, n_boot=300, **kwargs)


PANEL = [
    consistent("judge-alpha", "alpha"),
    consistent("judge-beta", "beta"),
    consistent("judge-gamma", "gamma"),
]


@pytest.mark.parametrize(
    ("interval", "lower", "upper", "expected"),
    [
        ((0.10, 0.05, 0.15), None, 0.25, "ok"),
        ((0.30, 0.20, 0.40), None, 0.25, "questionable"),  # estimate beyond, interval not
        ((0.40, 0.30, 0.50), None, 0.25, "untrusted"),  # the whole interval beyond
        ((0.20, 0.15, 0.30), None, 0.25, "ok"),  # estimate within, interval reaches beyond
        ((0.65, 0.61, 0.69), 0.4, 0.6, "untrusted"),
        ((0.35, 0.30, 0.41), 0.4, 0.6, "questionable"),
        ((0.20, 0.10, 0.30), 0.4, None, "untrusted"),
        ((math.nan, math.nan, math.nan), 0.4, None, "not measured"),
    ],
)
def test_judge_interval(interval, lower, upper, expected):
    assert judge_interval(*interval, lower, upper) == expected


def test_a_clean_panel_is_trusted():
    report = audit(PANEL)
    assert report.verdicts() == dict.fromkeys(
        ["judge-alpha", "judge-beta", "judge-gamma"], "trusted"
    )
    assert (report.reliability["reasons"] == "").all()
    assert set(report.checks["status"]) <= {"ok", "not measured"}


def test_position_bias_makes_that_judge_untrusted_with_the_reason():
    judges = [consistent("judge-alpha", "alpha", first_position=0.75), *PANEL[1:]]
    report = audit(judges)
    verdict = report.reliability.set_index("judge").loc["judge-alpha"]
    assert verdict["verdict"] == "untrusted"
    assert "first-position rate 0.7" in verdict["reasons"]
    assert "is outside 0.400-0.600" in verdict["reasons"]
    assert report.verdicts()["judge-beta"] == "trusted"


def test_self_preference_and_verbosity_are_checked():
    judges = [
        consistent("judge-alpha", "alpha", self_preference=4.0),
        consistent("judge-beta", "beta", verbosity=3.0),
        consistent("judge-gamma", "gamma"),
    ]
    report = audit(judges)
    checks = report.checks.set_index(["judge", "check"])["status"]
    assert checks[("judge-alpha", "self-preference")] == "untrusted"
    assert checks[("judge-beta", "verbosity")] == "untrusted"
    assert checks[("judge-gamma", "verbosity")] == "ok"
    reasons = report.reliability.set_index("judge")["reasons"]
    assert "self-preference" in reasons["judge-alpha"]
    assert "against neutral judges" in reasons["judge-alpha"]
    assert "length odds ratio per +100 tokens" in reasons["judge-beta"]


def test_unusable_calls_make_a_judge_questionable_and_none_untrusted():
    judges = [consistent("flaky", "alpha", fail_rate=0.35), *PANEL[1:]]
    report = audit(judges)
    flaky = report.reliability.set_index("judge").loc["flaky"]
    assert flaky["verdict"] == "questionable"
    assert "of its 600 calls gave no usable verdict or score (limit 20%)" in flaky["reasons"]
    table = pairwise_table(
        [(str(i), j, C, C) for i in range(30) for j in ("a", "b")]
        + [(str(i), "dead", FAILED, FAILED) for i in range(30)]
    )
    dead = run_audit(table, n_boot=50).reliability.set_index("judge").loc["dead"]
    assert dead["verdict"] == "untrusted"
    assert "none of its 60 calls gave a usable verdict or score" in dead["reasons"]


def test_too_few_items_cannot_be_trusted():
    report = audit(PANEL, n_items=12)
    assert set(report.verdicts().values()) == {"questionable"}
    reasons = report.reliability["reasons"].iloc[0]
    assert "only 12 items were judged validly in both positions (at least 20 needed" in reasons


def test_a_check_can_be_switched_off():
    judges = [consistent("judge-alpha", "alpha", first_position=0.75), *PANEL[1:]]
    # A position-biased judge also flips and agrees less with the others: switch all three off.
    lenient = ReliabilityThresholds(max_position_skew=None, max_flip_rate=None, min_kappa=None)
    report = audit(judges, thresholds=lenient)
    assert report.verdicts()["judge-alpha"] == "trusted"
    assert "first-position rate" not in set(report.checks["check"])


def test_thresholds_are_validated_and_frozen():
    with pytest.raises(pydantic.ValidationError, match="max_flip_rat"):
        ReliabilityThresholds(max_flip_rat=0.3)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        ReliabilityThresholds(max_flip_rate=1.5)
    t = ReliabilityThresholds()
    with pytest.raises(pydantic.ValidationError):
        t.max_flip_rate = 0.5  # type: ignore[misc]


def test_reliability_weights_drive_the_weighted_panel():
    judges = [consistent("judge-alpha", "alpha", first_position=0.95), *PANEL[1:]]
    table = simulate_judgments(judges, n_items=300, seed=1, quality_sd=6.0)
    report = run_audit(table, n_boot=200)
    weights = PanelRule().judge_weights(report.reliability)
    assert weights == {"judge-alpha": 0.0, "judge-beta": 1.0, "judge-gamma": 1.0}
    weighted = panel_verdicts(
        combine_orders(validate_judgments(table)), method="weighted", weights=weights
    )
    # The untrusted judge casts no vote: where the others split, nothing decides for them.
    assert (
        weighted["votes_candidate"] + weighted["votes_baseline"] + weighted["votes_tie"]
        <= 2.0 + 1e-9
    ).all()
    custom = PanelRule(weights={"trusted": 2, "questionable": 1, "untrusted": 0.5}).judge_weights(
        report.reliability
    )
    assert custom["judge-alpha"] == 0.5
