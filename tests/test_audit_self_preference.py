import numpy as np
import pandas as pd
import pytest

from evalkit.audit import self_preference
from evalkit.testing import SimJudge, simulate_judgments, simulate_pointwise
from evalkit.testing._tables import pairwise_table, panel_of_three

C, B, T = "candidate", "baseline", "tie"


def test_leave_one_out_difference_on_a_hand_table():
    # Candidate family alpha, baseline family beta; judge "a" is alpha, "g" is neutral.
    families = {"a": "alpha", "g": "gamma"}
    table = pairwise_table(
        [
            ("1", "a", C, C),
            ("1", "g", B, B),  # a favours own (1), g does not (0): +1
            ("2", "a", C, C),
            ("2", "g", C, C),  # both favour alpha's answer: 0
            ("3", "a", T, T),
            ("3", "g", B, B),  # tie is half a favour: +0.5
            ("4", "a", C, B),
            ("4", "g", C, C),  # a's orders disagree -> tie: -0.5
        ],
        families=families,
    )
    got = self_preference(table, n_boot=200).set_index("judge")
    row = got.loc["a"]
    assert bool(row["measurable"])
    assert row["unit"] == "share"
    assert row["reference"] == "neutral judges"
    assert row["n_items"] == 4
    assert row["own_favour"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert row["others_favour"] == pytest.approx((0 + 1 + 0 + 1) / 4)
    assert row["self_preference"] == pytest.approx((1 + 0 + 0.5 - 0.5) / 4)
    assert row["low"] <= row["self_preference"] <= row["high"]
    # The neutral judge has no answer from its family.
    assert not bool(got.loc["g", "measurable"])
    assert (
        "no item has exactly one answer from the judge's family (gamma)" in got.loc["g", "reason"]
    )


def test_the_reference_prefers_neutral_judges_over_the_other_answers_family():
    families = {"a": "alpha", "b": "beta", "g": "gamma"}
    table = pairwise_table(
        [
            ("1", "a", C, C),
            ("1", "b", B, B),
            ("1", "g", C, C),
            ("2", "a", C, C),
            ("2", "b", B, B),
            ("2", "g", B, B),
        ],
        families=families,
    )
    got = self_preference(table, n_boot=50).set_index("judge")
    # Against gamma only: a favours alpha on both items, gamma on one of two.
    assert got.loc["a", "self_preference"] == pytest.approx(0.5)
    assert got.loc["b", "self_preference"] == pytest.approx(0.5)
    # Without the neutral judge, the other answer's family stands in.
    two = self_preference(table[table["judge"] != "g"], n_boot=50).set_index("judge")
    assert two.loc["a", "reference"] == "other judges"
    assert two.loc["a", "self_preference"] == pytest.approx(1.0)


def test_judges_of_the_same_family_are_never_the_reference():
    families = {"a1": "alpha", "a2": "alpha"}
    table = pairwise_table([("1", "a1", C, C), ("1", "a2", C, C)], families=families)
    got = self_preference(table, n_boot=20).set_index("judge")
    assert not got["measurable"].any()
    assert "no judge of another family" in got.loc["a1", "reason"]


@pytest.mark.parametrize(
    ("judges", "reason"),
    [
        ([SimJudge("solo", "alpha")], "needs at least 2 judges"),
        ([SimJudge("x", "gamma"), SimJudge("y", "delta")], "no item has exactly one answer"),
    ],
)
def test_not_measurable_says_why(judges, reason):
    got = self_preference(simulate_judgments(judges, n_items=20), n_boot=20)
    assert not got["measurable"].any()
    assert got["reason"].str.contains(reason).all()


def test_unknown_family_is_not_measurable():
    table = pairwise_table([("1", "a", C, C), ("1", "b", B, B)])
    table["judge_family"] = None
    got = self_preference(table, n_boot=20)
    assert (got["reason"] == "the judge's family is unknown").all()


def test_injected_self_preference_is_found_in_that_judge_only():
    table = simulate_judgments(panel_of_three(self_preference=1.5), n_items=300, seed=11)
    got = self_preference(table, n_boot=500).set_index("judge")
    assert got.loc["judge-alpha", "low"] > 0.05
    assert got.loc["judge-alpha", "p_value"] < 1e-4
    beta = got.loc["judge-beta"]
    assert beta["low"] < 0 < beta["high"]


def test_quality_of_the_own_family_answer_does_not_count_as_self_preference():
    # The candidate (alpha) is much better; every judge sees it: no self-preference.
    table = simulate_judgments(panel_of_three(), n_items=300, seed=5, quality_mean=1.5)
    got = self_preference(table, n_boot=300).set_index("judge")
    assert got.loc["judge-alpha", "own_favour"] > 0.6
    assert abs(got.loc["judge-alpha", "self_preference"]) < 0.06
    assert got.loc["judge-alpha", "low"] < 0 < got.loc["judge-alpha", "high"]


def test_pointwise_self_preference_is_in_score_points():
    table = simulate_pointwise(panel_of_three(self_preference=0.6), n_items=300, seed=2)
    got = self_preference(table, n_boot=300).set_index("judge")
    row = got.loc["judge-alpha"]
    assert row["unit"] == "score"
    assert row["self_preference"] == pytest.approx(0.6, abs=0.15)
    assert row["low"] > 0.3


def test_missing_verdicts_are_left_out_not_counted_against():
    table = simulate_judgments(
        [SimJudge("judge-alpha", "alpha", fail_rate=0.3), SimJudge("g", "gamma")],
        n_items=200,
        seed=1,
    )
    got = self_preference(table, n_boot=100).set_index("judge").loc["judge-alpha"]
    assert 80 < got["n_items"] < 150  # both orders must be valid: about 0.7² of the items
    assert np.isfinite(got["self_preference"])


def test_columns_are_stable_when_nothing_is_measurable():
    got = self_preference(pd.DataFrame(pairwise_table([("1", "a", C, C)])), n_boot=10)
    assert list(got.columns[:5]) == ["mode", "judge", "judge_family", "measurable", "reason"]


@pytest.mark.parametrize("seed", range(40))
def test_the_figure_is_exactly_own_favour_minus_others_favour(seed):
    # The report explains the figure with these two quantities: they must make it up exactly,
    # whatever mix of flips, ties, failures and missing orders the table holds.
    rng = np.random.default_rng(seed)
    outcomes = np.array([C, B, T, "fail", None], dtype=object)
    share = [0.3, 0.3, 0.2, 0.1, 0.1]
    rows = [
        (f"q{i}", judge, *rng.choice(outcomes, size=2, p=share))
        for i in range(int(rng.integers(4, 9)))
        for judge in ("gemma", "smol", "third")
    ]
    families = {"gemma": "beta", "smol": "alpha", "third": "gamma"}
    got = self_preference(pairwise_table(rows, families=families), n_boot=20)
    got = got.loc[got["measurable"].astype(bool)]
    assert len(got) > 0
    assert (got["own_favour"] - got["others_favour"]).to_numpy() == pytest.approx(
        got["self_preference"].to_numpy()
    )
