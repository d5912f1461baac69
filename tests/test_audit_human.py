import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from evalkit.audit._human import corrected_pass_rate, human_agreement
from evalkit.audit._table import validate_judgments
from evalkit.errors import UsageError
from evalkit.panel import combine_orders
from evalkit.testing import SimJudge, simulate_judgments
from evalkit.testing._tables import pairwise_table

C, B, T = "candidate", "baseline", "tie"
JUDGES = [
    SimJudge("good", "a", quality_weight=2.0),
    SimJudge("fair", "b"),
    SimJudge("poor", "c", quality_weight=0.5),
]


def labelled(rows, labels):
    table = pairwise_table(rows)
    table["human_label"] = table["item_id"].map(labels)
    return table


def test_accuracy_and_kappa_against_humans_match_scikit_learn():
    table = simulate_judgments(JUDGES, n_items=200, seed=3, human_labels=True, quality_sd=1.5)
    got = human_agreement(table, n_boot=200).set_index("rater")
    combined = combine_orders(validate_judgments(table))
    for judge in ["good", "fair", "poor"]:
        mine = combined[(combined["judge"] == judge) & combined["verdict"].notna()]
        expected = cohen_kappa_score(mine["verdict"].astype(str), mine["human_label"].astype(str))
        assert got.loc[judge, "kappa"] == pytest.approx(expected, abs=1e-12)
        accuracy = (mine["verdict"] == mine["human_label"]).mean()
        assert got.loc[judge, "accuracy"] == pytest.approx(accuracy)
        assert got.loc[judge, "n_items"] == len(mine)
    assert got.loc["good", "kappa_low"] > got.loc["poor", "kappa_high"]
    assert "panel" in got.index


def test_the_panel_is_compared_as_one_more_rater():
    rows = [
        ("1", "j1", C, C),
        ("1", "j2", C, C),
        ("1", "j3", B, B),
        ("2", "j1", B, B),
        ("2", "j2", B, B),
        ("2", "j3", C, C),
    ]
    got = human_agreement(labelled(rows, {"1": C, "2": C}), n_boot=20).set_index("rater")
    assert got.loc["panel", "accuracy"] == 0.5
    assert got.loc["j3", "accuracy"] == 0.5
    assert got.loc["panel", "n_items"] == 2


def test_conflicting_labels_on_one_item_are_refused():
    table = labelled([("1", "j1", C, C)], {"1": C})
    table.loc[1, "human_label"] = B
    with pytest.raises(UsageError, match="item '1' of suite 's' has different human labels"):
        human_agreement(table)


def test_no_labels_no_rows():
    assert human_agreement(pairwise_table([("1", "j", C, C)])).empty
    assert corrected_pass_rate(pairwise_table([("1", "j", C, C)])).empty


def test_corrected_rate_equals_the_human_rate_when_every_item_is_labelled():
    # With every item labelled, Rogan-Gladen inverts the judge's errors exactly.
    table = simulate_judgments(JUDGES, n_items=150, seed=1, human_labels=True, quality_sd=1.5)
    got = corrected_pass_rate(table, n_boot=100).set_index("rater")
    human_rate = (table.groupby("item_id")["human_label"].first() == C).mean()
    assert got["corrected_rate"].to_numpy() == pytest.approx(human_rate)
    assert (got["observed_rate"] != human_rate).all()


def test_corrected_rate_removes_the_judges_bias_and_its_interval_covers_the_truth():
    """30 seeds, 300 items, 30 % labelled: the corrected interval must cover the true rate."""
    covered, corrected_err, observed_err = [], [], []
    for seed in range(30):
        everything = simulate_judgments(
            JUDGES, n_items=300, seed=seed, human_labels=True, quality_sd=1.5
        )
        truth = (everything.groupby("item_id")["human_label"].first() == C).mean()
        table = simulate_judgments(
            JUDGES, n_items=300, seed=seed, human_labels=True, quality_sd=1.5, label_share=0.3
        )
        row = corrected_pass_rate(table, n_boot=300).set_index("rater").loc["fair"]
        covered.append(row["low"] <= truth <= row["high"])
        corrected_err.append(row["corrected_rate"] - truth)
        observed_err.append(row["observed_rate"] - truth)
    # The judge calls ties and misses wins: its raw rate is far too low...
    assert np.mean(observed_err) < -0.1
    # ...the corrected one is not, and its 95 % interval covers the truth (P(<24/30) < 0.01).
    assert abs(np.mean(corrected_err)) < 0.04
    assert np.mean(covered) >= 0.8


def test_a_judge_no_better_than_chance_cannot_be_corrected():
    rows = [(str(i), "j", C, C) for i in range(10)]
    labels = {str(i): (C if i % 2 else B) for i in range(10)}
    got = corrected_pass_rate(labelled(rows, labels), n_boot=20).set_index("rater").loc["j"]
    assert not bool(got["measurable"])
    assert "no better than chance" in got["reason"]
    assert got["sensitivity"] == 1.0
    assert got["specificity"] == 0.0


def test_without_labelled_failures_the_error_rates_are_unknown():
    rows = [(str(i), "j", C, C) for i in range(4)]
    got = corrected_pass_rate(labelled(rows, {"0": C, "1": C}), n_boot=20).iloc[0]
    assert not bool(got["measurable"])
    assert got["reason"] == "no labelled item is a fail: the judge's error rates are unknown"


def pointwise(scores, labels):
    rows = []
    for (item, judge), score in scores.items():
        rows.append(
            {
                "suite": "s",
                "item_id": item,
                "mode": "pointwise",
                "judge": judge,
                "candidate": "m",
                "score": float(score),
                "human_label": labels[item],
            }
        )
    return pd.DataFrame(rows)


def test_pointwise_labels_numbers_or_pass_fail():
    scores = {
        ("1", "j"): 5,
        ("2", "j"): 2,
        ("3", "j"): 4,
        ("4", "j"): 1,
        ("1", "k"): 4,
        ("2", "k"): 2,
        ("3", "k"): 5,
        ("4", "k"): 2,
    }
    numeric = pointwise(scores, {"1": "5", "2": "2", "3": "3", "4": "1"})
    got = human_agreement(numeric, n_boot=20).set_index("rater")
    assert got.loc["j", "accuracy"] == 0.75
    expected = cohen_kappa_score([5, 2, 4, 1], [5, 2, 3, 1], weights="quadratic")
    assert got.loc["j", "kappa"] == pytest.approx(expected)
    words = pointwise(scores, {"1": "pass", "2": "fail", "3": "PASS", "4": "no"})
    assert corrected_pass_rate(words).empty  # no pass_score: scores cannot be called pass/fail
    rate = corrected_pass_rate(words, pass_score=4, n_boot=20).set_index("rater")
    assert rate.loc["j", "sensitivity"] == 1.0
    assert rate.loc["j", "specificity"] == 1.0
    assert rate.loc["j", "corrected_rate"] == 0.5
