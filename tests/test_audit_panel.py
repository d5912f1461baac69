import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.audit import WinRateEstimate
from evalkit.audit._panel import win_rate
from evalkit.audit._table import validate_judgments
from evalkit.errors import UsageError
from evalkit.panel import AGGREGATORS, aggregator, combine_orders
from evalkit.panel._aggregate import panel_verdicts
from evalkit.testing._tables import FAILED, UNPARSEABLE, pairwise_table

C, B, T = "candidate", "baseline", "tie"


def panel_of(rows, **kwargs):
    return panel_verdicts(combine_orders(pairwise_table(rows)), **kwargs).set_index("item_id")


def test_majority_of_combined_verdicts():
    got = panel_of([("q", "j1", C, C), ("q", "j2", C, C), ("q", "j3", B, B)])
    assert got.loc["q", "verdict"] == C
    assert got.loc["q", "n_judges_valid"] == 3
    assert not got.loc["q", "abstained"]
    assert got.loc["q", ["votes_candidate", "votes_baseline", "votes_tie"]].tolist() == [2, 1, 0]


def test_an_even_split_is_a_tie_and_a_failed_judge_never_breaks_it():
    got = panel_of([("q", "j1", C, C), ("q", "j2", B, B), ("q", "j3", FAILED, UNPARSEABLE)])
    assert got.loc["q", "verdict"] == T
    assert got.loc["q", "reason"] == "no majority: votes tied between candidate and baseline"
    assert got.loc["q", "n_judges"] == 3
    assert got.loc["q", "n_judges_valid"] == 2


def test_a_judge_missing_one_order_casts_no_vote():
    got = panel_of([("q", "j1", C, C), ("q", "j2", B, B), ("q", "j3", C, None)])
    assert got.loc["q", "verdict"] == T


def test_below_quorum_is_abstained_with_the_reason():
    got = panel_of([("q", "j1", C, C), ("q", "j2", FAILED, B), ("q", "j3", None, C)])
    assert pd.isna(got.loc["q", "verdict"])
    assert bool(got.loc["q", "abstained"])
    assert got.loc["q", "reason"] == "below quorum: 1 of 3 judges gave a verdict (quorum 2)"
    assert panel_of([("q", "j1", C, C)], quorum=1).loc["q", "verdict"] == C


@settings(max_examples=50, deadline=None)
@given(st.permutations(["j1", "j2", "j3", "j4"]), st.sampled_from(["majority", "weighted"]))
def test_the_order_judges_are_listed_in_never_matters(judges, method):
    votes = {"j1": C, "j2": B, "j3": FAILED, "j4": T}
    rows = [("q", j, votes[j], votes[j]) for j in judges]
    weights = {"j1": 1.0, "j2": 1.0, "j3": 5.0, "j4": 1.0}
    got = panel_of(rows, method=method, weights=weights)
    assert got.loc["q", "verdict"] == T
    assert "tied between" in got.loc["q", "reason"]


def test_weighted_votes():
    rows = [("q", "j1", C, C), ("q", "j2", B, B), ("q", "j3", B, B)]
    got = panel_of(rows, method="weighted", weights={"j1": 3.0, "j2": 1.0, "j3": 1.0})
    assert got.loc["q", "verdict"] == C
    assert got.loc["q", "votes_candidate"] == 3.0
    zero = panel_of(rows, method="weighted", weights={"j1": 0.0, "j2": 0.0, "j3": 0.0})
    assert bool(zero.loc["q", "abstained"])
    assert zero.loc["q", "reason"] == "every judge that gave a verdict has weight 0"
    with pytest.raises(UsageError, match="no weight for judge"):
        panel_of(rows, method="weighted", weights={"j1": 1.0})
    with pytest.raises(UsageError, match="needs weights="):
        panel_of(rows, method="weighted")


def test_a_judge_with_several_samples_splits_its_one_vote():
    table = pd.concat(
        [
            pairwise_table([("q", "j1", C, C), ("q", "j2", B, B)]),
            pairwise_table([("q", "j1", C, C), ("q", "j2", C, C)], sample=1),
            pairwise_table([("q", "j1", C, C), ("q", "j2", C, C)], sample=2),
        ]
    )
    got = panel_verdicts(combine_orders(table)).set_index("item_id")
    assert got.loc["q", "votes_candidate"] == pytest.approx(1 + 2 / 3)
    assert got.loc["q", "votes_baseline"] == pytest.approx(1 / 3)
    assert got.loc["q", "n_judges_valid"] == 2


def test_a_judgments_table_must_be_combined_first_so_the_rule_is_never_implicit():
    table = pairwise_table([("q", "j1", C, B), ("q", "j2", B, B), ("q", "j3", B, B)])
    with pytest.raises(UsageError, match="combine_orders"):
        panel_verdicts(table)


def test_methods_are_registered_by_name_and_users_can_add_theirs():
    assert {"majority", "weighted", "mean", "median"} <= set(AGGREGATORS.names())
    assert AGGREGATORS.get("mean").kind == "score"

    @AGGREGATORS.register("veto")
    @aggregator("verdict")
    def veto(ballots, weights):
        """Any baseline vote wins."""
        totals = ballots.groupby(["suite", "item_id"])[[C, B, T]].sum()
        return totals.assign(baseline=(totals[B] > 0) * 99.0)

    try:
        got = panel_of([("q", "j1", C, C), ("q", "j2", C, C), ("q", "j3", B, B)], method="veto")
        assert got.loc["q", "verdict"] == B
        assert AGGREGATORS.get("veto").description == "Any baseline vote wins."
    finally:
        AGGREGATORS.unregister("veto")
    with pytest.raises(UsageError, match="unknown panel method 'veto'; known panel methods: "):
        panel_of([("q", "j1", C, C)], method="veto")


@pytest.mark.parametrize("quorum", [0, -1, 1.5, True])
def test_quorum_must_be_a_positive_whole_number(quorum):
    with pytest.raises(UsageError, match="quorum"):
        panel_of([("q", "j1", C, C)], quorum=quorum)


def test_score_methods_need_the_table_and_aggregate_judge_means():
    rows = [
        {
            "suite": "s",
            "item_id": "q",
            "mode": "pointwise",
            "judge": j,
            "candidate": "m",
            "score": score,
            "sample": sample,
            "parse_ok": score is not None,
        }
        for j, sample, score in [
            ("j1", 0, 2.0),
            ("j1", 1, 4.0),
            ("j2", 0, 5.0),
            ("j3", 0, 1.0),
            ("j4", 0, None),
        ]
    ]
    table = validate_judgments(pd.DataFrame(rows))
    mean = panel_verdicts(table, method="mean").iloc[0]
    assert mean["score"] == pytest.approx((3.0 + 5.0 + 1.0) / 3)
    assert mean["n_judges"] == 4
    assert mean["n_judges_valid"] == 3
    assert panel_verdicts(table, method="median").iloc[0]["score"] == 3.0
    abstained = panel_verdicts(table, method="mean", quorum=4).iloc[0]
    assert bool(abstained["abstained"])
    assert math.isnan(abstained["score"])
    assert abstained["reason"] == "below quorum: 3 of 4 judges gave a verdict (quorum 4)"
    with pytest.raises(UsageError, match="aggregates scores: pass the judgments table"):
        panel_verdicts(combine_orders(pairwise_table([("q", "j1", C, C)])), method="mean")


def test_win_rate_counts_ties_as_half_and_leaves_abstentions_out():
    panel = pd.DataFrame(
        {
            "verdict": [C, C, C, B, T, None],
            "abstained": [False, False, False, False, False, True],
        }
    )
    got = win_rate(panel)
    assert (got.wins, got.losses, got.ties, got.abstained, got.n) == (3, 1, 1, 1, 5)
    assert got.rate == pytest.approx(3.5 / 5)
    assert got.interval.n == 5
    assert got.interval.low < 0.7 < got.interval.high
    assert got.to_dict()["interval"]["estimate"] == pytest.approx(0.7)


def test_win_rate_with_nothing_decided():
    got = win_rate(pd.DataFrame({"verdict": [None], "abstained": [True]}))
    assert isinstance(got, WinRateEstimate)
    assert got.n == 0
    assert math.isnan(got.rate)
    assert got.to_dict()["rate"] is None
    with pytest.raises(UsageError, match=r"evalkit\.panel"):
        win_rate(pd.DataFrame({"x": [1]}))
