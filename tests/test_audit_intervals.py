import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from evalkit.audit import Interval
from evalkit.audit._intervals import (
    binomial_p_value,
    holm,
    percentile_interval,
    resampled_sums,
    rng_for,
    wilson_bounds,
    wilson_interval,
)


def test_wilson_matches_published_values():
    # Newcombe (1998), method 3: 5/10 → 0.2366-0.7634; 0/10 → 0-0.2775.
    five = wilson_interval(5, 10)
    assert (round(five.low, 4), round(five.high, 4)) == (0.2366, 0.7634)
    zero = wilson_interval(0, 10)
    assert zero.low == 0.0
    assert round(zero.high, 4) == 0.2775
    assert five == Interval(0.5, five.low, five.high, 10, 0.95)


def test_wilson_with_no_data_spans_everything():
    empty = wilson_interval(0, 0)
    assert math.isnan(empty.estimate)
    assert (empty.low, empty.high, empty.n) == (0.0, 1.0, 0)
    assert empty.to_dict()["estimate"] is None


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 5000),
    frac=st.floats(0.0, 1.0),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_agrees_with_statsmodels(n, frac, confidence):
    k = round(frac * n)
    got = wilson_interval(k, n, confidence)
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    assert got.low == pytest.approx(low, abs=1e-12)
    assert got.high == pytest.approx(high, abs=1e-12)
    assert got.low <= got.estimate <= got.high


def test_wilson_takes_half_successes_and_refuses_impossible_counts():
    half = wilson_interval(2.5, 5)
    assert half.estimate == 0.5
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(6, 5)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 5, confidence=1.5)


def test_wilson_bounds_vectorised_equals_scalar():
    est, low, high = wilson_bounds([0, 3, 7], [0, 10, 7])
    assert math.isnan(est[0])
    assert (low[0], high[0]) == (0.0, 1.0)
    three = wilson_interval(3, 10)
    assert (est[1], low[1], high[1]) == pytest.approx((three.estimate, three.low, three.high))
    assert high[2] == 1.0


def test_binomial_p_value_is_scipys_two_sided_exact_test():
    assert binomial_p_value(60, 100) == pytest.approx(stats.binomtest(60, 100).pvalue)
    assert binomial_p_value(5, 10) == 1.0
    assert math.isnan(binomial_p_value(0, 0))


# statsmodels.multipletests takes ~50 ms a call: a few dozen examples are plenty.
@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))), min_size=1, max_size=30))
def test_holm_agrees_with_statsmodels_and_skips_nan(p):
    arr = np.array(p)
    got = holm(arr)
    finite = np.isfinite(arr)
    assert np.isnan(got[~finite]).all()
    if finite.any():
        expected = multipletests(arr[finite], method="holm")[1]
        np.testing.assert_allclose(got[finite], expected, atol=1e-12)


def test_resampled_sums_are_sums_of_n_draws():
    rng = np.random.default_rng(1)
    data = np.column_stack([np.ones(50), np.arange(50.0)])
    reps = resampled_sums(data, 700, rng)
    assert reps.shape == (700, 2)
    # Each replicate resamples exactly n units...
    np.testing.assert_array_equal(reps[:, 0], 50.0)
    # ...uniformly: the replicate mean of a sum is the observed sum.
    assert reps[:, 1].mean() == pytest.approx(data[:, 1].sum(), rel=0.02)
    assert reps[:, 1].std() > 0


def test_resampled_sums_in_chunks_still_resample_n_units(monkeypatch):
    monkeypatch.setattr("evalkit.audit._intervals._CHUNK_CELLS", 40 * 7)
    data = np.column_stack([np.ones(40), np.arange(40.0)])
    reps = resampled_sums(data, 30, np.random.default_rng(5))
    assert reps.shape == (30, 2)
    np.testing.assert_array_equal(reps[:, 0], 40.0)
    assert len(np.unique(reps[:, 1])) > 1


def test_percentile_interval_ignores_undefined_replicates():
    reps = np.r_[np.linspace(0, 1, 101), [np.nan] * 20]
    got = percentile_interval(0.5, reps, n=7, confidence=0.9)
    assert (got.low, got.high, got.n) == pytest.approx((0.05, 0.95, 7))
    none = percentile_interval(0.5, [np.nan], n=7)
    assert math.isnan(none.low)
    assert none.to_dict()["low"] is None


def test_rng_for_is_keyed_by_seed_and_name():
    a = rng_for(0, "fleiss").random(3)
    np.testing.assert_array_equal(a, rng_for(0, "fleiss").random(3))
    assert not np.array_equal(a, rng_for(0, "cohen").random(3))
    assert not np.array_equal(a, rng_for(1, "fleiss").random(3))


def test_interval_excludes():
    iv = Interval(0.6, 0.55, 0.65, 100, 0.95)
    assert iv.excludes(0.5)
    assert not iv.excludes(0.6)
