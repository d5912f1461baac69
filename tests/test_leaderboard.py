"""The leaderboard's statistics: Bradley-Terry ratings, bootstrap intervals, length control.

Each test fails when the statistic is wrong: exact values on a hand-computed example, equality
with a direct statsmodels logistic fit, recovery and interval coverage of known strengths in
simulation, and length control removing an injected pure verbosity advantage.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evalkit.errors import UsageError
from evalkit.leaderboard import _fit, _graph, _result
from evalkit.leaderboard._fit import ANCHOR, SCALE, fit_leaderboard

ORDER_OF_VERDICTS = {1.0: "candidate", 0.5: "tie", 0.0: "baseline"}


def comps_from(rows: list[tuple[str, str, float]], *, item_prefix: str = "i") -> pd.DataFrame:
    """A comparisons table from (model_a, model_b, score) rows, one item per row."""
    return pd.DataFrame(
        {
            "suite": "s",
            "item_id": [f"{item_prefix}{k}" for k in range(len(rows))],
            "model_a": [r[0] for r in rows],
            "model_b": [r[1] for r in rows],
            "verdict": [ORDER_OF_VERDICTS[r[2]] for r in rows],
            "score": [r[2] for r in rows],
            "abstained": False,
            "len_a": np.nan,
            "len_b": np.nan,
        }
    )


def simulate(
    strengths: dict[str, float],
    pairs: list[tuple[str, str]],
    *,
    n_items: int,
    seed: int,
    tie_rate: float = 0.2,
    verbosity: float = 0.0,
    longer: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Every pair compared on every item, outcomes drawn from a Bradley-Terry model.

    The expected score of model_a is expit(θ_a - θ_b + verbosity·s), s the normalised length
    difference, whatever the tie rate: a tie (probability ``tie_rate``) takes half a point
    from each side, so the truth in the half-a-win convention is exactly ``strengths``.
    ``longer`` adds to a model's log answer length (a verbose model).
    """
    rng = np.random.default_rng(seed)
    longer = longer or {}
    frames = []
    for a, b in pairs:
        len_a = np.exp(rng.normal(5.0 + longer.get(a, 0.0), 0.5, n_items))
        len_b = np.exp(rng.normal(5.0 + longer.get(b, 0.0), 0.5, n_items))
        style = (len_a - len_b) / (len_a + len_b)
        p = 1.0 / (1.0 + np.exp(-(strengths[a] - strengths[b] + verbosity * style)))
        u = rng.random(n_items)
        tie = rng.random(n_items) < tie_rate
        # P(win) = p - t/2 and P(loss) = 1 - p - t/2 given no tie, rescaled: E[score] = p.
        win = u < (p - tie_rate / 2.0) / (1.0 - tie_rate)
        score = np.where(tie, 0.5, np.where(win, 1.0, 0.0))
        frames.append(
            pd.DataFrame(
                {
                    "suite": "sim",
                    "item_id": [f"item-{k}" for k in range(n_items)],
                    "model_a": a,
                    "model_b": b,
                    "verdict": pd.Series(score).map(ORDER_OF_VERDICTS),
                    "score": score,
                    "abstained": False,
                    "len_a": len_a.round(),
                    "len_b": len_b.round(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def elo(logit: float) -> float:
    return ANCHOR + SCALE * logit


# --- exact values -----------------------------------------------------------------------------


def hand_example() -> pd.DataFrame:
    # Strengths π_Z = 1, π_A = 5/3, π_B = 5, and every pair's observed score share equals the
    # Bradley-Terry probability, so those strengths solve the likelihood equations exactly:
    # A vs Z 2 wins 1 tie 1 loss (5/8 = (5/3)/(8/3)); B vs Z 4 wins 2 ties (5/6 = 5/6);
    # B vs A 2 wins 2 ties (3/4 = 5/(5 + 5/3)).
    rows = [("A", "Z", 1.0)] * 2 + [("A", "Z", 0.5), ("A", "Z", 0.0)]
    rows += [("B", "Z", 1.0)] * 4 + [("B", "Z", 0.5)] * 2
    rows += [("B", "A", 1.0)] * 2 + [("B", "A", 0.5)] * 2
    return comps_from(rows)


def test_hand_computed_three_models_have_exact_ratings() -> None:
    board = fit_leaderboard(hand_example(), n_boot=50, prior=0.0)
    a, b, z = board.standing("A"), board.standing("B"), board.standing("Z")
    assert board.baseline == "Z"
    assert a.rating == pytest.approx(1000 + 400 * math.log10(5 / 3), abs=1e-6)  # 1088.74
    assert b.rating == pytest.approx(1000 + 400 * math.log10(5), abs=1e-6)  # 1279.59
    assert z.rating == 1000.0
    assert a.win_rate == pytest.approx(5 / 8, abs=1e-9)
    assert b.win_rate == pytest.approx(5 / 6, abs=1e-9)
    assert [s.model for s in board.standings] == ["B", "A", "Z"]
    assert [s.rank for s in board.standings] == [1, 2, 3]
    assert (a.items, a.comparisons, z.items, z.comparisons) == (8, 8, 10, 10)


def test_the_default_prior_barely_moves_ratings_with_ordinary_amounts_of_data() -> None:
    comps = pd.concat(
        [hand_example().assign(item_id=lambda f, k=k: f["item_id"] + f"-{k}") for k in range(50)]
    )
    board = fit_leaderboard(comps, n_boot=20)
    assert board.standing("A").rating == pytest.approx(1000 + 400 * math.log10(5 / 3), abs=0.5)
    assert board.standing("B").rating == pytest.approx(1000 + 400 * math.log10(5), abs=0.5)


def test_one_candidate_gives_its_win_rate_with_ties_as_half() -> None:
    rows = [("C", "Z", 1.0)] * 13 + [("C", "Z", 0.5)] * 6 + [("C", "Z", 0.0)] * 5
    board = fit_leaderboard(comps_from(rows), n_boot=200, prior=0.0)
    c = board.standing("C")
    assert c.win_rate == pytest.approx((13 + 6 / 2) / 24, abs=1e-9)
    assert c.rating == pytest.approx(elo(math.log(16 / 8)), abs=1e-6)
    assert c.win_low < c.win_rate < c.win_high
    assert c.low < c.rating < c.high


# --- against a reference implementation -------------------------------------------------------


def round_robin(models: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(models) for b in models[i + 1 :]]


def test_ratings_equal_a_direct_statsmodels_logistic_fit() -> None:
    truth = {"base": 0.0, "m1": 0.4, "m2": -0.3, "m3": 0.9}
    pairs = [("m1", "base"), ("m2", "base"), ("m3", "base"), ("m1", "m2"), ("m3", "m1")]
    comps = simulate(truth, pairs, n_items=60, seed=3, verbosity=0.8)
    board = fit_leaderboard(comps, "base", n_boot=20, prior=0.0)
    free = ["m1", "m2", "m3"]
    x = np.stack(
        [(comps["model_a"] == m).astype(float) - (comps["model_b"] == m) for m in free], axis=1
    )
    y = comps["score"].to_numpy()
    plain = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-12)
    for m, coef in zip(free, plain.params, strict=True):
        assert board.standing(m).rating == pytest.approx(elo(coef), abs=1e-5)
    style = ((comps["len_a"] - comps["len_b"]) / (comps["len_a"] + comps["len_b"])).to_numpy()
    controlled = sm.GLM(y, np.column_stack([x, style]), family=sm.families.Binomial()).fit(
        tol=1e-12
    )
    for m, coef in zip(free, controlled.params[:3], strict=True):
        assert board.standing(m).lc_rating == pytest.approx(elo(coef), abs=1e-5)
    assert board.length_coef == pytest.approx(controlled.params[3], abs=1e-7)


# --- anchoring --------------------------------------------------------------------------------


def test_the_baseline_is_the_anchor_and_moving_it_shifts_every_rating_alike() -> None:
    truth = {"base": 0.0, "m1": 0.5, "m2": -0.2}
    comps = simulate(truth, [("m1", "base"), ("m2", "base"), ("m1", "m2")], n_items=80, seed=1)
    at_base = fit_leaderboard(comps, "base", n_boot=30, prior=0.0)
    at_m1 = fit_leaderboard(comps, "m1", n_boot=30, prior=0.0)
    base = at_base.standing("base")
    assert (base.rating, base.low, base.high, base.win_rate) == (1000.0, 1000.0, 1000.0, 0.5)
    assert at_m1.standing("m1").rating == 1000.0
    shift = at_m1.standing("base").rating - 1000.0
    assert shift == pytest.approx(-(at_base.standing("m1").rating - 1000.0), abs=1e-6)
    for m in truth:
        assert at_m1.standing(m).rating == pytest.approx(
            at_base.standing(m).rating + shift, abs=1e-6
        )


def test_the_baseline_is_inferred_only_when_one_model_is_never_a_candidate() -> None:
    comps = comps_from([("A", "Z", 1.0), ("A", "Z", 0.0), ("B", "Y", 1.0), ("B", "Y", 0.0)])
    with pytest.raises(
        UsageError, match=r"cannot tell which model is the baseline \(.*Y, Z\); pass baseline="
    ):
        fit_leaderboard(comps)
    with pytest.raises(UsageError, match="baseline='Q' is not a model of the table"):
        fit_leaderboard(comps, "Q")


# --- simulation: recovery, coverage, length control -------------------------------------------

CANDIDATES = {"base": 0.0, "m1": 0.6, "m2": 0.2, "m3": -0.4}
AGAINST_BASE = [("m1", "base"), ("m2", "base"), ("m3", "base")]


def test_known_strengths_are_recovered_from_a_large_simulated_table() -> None:
    pairs = [*AGAINST_BASE, ("m1", "m2"), ("m2", "m3")]
    board = fit_leaderboard(simulate(CANDIDATES, pairs, n_items=4000, seed=7), n_boot=200)
    for m, theta in CANDIDATES.items():
        s = board.standing(m)
        # 4,000 items per pair: the standard error is about 0.035 logits (6 Elo).
        assert s.rating == pytest.approx(elo(theta), abs=20), m
        assert s.win_rate == pytest.approx(1 / (1 + math.exp(-theta)), abs=0.03), m
    assert [s.model for s in board.standings] == ["m1", "m2", "base", "m3"]
    assert board.unseparated == ()


def test_bootstrap_intervals_cover_the_true_ratings_at_about_the_nominal_rate() -> None:
    covered = []
    for seed in range(150):
        comps = simulate(CANDIDATES, [*AGAINST_BASE, ("m1", "m3")], n_items=150, seed=1000 + seed)
        board = fit_leaderboard(comps, n_boot=300, seed=seed, length_control=False)
        for m in ("m1", "m2", "m3"):
            s = board.standing(m)
            covered.append(s.low <= elo(CANDIDATES[m]) <= s.high)
            assert s.win_low <= s.win_rate <= s.win_high
    rate = float(np.mean(covered))  # 0.942 with these seeds
    # 450 intervals at 95 %: a binomial sd of about 1 %. Intervals at the wrong level fail:
    # 90 % intervals (tails of 5 % each, not 2.5 %) cover 0.909 of these seeds.
    assert 0.92 <= rate <= 0.98, rate


def test_length_control_removes_a_pure_verbosity_advantage() -> None:
    # "wordy" is exactly as good as the baseline but writes longer answers, and the judges
    # reward length; "sharp" is better and writes like everyone else.
    truth = {"base": 0.0, "wordy": 0.0, "sharp": 0.5}
    pairs = [("wordy", "base"), ("sharp", "base"), ("sharp", "wordy")]
    comps = simulate(truth, pairs, n_items=1500, seed=11, verbosity=2.0, longer={"wordy": 0.6})
    board = fit_leaderboard(comps, n_boot=200)
    wordy, sharp = board.standing("wordy"), board.standing("sharp")
    assert wordy.low > 1040  # the raw rating is inflated, beyond its interval
    assert wordy.lc_low <= 1000 <= wordy.lc_high
    assert wordy.lc_rating == pytest.approx(1000, abs=25)
    assert sharp.lc_rating == pytest.approx(elo(0.5), abs=25)
    assert board.length_low <= 2.0 <= board.length_high
    assert board.length_coef == pytest.approx(2.0, abs=0.4)


# --- what the data cannot say -----------------------------------------------------------------


def test_models_without_a_chain_of_comparisons_to_the_baseline_get_no_rating() -> None:
    linked = simulate({"base": 0.0, "m1": 0.3}, [("m1", "base")], n_items=100, seed=2)
    island = simulate({"x": 0.0, "y": 1.0}, [("y", "x")], n_items=100, seed=3)
    board = fit_leaderboard(pd.concat([linked, island]), "base", n_boot=50)
    alone = fit_leaderboard(linked, "base", n_boot=50)
    assert board.unranked == (("x", "y"),)
    for m in ("x", "y"):
        s = board.standing(m)
        assert s.rank is None
        assert math.isnan(s.rating)
        assert math.isnan(s.low)
        assert s.items == 100
    assert board.standing("m1").rating == alone.standing("m1").rating
    assert (
        "x, y cannot be ranked against base: no chain of comparisons links them to it"
        in board.notes
    )
    assert [s.model for s in board.standings][-2:] == ["x", "y"]


def test_a_model_that_wins_everything_gets_a_finite_rating_and_a_note() -> None:
    comps = simulate({"base": 0.0, "m1": 0.3}, [("m1", "base")], n_items=100, seed=4)
    champ = comps_from([("champ", "base", 1.0)] * 30, item_prefix="c")
    board = fit_leaderboard(pd.concat([comps, champ]), n_boot=100)
    s = board.standing("champ")
    assert s.record == "won every comparison"
    assert math.isfinite(s.rating)
    assert math.isfinite(s.low)
    assert math.isfinite(s.high)
    assert s.rank == 1
    assert s.low > board.standing("m1").high
    assert (
        "champ won every comparison: its rating is held finite by the prior; read it as a bound"
        in board.notes
    )
    with pytest.raises(UsageError, match="use a prior > 0"):
        fit_leaderboard(pd.concat([comps, champ]), n_boot=10, prior=0.0)


def test_neighbours_whose_intervals_overlap_are_said_not_to_be_separated() -> None:
    truth = {"base": 0.0, "a": 1.5, "b": 0.8, "c": 0.8}
    comps = simulate(truth, [("a", "base"), ("b", "base"), ("c", "base")], n_items=400, seed=5)
    board = fit_leaderboard(comps, n_boot=200)
    assert next(s.model for s in board.standings) == "a"
    assert board.unseparated == ((2, 3),)
    assert board.notes[0] == "ranks 2 and 3 are not separated: their intervals overlap"


def test_abstained_comparisons_are_counted_and_left_out() -> None:
    comps = hand_example()
    extra = comps_from([("A", "Z", 1.0)] * 3, item_prefix="x").assign(
        verdict=pd.NA, score=np.nan, abstained=True
    )
    board = fit_leaderboard(pd.concat([comps, extra]), n_boot=20, prior=0.0)
    assert board.n_abstained == 3
    assert board.n_comparisons == 14
    assert board.standing("A").rating == pytest.approx(1000 + 400 * math.log10(5 / 3), abs=1e-6)
    assert "the panel abstained on 3 comparisons; they are not counted" in board.notes


def test_the_bootstrap_is_seeded() -> None:
    comps = hand_example()
    one, again = (
        fit_leaderboard(comps, n_boot=100, seed=1),
        fit_leaderboard(comps, n_boot=100, seed=1),
    )
    other = fit_leaderboard(comps, n_boot=100, seed=2)
    assert one.to_dict() == again.to_dict()
    assert (one.standing("A").low, one.standing("A").high) != (
        other.standing("A").low,
        other.standing("A").high,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_boot": 0}, "n_boot must be a whole number of resamples, at least 1; got 0"),
        ({"confidence": 1.5}, "confidence must be strictly between 0 and 1, got 1.5"),
        ({"prior": -1.0}, "prior must be a finite precision >= 0, got -1.0"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        fit_leaderboard(hand_example(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("module", [_graph, _result, _fit])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_when_the_panel_abstained_on_everything_no_model_is_ranked() -> None:
    comps = comps_from([("A", "Z", 1.0), ("B", "Z", 0.0)]).assign(
        verdict=pd.NA, score=np.nan, abstained=True
    )
    board = fit_leaderboard(comps, n_boot=10)
    assert [(s.model, s.rank) for s in board.standings] == [("Z", 1), ("A", None), ("B", None)]
    assert board.standing("Z").rating == 1000.0
    assert math.isnan(board.standing("A").rating)
    assert board.unranked == (("A",), ("B",))
    assert board.notes[-1] == "the panel abstained on 2 comparisons; they are not counted"
    assert board.n_items == 0
