import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from evalkit.audit._agreement import judge_agreement, kappa_with_others, panel_agreement
from evalkit.audit._kappa import cohen_kappa, fleiss_kappa, kappa_from_tables, krippendorff_alpha
from evalkit.audit._table import validate_judgments
from evalkit.panel import combine_orders
from evalkit.testing import SimJudge, simulate_judgments
from evalkit.testing._tables import pairwise_table, panel_of_three

C, B, T = "candidate", "baseline", "tie"


def confusion(a, b, k):
    table = np.zeros((k, k))
    np.add.at(table, (a, b), 1)
    return table


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=2),
        )
    ),
    st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_kappa_agrees_with_scikit_learn_and_statsmodels(data, weights):
    k, pairs = data
    a, b = (np.array(x) for x in zip(*pairs, strict=True))
    table = confusion(a, b, k)
    got = cohen_kappa(table, weights)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")  # the references warn where kappa is undefined
        expected = cohen_kappa_score(a, b, labels=list(range(k)), weights=weights)
        sm = sm_cohens_kappa(table, wt=weights) if weights else sm_cohens_kappa(table)
    assume(np.isfinite(expected) and np.isfinite(got.kappa))
    assert got.kappa == pytest.approx(expected, abs=1e-9)
    assert kappa_from_tables(table, weights) == pytest.approx(expected, abs=1e-9)
    # statsmodels returns NaN where rounding makes a zero variance negative; ours is then 0 or
    # the square root of a rounding-sized positive variance (a few 1e-7 at most).
    if np.isnan(sm.std_kappa):
        assert got.ase == pytest.approx(0.0, abs=1e-6)
    else:
        assert got.ase == pytest.approx(sm.std_kappa, abs=1e-7)
    assert got.ase0 == pytest.approx(np.nan_to_num(sm.std_kappa0), abs=1e-7)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda raters: arrays(
            np.int64,
            st.tuples(st.integers(2, 25), st.integers(2, 5)),
            elements=st.integers(0, raters),
        )
    )
)
def test_fleiss_kappa_agrees_with_statsmodels_on_complete_tables(counts):
    # statsmodels needs the same number of raters per subject: top up the last category.
    raters = max(int(counts.sum(axis=1).max()), 2)
    counts = counts.copy()
    counts[:, -1] += raters - counts.sum(axis=1)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        expected = sm_fleiss_kappa(counts)
    assume(np.isfinite(expected))
    assert fleiss_kappa(counts) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 5), st.integers(2, 15)),
        elements=st.one_of(st.sampled_from([1.0, 2.0, 3.0, 4.0, 7.0]), st.just(np.nan)),
    ),
    st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_krippendorff_alpha_agrees_with_the_krippendorff_package(data, level):
    # The package needs at least two distinct values and one pairable unit.
    assume(np.unique(data[np.isfinite(data)]).size >= 2)
    assume((np.isfinite(data).sum(axis=0) >= 2).any())
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    got = krippendorff_alpha(data, level)
    if np.isfinite(expected):
        assert got == pytest.approx(expected, abs=1e-9)
    else:
        assert np.isnan(got)


def test_judge_agreement_matches_scikit_learn_on_the_combined_verdicts():
    table = simulate_judgments(panel_of_three(), n_items=120, seed=4, quality_sd=2.0)
    got = judge_agreement(table, n_boot=200).set_index(["judge_a", "judge_b"])
    combined = combine_orders(validate_judgments(table)).pivot(
        index="item_id", columns="judge", values="verdict"
    )
    for (a, b), row in got.iterrows():
        both = combined[[a, b]].dropna()
        expected = cohen_kappa_score(both[a].astype(str), both[b].astype(str))
        assert row["kappa"] == pytest.approx(expected, abs=1e-12)
        assert row["n_units"] == len(both)
        assert row["raw_agreement"] == pytest.approx((both[a] == both[b]).mean())
        assert row["kappa_low"] < row["kappa"] < row["kappa_high"]


def test_panel_agreement_matches_reference_libraries_with_missing_verdicts():
    judges = [SimJudge(f"j{i}", f"f{i}", fail_rate=0.2) for i in range(4)]
    table = simulate_judgments(judges, n_items=150, seed=2, quality_sd=2.0)
    got = panel_agreement(table, n_boot=200).set_index("statistic")["estimate"]
    codes = {B: -1.0, T: 0.0, C: 1.0}
    combined = combine_orders(validate_judgments(table))
    wide = combined.assign(code=combined["verdict"].map(codes).astype(float)).pivot(
        index="item_id", columns="judge", values="code"
    )
    data = wide.to_numpy().T
    for level in ["nominal", "ordinal", "interval"]:
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert got[f"alpha_{level}"] == pytest.approx(expected, abs=1e-9)
    complete = wide.dropna()
    counts = np.stack([(complete.to_numpy() == v).sum(axis=1) for v in (-1, 0, 1)], axis=1)
    only_complete = table[table["item_id"].isin(complete.index)]
    got_complete = panel_agreement(only_complete, n_boot=50).set_index("statistic")
    assert got_complete.loc["fleiss_kappa", "estimate"] == pytest.approx(sm_fleiss_kappa(counts))


def test_the_bootstrap_spread_of_kappa_is_close_to_its_asymptotic_standard_error():
    judges = [SimJudge("a", "x"), SimJudge("b", "y")]
    table = simulate_judgments(judges, n_items=400, seed=7, quality_sd=2.0)
    got = judge_agreement(table, n_boot=2000).iloc[0]
    combined = combine_orders(validate_judgments(table)).pivot(
        index="item_id", columns="judge", values="verdict"
    )
    codes = {B: 0, T: 1, C: 2}
    both = combined.dropna()
    table_ab = confusion(both["a"].map(codes), both["b"].map(codes), 3)
    ase = cohen_kappa(table_ab).ase
    # A 95% percentile interval spans about 2 x 1.96 standard errors.
    assert (got["kappa_high"] - got["kappa_low"]) / (2 * 1.96) == pytest.approx(ase, rel=0.15)


def test_intervals_are_reproducible_for_a_seed_and_differ_across_seeds():
    table = simulate_judgments(panel_of_three(), n_items=80, seed=1)
    a = panel_agreement(table, n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a, panel_agreement(table, n_boot=300, seed=5))
    assert not a["low"].equals(panel_agreement(table, n_boot=300, seed=6)["low"])


def test_kappa_with_others_averages_its_pairs_and_names_the_best():
    table = simulate_judgments(panel_of_three(), n_items=100, seed=3, quality_sd=2.0)
    pairs = judge_agreement(table, n_boot=100)
    got = kappa_with_others(table, n_boot=100).set_index("judge")
    mine = pairs[(pairs["judge_a"] == "judge-beta") | (pairs["judge_b"] == "judge-beta")]
    row = got.loc["judge-beta"]
    assert row["kappa_mean"] == pytest.approx(mine["kappa"].mean())
    assert row["kappa_best"] == pytest.approx(mine["kappa"].max())
    best = mine.loc[mine["kappa"].idxmax()]
    assert row["best_with"] == ({best["judge_a"], best["judge_b"]} - {"judge-beta"}).pop()
    assert row["n_others"] == 2
    assert row["kappa_mean_low"] < row["kappa_mean"] < row["kappa_mean_high"]
    assert row["kappa_best_low"] < row["kappa_best"] < row["kappa_best_high"]


def test_a_random_judge_agrees_with_nobody_and_does_not_drag_the_others_best_down():
    judges = [
        SimJudge("good1", "a"),
        SimJudge("good2", "b"),
        SimJudge("coin", "c", quality_weight=0.0),
    ]
    table = simulate_judgments(judges, n_items=300, seed=0, quality_sd=3.0)
    got = kappa_with_others(table, n_boot=200).set_index("judge")
    assert got.loc["coin", "kappa_best_high"] < 0.15
    for good in ("good1", "good2"):
        assert got.loc[good, "kappa_best_low"] > got.loc["coin", "kappa_best_high"]
        assert got.loc[good, "kappa_best"] > got.loc[good, "kappa_mean"]
        assert got.loc[good, "best_with"] != "coin"


def test_scores_use_quadratic_weights_and_one_judge_gives_no_agreement():
    rows = []
    for i, (s1, s2) in enumerate([(1, 1), (2, 3), (5, 4), (3, 3), (4, 5), (1, 2)]):
        for judge, score in (("j1", s1), ("j2", s2)):
            rows.append(
                {
                    "suite": "s",
                    "item_id": str(i),
                    "mode": "pointwise",
                    "judge": judge,
                    "candidate": "m",
                    "score": float(score),
                }
            )
    got = judge_agreement(pd.DataFrame(rows), n_boot=50).iloc[0]
    expected = cohen_kappa_score([1, 2, 5, 3, 4, 1], [1, 3, 4, 3, 5, 2], weights="quadratic")
    assert got["weights"] == "quadratic"
    assert got["kappa"] == pytest.approx(expected)
    lonely = pairwise_table([("q", "j", C, C)])
    assert judge_agreement(lonely).empty
    assert panel_agreement(lonely).empty
