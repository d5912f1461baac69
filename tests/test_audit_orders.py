import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from evalkit.audit import position_bias
from evalkit.audit._orders import option_order_bias
from evalkit.errors import UsageError
from evalkit.panel import combine_orders
from evalkit.testing import simulate_judgments
from evalkit.testing._tables import FAILED, UNPARSEABLE, pairwise_table, panel_of_three

C, B, T = "candidate", "baseline", "tie"


def combined_row(table, item, judge="j", **kwargs):
    got = combine_orders(table, **kwargs).set_index(["item_id", "judge"])
    return got.loc[(item, judge)]


def test_combined_verdict_rules():
    table = pairwise_table(
        [
            ("agree", "j", C, C),
            ("flip", "j", C, B),
            ("tie-vs-win", "j", T, B),
            ("no-ba", "j", B, None),
            ("junk-ab", "j", UNPARSEABLE, C),
            ("both-failed", "j", FAILED, FAILED),
        ]
    )
    got = combine_orders(table).set_index("item_id")
    assert got.loc["agree", "verdict"] == C
    assert bool(got.loc["agree", "consistent"]) is True
    assert pd.isna(got.loc["agree", "reason"])
    assert got.loc["flip", "verdict"] == T
    assert got.loc["flip", "reason"] == "orders disagree: candidate (AB) vs baseline (BA)"
    assert bool(got.loc["tie-vs-win", "consistent"]) is False
    assert got.loc["tie-vs-win", "verdict"] == T
    for item, reason in [
        ("no-ba", "no valid BA verdict (missing)"),
        ("junk-ab", "no valid AB verdict (unparseable)"),
        ("both-failed", "no valid AB verdict (call failed); no valid BA verdict (call failed)"),
    ]:
        assert pd.isna(got.loc[item, "verdict"]), item
        assert pd.isna(got.loc[item, "consistent"]), item
        assert got.loc[item, "reason"] == reason
    assert got["n_valid_orders"].to_dict() == {
        "agree": 2,
        "both-failed": 0,
        "flip": 2,
        "junk-ab": 1,
        "no-ba": 1,
        "tie-vs-win": 2,
    }


def test_disagreement_can_abstain_instead_of_tie():
    table = pairwise_table([("flip", "j", C, B), ("agree", "j", B, B)])
    got = combine_orders(table, disagreement="abstain").set_index("item_id")
    assert pd.isna(got.loc["flip", "verdict"])
    assert got.loc["flip", "reason"].startswith("orders disagree")
    assert got.loc["agree", "verdict"] == B
    with pytest.raises(UsageError, match="disagreement must be one of tie, abstain"):
        combine_orders(table, disagreement="coin")  # type: ignore[arg-type]


def test_combined_has_one_row_per_item_judge_sample_with_the_documented_columns():
    table = pd.concat(
        [
            pairwise_table([("q1", "j1", C, C), ("q1", "j2", B, C)]),
            pairwise_table([("q1", "j1", B, B)], sample=1),
        ]
    )
    got = combine_orders(table)
    assert len(got) == 3
    for column in [
        "suite",
        "item_id",
        "judge",
        "judge_family",
        "sample",
        "verdict_ab",
        "verdict_ba",
        "verdict",
        "consistent",
        "n_valid_orders",
        "reason",
    ]:
        assert column in got.columns


def test_position_bias_counts_on_a_hand_table():
    table = pairwise_table(
        [
            ("1", "j", C, C),  # consistent: one first pick (AB), one second
            ("2", "j", C, B),  # flip toward the first answer: two first picks
            ("3", "j", B, C),  # flip toward the second answer: zero first picks
            ("4", "j", C, T),  # flip with a tie: one decisive verdict, a first pick
            ("5", "j", C, None),  # missing order: not counted in the rates
            ("6", "j", FAILED, B),
        ]
    )
    row = position_bias(table).set_index("judge").loc["j"]
    assert row["n_rows"] == 11
    assert row["n_invalid"] == 1
    assert row["n_items"] == 4
    assert row["n_missing_order"] == 2
    assert row["consistency"] == pytest.approx(0.25)
    assert row["flip_rate"] == pytest.approx(0.75)
    assert row["n_decisive"] == 7
    assert row["n_first"] == 4
    assert row["first_position_rate"] == pytest.approx(4 / 7)
    assert row["p_value"] == pytest.approx(stats.binomtest(4, 7).pvalue)
    assert row["fp_low"] < 4 / 7 < row["fp_high"]


def test_a_consistent_judge_sits_at_one_half_whatever_the_candidates_quality():
    always_candidate = pairwise_table([(str(i), "j", C, C) for i in range(50)])
    row = position_bias(always_candidate).iloc[0]
    assert row["first_position_rate"] == 0.5
    assert row["flip_rate"] == 0.0
    always_first = pairwise_table([(str(i), "j", C, B) for i in range(50)])
    row = position_bias(always_first).iloc[0]
    assert row["first_position_rate"] == 1.0
    assert row["flip_rate"] == 1.0
    assert row["p_value"] < 1e-20


def test_a_judge_without_valid_verdicts_gets_a_row_with_nan_rates():
    table = pairwise_table([("1", "ok", C, C), ("1", "broken", FAILED, UNPARSEABLE)])
    got = position_bias(table).set_index("judge")
    assert got.loc["broken", "n_items"] == 0
    assert got.loc["broken", "n_invalid"] == 2
    assert np.isnan(got.loc["broken", "first_position_rate"])
    assert (got.loc["broken", "fp_low"], got.loc["broken", "fp_high"]) == (0.0, 1.0)


verdicts = st.sampled_from([C, B, T, FAILED, None])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(verdicts, verdicts), min_size=1, max_size=30))
def test_relabelling_candidate_and_baseline_with_the_orders_changes_nothing(pairs):
    """Swapping which model is called the candidate swaps AB/BA too: position is unchanged."""
    assume(any(v is not None for pair in pairs for v in pair))
    swap = {C: B, B: C}
    table = pairwise_table([(str(i), "j", ab, ba) for i, (ab, ba) in enumerate(pairs)])
    mirrored = pairwise_table(
        [(str(i), "j", swap.get(ba, ba), swap.get(ab, ab)) for i, (ab, ba) in enumerate(pairs)]
    )
    a, b = position_bias(table), position_bias(mirrored)
    columns = ["n_items", "n_missing_order", "flip_rate", "n_decisive", "n_first", "p_value"]
    pd.testing.assert_frame_equal(a[columns], b[columns])


def test_simulated_position_bias_is_found_in_the_biased_judge_only():
    table = simulate_judgments(panel_of_three(first_position=0.7), seed=3)
    got = position_bias(table).set_index("judge")
    assert got.loc["judge-alpha", "first_position_rate"] == pytest.approx(0.7, abs=0.05)
    assert got.loc["judge-alpha", "p_value"] < 1e-6
    assert (got.loc[["judge-beta", "judge-gamma"], "p_value"] > 0.01).all()


def pointwise_rows(scores):
    rows = []
    for (item, judge), (asc, desc) in scores.items():
        for listing, score in (("ascending", asc), ("descending", desc)):
            if score is not None:
                rows.append(
                    {
                        "suite": "s",
                        "item_id": item,
                        "mode": "pointwise",
                        "judge": judge,
                        "candidate": "m",
                        "score": score,
                        "option_order": listing,
                    }
                )
    return pd.DataFrame(rows)


def test_option_order_bias_is_a_sign_test_on_discordant_pairs():
    table = pointwise_rows(
        {
            ("1", "j"): (3, 3),  # consistent
            ("2", "j"): (2, 4),  # lower when the lowest option is listed first: toward first
            ("3", "j"): (1, 5),  # toward first
            ("4", "j"): (4, 3),  # away from first
            ("5", "j"): (4, None),  # one listing only
        }
    )
    row = option_order_bias(table).iloc[0]
    assert row["n_items"] == 4
    assert row["n_missing_order"] == 1
    assert row["consistency"] == pytest.approx(0.25)
    assert row["n_decisive"] == 3
    assert row["n_first"] == 2
    assert row["first_position_rate"] == pytest.approx(2 / 3)
    assert row["p_value"] == pytest.approx(1.0)


def test_option_order_bias_is_empty_without_the_column():
    table = pointwise_rows({("1", "j"): (3, None)}).drop(columns=["option_order"])
    assert option_order_bias(table).empty
    assert option_order_bias(pairwise_table([("1", "j", C, C)])).empty
