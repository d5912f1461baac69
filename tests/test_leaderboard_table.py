"""The leaderboard of a judgments table: item verdicts come from the one panel rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import UsageError
from evalkit.leaderboard import Leaderboard, Standing, leaderboard
from evalkit.leaderboard._comparisons import comparisons
from evalkit.leaderboard._fit import fit_leaderboard
from evalkit.panel import PanelRule, item_verdicts
from evalkit.testing import JudgeParams, simulate_judgments
from evalkit.testing._tables import panel_of_three


def several_candidates(
    qualities: dict[str, float], *, n_items: int = 120, judges: list[JudgeParams] | None = None
) -> pd.DataFrame:
    """A pairwise judgments table: each candidate against ``base-model``, three judges."""
    parts = []
    for k, (name, quality) in enumerate(qualities.items()):
        part = simulate_judgments(
            judges or panel_of_three(), n_items=n_items, seed=k, quality_mean=quality
        )
        parts.append(part.assign(candidate=name))
    return pd.concat(parts, ignore_index=True).assign(error=None)


@pytest.mark.parametrize("disagreement", ["tie", "abstain"])
def test_each_pairs_verdicts_are_the_panels_under_the_suites_rule(disagreement: str) -> None:
    table = several_candidates({"c1": 0.5, "c2": -0.5}, n_items=60)
    rule = PanelRule(disagreement=disagreement, quorum=2)  # type: ignore[arg-type]
    comps = comparisons(table, rule)
    for cand in ("c1", "c2"):
        panel = item_verdicts(table.loc[table["candidate"] == cand], rule)["pairwise"]
        mine = comps.loc[comps["model_a"] == cand].set_index("item_id")
        expected = panel.set_index("item_id")
        assert list(mine.index) == list(expected.index)
        assert mine["verdict"].tolist() == expected["verdict"].astype("string").tolist()
        assert mine["abstained"].tolist() == expected["abstained"].tolist()
        assert (mine["model_b"] == "base-model").all()
    # The rule matters: abstaining on disagreeing orders leaves some comparisons out.
    assert comps["abstained"].any() == (disagreement == "abstain")


def test_scores_count_a_tie_as_half_a_win_and_carry_the_lengths() -> None:
    table = several_candidates({"c1": 0.0}, n_items=40)
    comps = comparisons(table)
    expected = comps["verdict"].map({"candidate": 1.0, "tie": 0.5, "baseline": 0.0})
    assert comps["score"].tolist() == expected.astype(float).tolist()
    lengths = table.groupby("item_id")[["len_candidate", "len_baseline"]].first()
    joined = comps.join(lengths, on="item_id")
    assert (joined["len_a"] == joined["len_candidate"]).all()
    assert (joined["len_b"] == joined["len_baseline"]).all()


def test_grader_rows_are_not_judges() -> None:
    table = several_candidates({"c1": 0.3, "c2": 0.0}, n_items=30)
    graded = table.loc[table["judge"] == "judge-alpha"].assign(
        judge="exact", judge_family="deterministic", verdict="baseline"
    )
    with_graders = pd.concat([table, graded], ignore_index=True)
    assert comparisons(with_graders).equals(comparisons(table))


def test_better_candidates_rank_higher_from_a_judgments_table() -> None:
    table = several_candidates({"weak": -1.0, "good": 0.6, "best": 1.5}, n_items=200)
    board = leaderboard(table, n_boot=200)
    assert isinstance(board, Leaderboard)
    assert all(isinstance(s, Standing) for s in board.standings)
    assert board.baseline == "base-model"
    assert [s.model for s in board.standings] == ["best", "good", "base-model", "weak"]
    assert board.standing("best").items == 200
    assert board.standing("base-model").comparisons == 600
    # The table-level call is the comparisons, then the fit: nothing computed twice.
    assert board.to_dict() == fit_leaderboard(comparisons(table), n_boot=200).to_dict()


def test_round_robin_rows_name_a_candidate_as_the_baseline() -> None:
    table = several_candidates({"c1": 0.8, "c2": 0.0}, n_items=80)
    head_to_head = simulate_judgments(panel_of_three(), n_items=80, seed=9, quality_mean=0.8)
    head_to_head = head_to_head.assign(candidate="c1", baseline="c2", error=None)
    board = leaderboard(pd.concat([table, head_to_head], ignore_index=True), n_boot=100)
    assert board.baseline == "base-model"
    assert board.standing("c1").comparisons == 160
    assert board.standing("c2").comparisons == 160
    assert board.standing("c1").rating > board.standing("c2").rating


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns=["baseline"]), "the judgments table has no column baseline"),
        (lambda t: t.assign(mode="pointwise"), "no pairwise judge rows to rank models by"),
        (
            lambda t: t.assign(baseline=np.where(t.index == 5, None, t["baseline"])),
            r"1 pairwise rows name no candidate or no baseline model \(first at row 5\)",
        ),
        (lambda t: t.assign(baseline=t["candidate"]), "pairwise rows compare 'c1' with itself"),
    ],
)
def test_a_table_that_cannot_be_ranked_says_why(change, message: str) -> None:  # type: ignore[no-untyped-def]
    table = several_candidates({"c1": 0.0}, n_items=10)
    with pytest.raises(UsageError, match=message):
        leaderboard(change(table), n_boot=10)
