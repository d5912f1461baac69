"""The leaderboard: Bradley-Terry ratings with bootstrap intervals, and length-controlled ones.

Conventions (those arena-hard reports with):

- a tie is half a win for each side;
- ratings are on the Elo scale: the baseline at :data:`ANCHOR` (1000), and
  :data:`SCALE` = 400/ln 10 points per logit of strength, so a rating 400 points above the
  baseline's means odds of 10 to 1 against it;
- the win rate against the baseline is the one the ratings imply, ``expit(θ)``; with a single
  candidate it is the observed win rate;
- intervals are percentile bootstrap intervals over *items* (an item brings every comparison
  made on it), seeded, all replicates fitted at once;
- the length-controlled rating adds the normalised length difference
  ``(len_a - len_b)/(len_a + len_b)`` as a covariate, as arena-hard's style control does, and
  reports the models' coefficients: the rating at equal length. Unlike arena-hard the
  covariate is not centred, since centring would hand every model the average length
  advantage of its comparisons back.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd
from scipy import sparse, special

from evalkit.errors import UsageError
from evalkit.leaderboard._graph import components
from evalkit.leaderboard._result import Leaderboard, Record, Standing, notes
from evalkit.leaderboard._solver import FloatArray, IntArray, Units, fit

#: The baseline's rating.
ANCHOR: Final = 1000.0
#: Elo points per logit of strength.
SCALE: Final = 400.0 / math.log(10.0)
#: Precision of the Gaussian prior on each strength (logits⁻²): a standard deviation of 10
#: logits, about 1,700 Elo points. It only matters for a model that won or lost everything.
DEFAULT_PRIOR: Final = 0.01
#: Replicate weight matrices of the length-controlled bootstrap are cut into chunks of about
#: this many cells, so that memory stays flat whatever the table's size.
_CHUNK_CELLS: Final = 2_000_000


def _baseline(comps: pd.DataFrame, baseline: str | None) -> str:
    models = set(comps["model_a"]) | set(comps["model_b"])
    if baseline is not None:
        if baseline not in models:
            raise UsageError(
                f"baseline={baseline!r} is not a model of the table; its models are "
                f"{', '.join(sorted(models))}"
            )
        return baseline
    # The suite's baseline is only ever a baseline; a candidate of a round-robin pair may be too.
    only_baseline = sorted(set(comps["model_b"]) - set(comps["model_a"]))
    if len(only_baseline) != 1:
        raise UsageError(
            "cannot tell which model is the baseline (models never judged as the candidate: "
            f"{', '.join(only_baseline) or 'none'}); pass baseline="
        )
    return str(only_baseline[0])


def _check(n_boot: int, confidence: float, prior: float) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise UsageError(f"n_boot must be a whole number of resamples, at least 1; got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    if not (math.isfinite(prior) and prior >= 0.0):
        raise UsageError(f"prior must be a finite precision >= 0, got {prior!r}")


def _units(a: IntArray, b: IntArray, n_models: int, style: FloatArray | None = None) -> Units:
    keys, pair = np.unique(a * n_models + b, return_inverse=True)
    return Units(
        a=a,
        b=b,
        pair=pair.astype(np.intp),
        pair_a=(keys // n_models).astype(np.intp),
        pair_b=(keys % n_models).astype(np.intp),
        n_models=n_models,
        style=style,
    )


def _percentiles(values: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Per column of ``values`` (replicates x models), the percentile interval; NaN ignored."""
    tail = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore"):
        empty = np.asarray(np.isnan(values).all(axis=0))
        filled = np.where(empty[None, :], 0.0, values)
        low, high = np.nanquantile(filled, [tail, 1.0 - tail], axis=0)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _seen(units: Units, weight: FloatArray) -> np.ndarray:
    """Per replicate and model, whether the model has any weight (``(R, n_models)``)."""
    m = units.n_models
    per_model = np.zeros((weight.shape[0], m))
    np.add.at(per_model.T, units.a, weight.T)
    np.add.at(per_model.T, units.b, weight.T)
    return per_model > 0


class _Sample:
    """The ranked comparisons as index arrays, and the items' bootstrap weights."""

    def __init__(self, comps: pd.DataFrame, models: list[str], n_boot: int, seed: int) -> None:
        index = {m: i for i, m in enumerate(models)}
        self.n_models = len(models)
        self.a: IntArray = np.asarray(comps["model_a"].map(index), dtype=np.intp)
        self.b: IntArray = np.asarray(comps["model_b"].map(index), dtype=np.intp)
        self.score = comps["score"].to_numpy(dtype=float)
        item_keys = comps["suite"].astype(str) + "\x00" + comps["item_id"].astype(str)
        codes, uniques = pd.factorize(item_keys)
        self.item = codes.astype(np.intp)
        self.n_items = len(uniques)
        rng = np.random.default_rng(seed)
        # Resampling items with replacement is drawing multinomial counts per item.
        self.boot = (
            rng.multinomial(self.n_items, np.full(self.n_items, 1.0 / self.n_items), size=n_boot)
            if self.n_items
            else np.zeros((n_boot, 0))
        ).astype(float)


def _plain(sample: _Sample, anchor: int, prior: float) -> tuple[FloatArray, FloatArray]:
    """Strengths of the point fit ``(n_models,)`` and of every replicate ``(R, n_models)``.

    Without a covariate a pair's comparisons enter only through their count and score sum,
    so every replicate is fitted on per-pair sums: one sparse product per fit.
    """
    units = _units(sample.a, sample.b, sample.n_models)
    n_pairs = len(units.pair_a)
    pairs = sparse.csr_array(
        (np.ones(len(sample.a)), (sample.item, units.pair)), shape=(sample.n_items, n_pairs)
    )
    scores = sparse.csr_array(
        (sample.score, (sample.item, units.pair)), shape=(sample.n_items, n_pairs)
    )
    per_pair = Units(
        a=units.pair_a,
        b=units.pair_b,
        pair=np.arange(n_pairs, dtype=np.intp),
        pair_a=units.pair_a,
        pair_b=units.pair_b,
        n_models=sample.n_models,
    )
    ones = np.ones((1, sample.n_items))
    weights = np.vstack([ones, sample.boot])
    w = np.asarray((pairs.T @ weights.T).T)
    y = np.asarray((scores.T @ weights.T).T)
    result = fit(per_pair, w, y, anchor=anchor, prior=prior)
    if not result.converged[0]:
        raise UsageError(
            "the ratings did not converge: with prior=0 a model that won or lost every "
            "comparison has no finite rating; use a prior > 0"
        )
    theta = np.where(result.converged[:, None], result.theta, np.nan)
    theta = np.where(_seen(per_pair, w), theta, np.nan)
    return theta[0], theta[1:]


def _length_controlled(
    sample: _Sample, len_a: FloatArray, len_b: FloatArray, anchor: int, prior: float
) -> tuple[FloatArray, FloatArray, float, FloatArray] | None:
    """Length-controlled strengths and coefficient: point and replicates; None without lengths."""
    total = len_a + len_b
    ok = np.isfinite(total) & (total > 0)
    if not ok.any():
        return None
    style = np.where(ok, (len_a - len_b) / np.where(ok, total, 1.0), 0.0)[ok]
    units = _units(sample.a[ok], sample.b[ok], sample.n_models, style)
    score, item = sample.score[ok], sample.item[ok]
    n_rep = sample.boot.shape[0]
    point = fit(units, np.ones((1, len(style))), score[None, :], anchor=anchor, prior=prior)
    seen = _seen(units, np.ones((1, len(style))))[0]
    theta = np.where(seen & point.converged[0], point.theta[0], np.nan)
    assert point.beta is not None
    beta = float(point.beta[0]) if point.converged[0] else math.nan
    reps = np.full((n_rep, sample.n_models), np.nan)
    betas = np.full(n_rep, np.nan)
    chunk = max(1, _CHUNK_CELLS // len(style))
    for start in range(0, n_rep, chunk):
        w = sample.boot[start : start + chunk][:, item]
        got = fit(units, w, w * score[None, :], anchor=anchor, prior=prior, start=point)
        assert got.beta is not None
        good = got.converged[:, None] & _seen(units, w)
        reps[start : start + chunk] = np.where(good, got.theta, np.nan)
        betas[start : start + chunk] = np.where(got.converged, got.beta, np.nan)
    return theta, reps, beta, betas


def _record(sample: _Sample, model: int) -> Record | None:
    mine = np.concatenate([sample.score[sample.a == model], 1.0 - sample.score[sample.b == model]])
    if len(mine) and (mine == 1.0).all():
        return "won every comparison"
    if len(mine) and (mine == 0.0).all():
        return "lost every comparison"
    return None


def _unseparated(low: FloatArray, high: FloatArray) -> tuple[tuple[int, ...], ...]:
    """Runs of consecutive ranks (1-based) whose neighbours' intervals overlap.

    ``low`` and ``high`` are in rank order, best first.

    >>> _unseparated(np.array([10.0, 5.0, 4.0, 0.0]), np.array([12.0, 8.0, 6.0, 1.0]))
    ((2, 3),)
    """
    overlaps = low[:-1] <= high[1:]
    groups: list[list[int]] = []
    for i in np.flatnonzero(overlaps):
        rank = int(i) + 1
        if groups and groups[-1][-1] == rank:
            groups[-1].append(rank + 1)
        else:
            groups.append([rank, rank + 1])
    return tuple(tuple(g) for g in groups)


def fit_leaderboard(
    comps: pd.DataFrame,
    baseline: str | None = None,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    prior: float = DEFAULT_PRIOR,
    length_control: bool = True,
) -> Leaderboard:
    """The leaderboard of a comparisons table (see :func:`evalkit.leaderboard.comparisons`).

    ``baseline`` is the anchor (None: the one model never judged as the candidate).
    ``prior`` is the precision of a Gaussian prior on each strength relative to the baseline
    (0: plain maximum likelihood, which fails for a model that won or lost every comparison).
    Comparisons the panel abstained on are counted and left out. Models with no chain of
    comparisons to the baseline get no rating and are named in ``unranked``.

    When the panel abstained on every comparison, or none links a model to the baseline,
    the baseline stands alone at 1000 and every other model is unranked (and noted).

    Raises:
        UsageError: an empty table, an unknown or ambiguous baseline, a bad
            ``n_boot``, ``confidence`` or ``prior``, or ``prior=0`` with a model that won or lost
            everything.
    """
    _check(n_boot, confidence, prior)
    if comps.empty:
        raise UsageError("no comparisons to rank models by")
    base = _baseline(comps, baseline)
    valid = comps.loc[~comps["abstained"].astype(bool) & comps["score"].notna()]
    models = sorted(set(comps["model_a"]) | set(comps["model_b"]))
    index = {m: i for i, m in enumerate(models)}
    label = components(
        valid["model_a"].map(index).to_numpy(dtype=np.intp),
        valid["model_b"].map(index).to_numpy(dtype=np.intp),
        len(models),
    )
    ranked = [m for m in models if label[index[m]] == label[index[base]]]
    unranked = tuple(
        tuple(m for m in models if label[index[m]] == c)
        for c in dict.fromkeys(label[index[m]] for m in models if m not in ranked)
    )
    mine = valid.loc[valid["model_a"].isin(ranked)]
    sample = _Sample(mine, ranked, n_boot, seed)
    anchor = ranked.index(base)
    nan = np.full(len(ranked), np.nan)
    # With nothing linked to the baseline there is nothing to fit: it stands alone at 1000.
    theta, reps = _plain(sample, anchor, prior) if len(mine) else (np.zeros(1), np.zeros((1, 1)))
    lc = (
        _length_controlled(
            sample,
            mine["len_a"].to_numpy(dtype=float),
            mine["len_b"].to_numpy(dtype=float),
            anchor,
            prior,
        )
        if length_control and len(mine)
        else None
    )
    lc_theta, lc_reps, beta, betas = lc if lc is not None else (nan, nan[None, :], math.nan, nan)
    low, high = _percentiles(reps, confidence)
    win_low, win_high = _percentiles(special.expit(reps), confidence)
    lc_low, lc_high = _percentiles(lc_reps, confidence)
    beta_low, beta_high = _percentiles(np.asarray(betas)[:, None], confidence)

    both = pd.concat([valid["model_a"], valid["model_b"]])
    items = pd.concat([valid["suite"] + "\x00" + valid["item_id"]] * 2)
    n_items = items.groupby(both.to_numpy()).nunique()
    n_comps = both.value_counts()
    order = sorted(range(len(ranked)), key=lambda i: (-theta[i], ranked[i]))
    standings = [
        Standing(
            model=ranked[i],
            rank=r + 1,
            is_baseline=ranked[i] == base,
            rating=float(ANCHOR + SCALE * theta[i]),
            low=float(ANCHOR + SCALE * low[i]),
            high=float(ANCHOR + SCALE * high[i]),
            win_rate=float(special.expit(theta[i])),
            win_low=float(win_low[i]),
            win_high=float(win_high[i]),
            lc_rating=float(ANCHOR + SCALE * lc_theta[i]),
            lc_low=float(ANCHOR + SCALE * lc_low[i]),
            lc_high=float(ANCHOR + SCALE * lc_high[i]),
            items=int(n_items.get(ranked[i], 0)),
            comparisons=int(n_comps.get(ranked[i], 0)),
            record=None if ranked[i] == base else _record(sample, i),
        )
        for r, i in enumerate(order)
    ]
    nan_f = math.nan
    standings += [
        Standing(
            model=m, rank=None, is_baseline=False, rating=nan_f, low=nan_f, high=nan_f,
            win_rate=nan_f, win_low=nan_f, win_high=nan_f, lc_rating=nan_f, lc_low=nan_f,
            lc_high=nan_f, items=int(n_items.get(m, 0)), comparisons=int(n_comps.get(m, 0)),
        )
        for group in unranked
        for m in group
    ]  # fmt: skip
    unseparated = _unseparated(
        np.array([s.low for s in standings if s.rank is not None]),
        np.array([s.high for s in standings if s.rank is not None]),
    )
    n_abstained = int(len(comps) - len(valid))
    return Leaderboard(
        baseline=base,
        standings=tuple(standings),
        n_items=sample.n_items,
        n_comparisons=len(mine),
        n_abstained=n_abstained,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        prior=prior,
        length_coef=beta,
        length_low=float(beta_low[0]),
        length_high=float(beta_high[0]),
        unranked=unranked,
        unseparated=unseparated,
        notes=notes(standings, base, unranked, unseparated, n_abstained),
    )
