"""Power and false alarms of the auditor on simulated judges with injected biases.

Panel: three judges of families alpha, beta, gamma; the candidate is alpha's, the baseline beta's;
300 items judged in both orders; 100 seeds. A judge is *flagged* for a bias when that bias's
test gives p < 0.01. For each bias:

- inject it into judge-alpha only: judge-alpha is flagged in at least 95 % of the seeds, the
  others in at most 5 %, and the estimate lands within a stated distance of the injected value
  in at least 95 % of the seeds;
- inject nothing: some judge is flagged in at most 5 % of the seeds.

Each test fails if its statistic is wrong: a first-position rate computed as a candidate rate
sits at 0.5 and flags nothing; a self-preference measured against the other answer's family
flags judge-beta too; an odds ratio on the candidate's (not the first answer's) length advantage
finds no verbosity. The self-preference target is computed exactly from the simulator's model;
the verbosity target (a marginal odds ratio, with no closed form) is what the estimator reaches
on 20 000 items, bounded by the injected conditional odds ratio.
"""

import numpy as np
import pandas as pd
import pytest

from evalkit.audit import position_bias, self_preference, verbosity_bias
from evalkit.testing import simulate_judgments
from evalkit.testing._tables import panel_of_three, simulate_many

# The everyday loop (-m 'not slow') leaves these out: power and false-alarm rates over many seeds.
pytestmark = pytest.mark.slow

SEEDS = range(100)
N_ITEMS = 300
ALPHA = 0.01
JUDGES = ["judge-alpha", "judge-beta", "judge-gamma"]


def per_seed(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Seeds x judges table of one column, from a stacked run (judge names "<judge>@<seed>")."""
    split = frame["judge"].str.rsplit("@", n=1, expand=True)
    wide = frame.assign(base=split[0], seed=split[1].astype(int)).pivot(
        index="seed", columns="base", values=column
    )
    return wide[JUDGES]


def seed_by_seed(statistic, **bias: float) -> pd.DataFrame:
    """``statistic`` run on each seed's table, stacked with judges named "<judge>@<seed>"."""
    frames = []
    for seed in SEEDS:
        table = simulate_judgments(panel_of_three(**bias), n_items=N_ITEMS, seed=seed)
        result = statistic(table)
        frames.append(result.assign(judge=result["judge"] + f"@{seed}"))
    return pd.concat(frames, ignore_index=True)


def flag_rates(p: pd.DataFrame) -> pd.Series:
    return (p < ALPHA).mean()


def any_flag_rate(p: pd.DataFrame) -> float:
    return float((p < ALPHA).any(axis=1).mean())


def quick_self_preference(table: pd.DataFrame) -> pd.DataFrame:
    # The p-value is a t test; the bootstrap interval is not needed to flag.
    return self_preference(table, n_boot=0)


# --- position -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def position_runs() -> dict[str, pd.DataFrame]:
    out = {}
    for name, bias in {"biased": {"first_position": 0.65}, "null": {}}.items():
        stacked = simulate_many(SEEDS, judges=panel_of_three(**bias), n_items=N_ITEMS)
        out[name] = position_bias(stacked)
    return out


def test_position_bias_of_065_is_found_and_estimated(position_runs):
    p = per_seed(position_runs["biased"], "p_value")
    rate = per_seed(position_runs["biased"], "first_position_rate")["judge-alpha"]
    flagged = flag_rates(p)
    assert flagged["judge-alpha"] >= 0.95
    assert flagged[["judge-beta", "judge-gamma"]].max() <= 0.05
    assert (abs(rate - 0.65) <= 0.05).mean() >= 0.95
    assert rate.mean() == pytest.approx(0.65, abs=0.01)


def test_no_position_bias_no_false_alarm(position_runs):
    assert any_flag_rate(per_seed(position_runs["null"], "p_value")) <= 0.05
    rate = per_seed(position_runs["null"], "first_position_rate")
    assert rate.to_numpy().mean() == pytest.approx(0.5, abs=0.01)


# --- self-preference ----------------------------------------------------------------------

SELF_PREFERENCE = 1.0  # log-odds toward the answer of the judge's own family


def self_preference_target() -> float:
    """The injected self-preference as a share of combined verdicts, computed exactly.

    Per order, a judge ties with probability t and otherwise picks the candidate with
    probability s(q + d), s the logistic function, d the injected log-odds for the judge of the
    candidate's family and 0 for a neutral one. Its combined favour of the candidate is then
    1/2 + 1/2 (1-t)^2 (2 s(q + d) - 1), so the leave-one-out difference with the neutral judge
    is (1-t)^2 E[s(q + d) - s(q)] over q ~ N(0, 1), here by Gauss-Hermite quadrature.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    shift = 1.0 / (1.0 + np.exp(-(nodes + SELF_PREFERENCE))) - 1.0 / (1.0 + np.exp(-nodes))
    tie_rate = panel_of_three()[0].tie_rate
    return float((1.0 - tie_rate) ** 2 * np.sum(weights * shift))


def test_self_preference_is_found_and_estimated():
    target = self_preference_target()
    assert target == pytest.approx(0.159, abs=0.001)
    run = seed_by_seed(quick_self_preference, self_preference=SELF_PREFERENCE)
    flagged = flag_rates(per_seed(run, "p_value"))
    assert flagged["judge-alpha"] >= 0.95
    # judge-beta also has an own-family answer on every item: it must not be blamed.
    assert flagged["judge-beta"] <= 0.05
    estimate = per_seed(run, "self_preference")["judge-alpha"]
    assert (abs(estimate - target) <= 0.05).mean() >= 0.95
    assert estimate.mean() == pytest.approx(target, abs=0.01)


def test_no_self_preference_no_false_alarm():
    p = per_seed(seed_by_seed(quick_self_preference), "p_value")
    # judge-gamma has no own-family answer: not measurable, never flagged.
    assert p["judge-gamma"].isna().all()
    assert any_flag_rate(p) <= 0.05


# --- verbosity ----------------------------------------------------------------------------

VERBOSITY = 0.5  # log-odds toward the longer answer per +100 tokens of length advantage


@pytest.fixture(scope="module")
def verbosity_target() -> float:
    big = simulate_judgments(panel_of_three(verbosity=VERBOSITY), n_items=20_000, seed=12345)
    return float(verbosity_bias(big).set_index("judge").loc["judge-alpha", "odds_ratio"])


def test_verbosity_is_found_and_estimated(verbosity_target):
    # Ties, and the spread of item quality, make the marginal odds ratio smaller than e^0.5.
    assert 1.3 < verbosity_target < np.exp(VERBOSITY)
    run = seed_by_seed(verbosity_bias, verbosity=VERBOSITY)
    odds = per_seed(run, "odds_ratio")
    flagged = flag_rates(per_seed(run, "p_value"))
    assert flagged["judge-alpha"] >= 0.95
    assert flagged[["judge-beta", "judge-gamma"]].max() <= 0.05
    close = abs(np.log(odds["judge-alpha"]) - np.log(verbosity_target)) <= 0.2
    assert close.mean() >= 0.95


def test_no_verbosity_no_false_alarm():
    assert any_flag_rate(per_seed(seed_by_seed(verbosity_bias), "p_value")) <= 0.05
