import json

import numpy as np
import pandas as pd
import pytest

from evalkit.audit import AuditReport, run_audit
from evalkit.errors import UsageError
from evalkit.panel import PanelRule
from evalkit.testing import SimJudge, simulate_judgments, simulate_pointwise
from evalkit.testing._tables import panel_of_three

JUDGES = [
    SimJudge("judge-alpha", "alpha", first_position=0.7),
    SimJudge("judge-beta", "beta", self_preference=1.0, fail_rate=0.1),
    SimJudge("judge-gamma", "gamma"),
]


@pytest.fixture(scope="module")
def report() -> AuditReport:
    table = simulate_judgments(
        JUDGES, n_items=200, seed=3, human_labels=True, label_share=0.5, quality_sd=2.0
    )
    return run_audit(table, n_boot=200)


def test_to_dict_is_strict_json(report):
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)  # NaN would raise
    assert json.loads(text) == data
    for key in [
        "position",
        "self_preference",
        "verbosity",
        "agreement",
        "kappa_with_others",
        "panel_agreement",
        "human",
        "corrected",
        "reliability",
        "checks",
        "tests",
        "panel",
        "win_rate",
        "verdicts",
        "summary",
        "thresholds",
    ]:
        assert key in data, key
    assert data["summary"] == report.summary_lines()
    assert data["verdicts"] == report.verdicts()
    assert data["win_rate"]["n"] + data["win_rate"]["abstained"] == 200


def test_summary_names_every_judge_with_its_verdict(report):
    lines = report.summary_lines()
    assert all(isinstance(line, str) for line in lines)
    assert lines[0].startswith("audit: 1200 judge calls by 3 judges")
    assert any(line.startswith("panel: candidate win rate") for line in lines)
    assert any(line.startswith("agreement (pairwise, 200 items): Fleiss' kappa") for line in lines)
    alpha = next(line for line in lines if line.startswith("judge-alpha [alpha]: "))
    assert "UNTRUSTED" in alpha
    assert any("first-position rate" in line for line in lines)
    assert "Holm-adjusted" in lines[-1]


def test_every_p_value_has_its_holm_adjustment_beside_it(report):
    tests = report.tests
    assert len(tests) >= 7  # 3 position, 2 self-preference, 3 verbosity (measurable ones)
    assert (tests["p_holm"] >= tests["p_value"]).all()
    m = len(tests)
    smallest = tests["p_value"].idxmin()
    assert tests.loc[smallest, "p_holm"] == pytest.approx(min(1.0, m * tests["p_value"].min()))
    for frame in (report.position, report.self_preference, report.verbosity):
        columns = list(frame.columns)
        assert columns[columns.index("p_value") + 1] == "p_holm"
    position = report.position.set_index("judge")
    assert position.loc["judge-alpha", "p_holm"] < 0.01


def test_the_same_seed_gives_the_same_report_and_another_seed_other_intervals():
    table = simulate_judgments(panel_of_three(), n_items=80, seed=1, human_labels=True)
    a = run_audit(table, n_boot=100, seed=4).to_dict()
    assert run_audit(table, n_boot=100, seed=4).to_dict() == a
    b = run_audit(table, n_boot=100, seed=5).to_dict()
    assert a["position"] == b["position"]  # Wilson and binomial: no resampling
    assert a["panel_agreement"] != b["panel_agreement"]


def test_a_pointwise_table_is_audited_too():
    table = simulate_pointwise(
        panel_of_three(option_primacy=0.4, self_preference=0.8), n_items=150, seed=2
    )
    report = run_audit(table, n_boot=100)
    assert report.position.empty
    assert report.panel.empty
    assert report.win_rate.n == 0
    assert len(report.score_panel) == 150
    option = report.option_order.set_index("judge")
    assert option.loc["judge-alpha", "p_holm"] < 0.01
    checks = report.checks.set_index(["judge", "check"])["status"]
    assert checks[("judge-alpha", "first-option rate")] == "untrusted"
    # A score moving by a point between listings is noise, not a flip to judge.
    assert "option flips" not in set(report.checks["check"])
    assert report.verdicts()["judge-beta"] == "trusted"
    assert set(report.panel_agreement["statistic"]) >= {"alpha_interval", "alpha_ordinal"}
    assert (report.self_preference.set_index("judge").loc["judge-alpha", "unit"]) == "score"
    json.dumps(report.to_dict(), allow_nan=False)


def test_a_table_with_both_modes_keeps_them_apart():
    pairwise = simulate_judgments(panel_of_three(), n_items=60, seed=1, suite="duel")
    pointwise = simulate_pointwise(panel_of_three(), n_items=60, seed=1, suite="grade")
    report = run_audit(pd.concat([pairwise, pointwise], ignore_index=True), n_boot=50)
    assert set(report.panel_agreement["mode"]) == {"pairwise", "pointwise"}
    assert len(report.panel) == 60
    assert len(report.score_panel) == 60
    assert set(report.judges["n_rows"]) == {120 + 120}


def test_a_bad_table_is_one_usage_error():
    table = simulate_judgments(panel_of_three(), n_items=5)
    table.loc[3, "verdict"] = "B"
    with pytest.raises(UsageError, match="row 3 holds 'B'"):
        run_audit(table)


def test_quorum_and_pass_score_reach_the_panel_and_the_corrected_rate():
    table = simulate_pointwise(panel_of_three(), n_items=40, seed=1, option_orders=False)
    item_mean = table.groupby("item_id")["score"].transform("mean")
    table["human_label"] = np.where(item_mean >= 3, "pass", "fail")
    report = run_audit(table, n_boot=50, rule=PanelRule(quorum=3), pass_score=3)
    assert (report.score_panel["n_judges_valid"] == 3).all()
    assert not report.corrected.empty
    assert set(report.corrected["rater"]) == {"judge-alpha", "judge-beta", "judge-gamma", "panel"}
