import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.discrete.discrete_model import Logit

from evalkit.audit import verbosity_bias
from evalkit.audit._verbosity import length_slope
from evalkit.testing import SimJudge, simulate_judgments, simulate_pointwise
from evalkit.testing._tables import pairwise_table, panel_of_three

C, B, T = "candidate", "baseline", "tie"


def test_odds_ratio_matches_a_direct_logit_fit():
    table = simulate_judgments(panel_of_three(verbosity=0.5), n_items=200, seed=8)
    got = verbosity_bias(table).set_index("judge").loc["judge-alpha"]
    rows = table[(table["judge"] == "judge-alpha") & table["verdict"].isin([C, B])]
    cand_first = (rows["order"] == "AB").to_numpy()
    y = ((rows["verdict"] == C).to_numpy() == cand_first).astype(float)
    diff = (rows["len_candidate"] - rows["len_baseline"]).to_numpy(float) / 100
    x = np.column_stack([np.ones(len(rows)), np.where(cand_first, diff, -diff), cand_first - 0.5])
    fit = Logit(y, x).fit(disp=0)
    assert got["odds_ratio"] == pytest.approx(np.exp(fit.params[1]), rel=1e-6)
    assert got["position_odds_ratio"] == pytest.approx(np.exp(fit.params[0]), rel=1e-6)
    assert got["n"] == len(rows)
    # Item-clustered errors, not the naive ones: the interval differs from the plain fit's.
    naive = np.exp(fit.conf_int()[1])
    assert got["or_low"] < got["odds_ratio"] < got["or_high"]
    assert (got["or_low"], got["or_high"]) != pytest.approx(tuple(naive), rel=1e-9)


def test_injected_verbosity_is_found_and_position_is_kept_apart():
    table = simulate_judgments(
        [SimJudge("wordy", "a", verbosity=0.8), SimJudge("first", "b", first_position=0.7)],
        n_items=300,
        seed=2,
    )
    got = verbosity_bias(table).set_index("judge")
    assert got.loc["wordy", "or_low"] > 1.3
    assert got.loc["wordy", "p_value"] < 1e-6
    assert got.loc["wordy", "longer_low"] > 0.55
    assert got.loc["first", "or_low"] < 1 < got.loc["first", "or_high"]
    assert got.loc["first", "position_odds_ratio"] > 1.8
    assert got.loc["first", "longer_low"] < 0.5 < got.loc["first", "longer_high"]


def test_longer_rate_counts_decisive_verdicts_on_unequal_lengths():
    table = pairwise_table([("1", "j", C, C), ("2", "j", B, T), ("3", "j", C, B)])
    table["len_candidate"] = [200, 200, 50, 50, 80, 80]
    table["len_baseline"] = [100, 100, 100, 100, 80, 80]
    got = verbosity_bias(table).iloc[0]
    # Item 1: two picks of the longer; item 2: one pick of the longer (baseline), one tie;
    # item 3: equal lengths, not counted.
    assert got["n_unequal"] == 3
    assert got["longer_rate"] == 1.0
    assert not bool(got["measurable"])
    assert got["reason"] == "fewer than 10 decisive verdicts with known answer lengths"


def test_equal_lengths_and_unknown_lengths_are_not_measurable():
    table = simulate_judgments([SimJudge("j", "a")], n_items=50, seed=1)
    table["len_baseline"] = table["len_candidate"]
    assert verbosity_bias(table).iloc[0]["reason"] == "the answers' lengths never differ"
    table["len_candidate"] = None
    table["len_baseline"] = None
    got = verbosity_bias(table).iloc[0]
    assert got["n"] == 0
    assert not bool(got["measurable"])


def test_perfect_separation_is_reported_not_raised():
    # A judge that always picks the longer answer: the length perfectly predicts the verdict.
    rows = [(str(i), "j", C if i % 2 else B, C if i % 2 else B) for i in range(40)]
    table = pairwise_table(rows)
    odd = table["item_id"].astype(int) % 2 == 1
    table["len_candidate"] = np.where(odd, 300, 100) + table["item_id"].astype(int)
    table["len_baseline"] = np.where(odd, 100, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak out of the audit
        got = verbosity_bias(table).iloc[0]
    assert not bool(got["measurable"])
    assert "perfectly predicted" in got["reason"] or "could not be fitted" in got["reason"]
    assert got["longer_rate"] == 1.0


def test_pointwise_slope_per_hundred_tokens():
    table = simulate_pointwise(
        panel_of_three(verbosity=0.5, noise=0.3), n_items=300, seed=4, option_orders=False
    )
    got = length_slope(table).set_index("judge")
    assert got.loc["judge-alpha", "slope"] == pytest.approx(0.5, abs=0.12)
    assert got.loc["judge-alpha", "p_value"] < 1e-6
    assert got.loc["judge-beta", "slope_low"] < got.loc["judge-alpha", "slope_low"]
    assert (got["mode"] == "pointwise").all()


def test_no_rows_give_empty_frames_with_columns():
    pointwise_only = simulate_pointwise(panel_of_three(), n_items=5, option_orders=False)
    assert verbosity_bias(pointwise_only).empty
    assert "odds_ratio" in verbosity_bias(pointwise_only).columns
    assert length_slope(pairwise_table([("1", "j", C, C)])).empty
    assert isinstance(length_slope(pd.DataFrame(pairwise_table([("1", "j", C, C)]))), pd.DataFrame)
