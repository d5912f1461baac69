"""Agreement between judges: Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha.

The unit of agreement is one (item, sample): for pairwise judgments the value a judge gives a
unit is its combined verdict (both orders; see :func:`~evalkit.panel.combine_orders`), coded
``baseline < tie < candidate`` (-1, 0, 1) for the ordinal and interval coefficients; for
pointwise judgments it is the judge's mean valid score over the unit's rows (both option
listings, when there are two). A judge without a valid value on a unit is missing there.

Intervals are percentile bootstraps over *items* (a unit's samples move together): each
coefficient is a function of per-item sums (:mod:`evalkit.audit._kappa`), so a whole set of
replicates is one matrix product. All coefficients of one table share the same resampled items,
which makes a judge's mean kappa with the others a coherent statistic of each replicate.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from evalkit.audit._intervals import (
    FloatArray,
    percentile_interval,
    resampled_sums,
    rng_for,
)
from evalkit.audit._kappa import (
    KappaWeights,
    alpha_from_coincidence,
    coincidences,
    fleiss_from_sums,
    fleiss_sums,
    kappa_from_tables,
    value_counts,
)
from evalkit.audit._table import ITEM, SCORE_MODES, audited, score_ok
from evalkit.panel import combine_orders

IntArray = npt.NDArray[np.int64]
#: Combined verdicts as numbers: the order baseline < tie < candidate is real.
VERDICT_CODES: Final = {"baseline": -1.0, "tie": 0.0, "candidate": 1.0}
PAIR_COLUMNS: Final = (
    "mode",
    "judge_a",
    "judge_b",
    "weights",
    "n_units",
    "raw_agreement",
    "kappa",
    "kappa_low",
    "kappa_high",
)
JUDGE_COLUMNS: Final = (
    "mode",
    "judge",
    "n_others",
    "kappa_mean",
    "kappa_mean_low",
    "kappa_mean_high",
    "kappa_best",
    "kappa_best_low",
    "kappa_best_high",
    "best_with",
)
PANEL_COLUMNS: Final = (
    "mode",
    "statistic",
    "estimate",
    "low",
    "high",
    "n_units",
    "n_items",
    "n_judges",
)
_ALPHAS: Final = ("nominal", "ordinal", "interval")


@dataclasses.dataclass(frozen=True)
class Ratings:
    """The judges' values on the units of one mode, ready for the agreement coefficients.

    ``data`` is judges x units (NaN where a judge has no valid value); units are sorted by item,
    and ``cluster`` gives each unit's item number (0..n_items-1, non-decreasing).
    """

    mode: str
    judges: tuple[str, ...]
    units: pd.MultiIndex
    data: FloatArray
    cluster: IntArray

    @property
    def n_items(self) -> int:
        """Number of items (resampling clusters)."""
        return int(self.cluster[-1]) + 1 if self.cluster.size else 0

    def by_item(self, per_unit: npt.ArrayLike) -> FloatArray:
        """Sum per-unit rows ``(units, ...)`` within each item: ``(items, d)``."""
        x = np.asarray(per_unit, dtype=np.float64)
        # Not reshape(n, -1): numpy cannot infer the -1 of an empty array.
        x = x.reshape(self.cluster.size, int(np.prod(x.shape[1:])) if x.ndim > 1 else 1)
        if x.shape[0] == 0:
            return np.zeros((0, x.shape[1]))
        starts = np.flatnonzero(np.r_[True, self.cluster[1:] != self.cluster[:-1]])
        return np.add.reduceat(x, starts, axis=0)


def _ratings(values: pd.Series, mode: str, unit_keys: list[str]) -> Ratings:
    """Judges x units from a Series indexed by (unit keys…, judge)."""
    wide = values.unstack("judge").sort_index()
    cluster = np.asarray(wide.groupby(level=list(ITEM), sort=True).ngroup(), dtype=np.int64)
    return Ratings(
        mode=mode,
        judges=tuple(str(j) for j in wide.columns),
        units=pd.MultiIndex.from_frame(wide.index.to_frame(index=False)[unit_keys]),
        data=wide.to_numpy(dtype=np.float64, na_value=np.nan).T,
        cluster=cluster,
    )


def ratings_by_mode(table: pd.DataFrame, combined: pd.DataFrame) -> list[Ratings]:
    """Collect the judges' values per unit for each mode of a validated table.

    ``combined`` is the table's combined verdicts (disagreeing orders as ties). See the module
    docstring for what a unit and a value are.
    """
    out = []
    if not combined.empty:
        keys = [*ITEM, "sample"]
        codes = combined["verdict"].map(VERDICT_CODES).astype("float64")
        out.append(
            _ratings(
                codes.set_axis(pd.MultiIndex.from_frame(combined[[*keys, "judge"]])),
                "pairwise",
                keys,
            )
        )
    ok = table.loc[score_ok(table)]
    for mode in SCORE_MODES:
        rows = ok.loc[ok["mode"] == mode]
        if rows.empty:
            continue
        keys = [*ITEM, "candidate", "sample"]
        scores = rows.groupby([*keys, "judge"], dropna=False)["score"].mean()
        out.append(_ratings(scores, mode, keys))
    return out


def _pair_tables(r: Ratings, values: FloatArray) -> tuple[list[tuple[int, int]], FloatArray]:
    """Per item, the kxk confusion counts of every judge pair: ``(items, pairs·k²)``."""
    k = values.size
    pairs = list(itertools.combinations(range(len(r.judges)), 2))
    n_units = r.data.shape[1]
    cells = np.zeros((n_units, len(pairs) * k * k))
    for p, (a, b) in enumerate(pairs):  # one pass per judge pair
        both = np.isfinite(r.data[a]) & np.isfinite(r.data[b])
        code_a = np.searchsorted(values, r.data[a, both])
        code_b = np.searchsorted(values, r.data[b, both])
        cells[np.flatnonzero(both), p * k * k + code_a * k + code_b] = 1.0
    return pairs, r.by_item(cells)


def _pairs_frame(
    r: Ratings, confidence: float, n_boot: int, seed: int
) -> tuple[pd.DataFrame, FloatArray]:
    """Cohen's kappa per judge pair of one mode, and its bootstrap replicates ``(B, pairs)``."""
    values, _ = value_counts(r.data)
    k = values.size
    weights: KappaWeights = None if r.mode == "pairwise" else "quadratic"
    pairs, per_item = _pair_tables(r, values)
    observed = per_item.sum(axis=0).reshape(len(pairs), k, k)
    reps = resampled_sums(per_item, n_boot, rng_for(seed, f"agreement:{r.mode}"))
    rep_kappa = kappa_from_tables(reps.reshape(n_boot, len(pairs), k, k), weights)
    kappa = kappa_from_tables(observed, weights)
    rows = []
    for p, (a, b) in enumerate(pairs):
        n = int(observed[p].sum())
        iv = percentile_interval(float(kappa[p]), rep_kappa[:, p], n, confidence)
        rows.append(
            {
                "mode": r.mode,
                "judge_a": r.judges[a],
                "judge_b": r.judges[b],
                "weights": weights or "none",
                "n_units": n,
                "raw_agreement": float(np.trace(observed[p]) / n) if n else np.nan,
                "kappa": iv.estimate,
                "kappa_low": iv.low,
                "kappa_high": iv.high,
            }
        )
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS)), rep_kappa


def _ratings_of(table: pd.DataFrame) -> list[Ratings]:
    valid = audited(table)
    return ratings_by_mode(valid, combine_orders(valid, "tie"))


def _judge_row(
    r: Ratings, judge: str, pairs: pd.DataFrame, reps: FloatArray, confidence: float
) -> dict[str, object]:
    """One judge's mean and best kappa with the others, from the pairs' replicates."""
    mine = ((pairs["judge_a"] == judge) | (pairs["judge_b"] == judge)).to_numpy()
    kappas = pairs.loc[mine, "kappa"].to_numpy(dtype=float)
    partners = np.where(
        pairs.loc[mine, "judge_a"] == judge, pairs.loc[mine, "judge_b"], pairs.loc[mine, "judge_a"]
    )
    mean = percentile_interval(
        float(_nanmean(kappas)), _nanmean(reps[:, mine], axis=1), int(mine.sum()), confidence
    )
    finite = np.isfinite(kappas)
    best = int(np.argmax(np.where(finite, kappas, -np.inf))) if finite.any() else -1
    best_iv = percentile_interval(
        float(kappas[best]) if best >= 0 else np.nan,
        _nanmax(reps[:, mine], axis=1),
        int(mine.sum()),
        confidence,
    )
    return {
        "mode": r.mode,
        "judge": judge,
        "n_others": int(mine.sum()),
        "kappa_mean": mean.estimate,
        "kappa_mean_low": mean.low,
        "kappa_mean_high": mean.high,
        "kappa_best": best_iv.estimate,
        "kappa_best_low": best_iv.low,
        "kappa_best_high": best_iv.high,
        "best_with": partners[best] if best >= 0 else None,
    }


def agreement_tables(
    ratings: list[Ratings], confidence: float, n_boot: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairwise kappas and each judge's kappa with the others, from one set of resamples.

    See :func:`judge_agreement` and :func:`kappa_with_others` for the two frames.
    """
    pair_frames, judge_rows = [], []
    for r in ratings:
        if len(r.judges) < 2:
            continue
        pairs, reps = _pairs_frame(r, confidence, n_boot, seed)
        pair_frames.append(pairs)
        judge_rows += [_judge_row(r, judge, pairs, reps, confidence) for judge in r.judges]
    judges = pd.DataFrame(judge_rows, columns=list(JUDGE_COLUMNS))
    return _concat(pair_frames, PAIR_COLUMNS), judges


def judge_agreement(
    table: pd.DataFrame, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Cohen's kappa for every pair of judges, per mode, with a bootstrap interval over items.

    One row per (mode, judge pair) with columns mode, judge_a, judge_b, weights (``none`` for
    verdicts; ``quadratic`` for scores, so that near misses count as partial agreement),
    n_units (units both judged validly), raw_agreement (share of those units with equal
    values), kappa, kappa_low, kappa_high.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return agreement_tables(_ratings_of(table), confidence, n_boot, seed)[0]


def kappa_with_others(
    table: pd.DataFrame, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Each judge's agreement with the other judges: its mean and its best Cohen's kappa.

    One row per (mode, judge) with columns mode, judge, n_others, kappa_mean (Light's kappa
    for one judge) with kappa_mean_low/high, kappa_best (its highest kappa with any other
    judge) with kappa_best_low/high, and best_with (that judge). Intervals come from the same
    item resamples as the pairwise kappas (the best one's is the replicates' maximum).

    The *best* kappa is what the reliability verdict uses: a judge that agrees with none of
    the others is suspect, while one bad judge in a panel of three would drag the *mean* of
    both good judges down with it.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return agreement_tables(_ratings_of(table), confidence, n_boot, seed)[1]


def _panel_frame(r: Ratings, confidence: float, n_boot: int, seed: int) -> pd.DataFrame:
    values, counts = value_counts(r.data)
    k = values.size
    per_item = r.by_item(
        # Shaped by the unit count, not -1: with no valid value at all (every call failed) k is
        # 0 and numpy cannot infer a dimension from an empty array.
        np.concatenate(
            [fleiss_sums(counts), coincidences(counts).reshape(counts.shape[0], k * k)], axis=1
        )
    )
    reps = resampled_sums(per_item, n_boot, rng_for(seed, f"panel-agreement:{r.mode}"))

    def statistics(sums: FloatArray) -> dict[str, FloatArray]:
        kappa, raw = fleiss_from_sums(sums[..., : 2 + k])
        matrix = sums[..., 2 + k :].reshape(*sums.shape[:-1], k, k)
        alphas = {f"alpha_{lv}": alpha_from_coincidence(matrix, values, lv) for lv in _ALPHAS}
        return {"raw_agreement": raw, "fleiss_kappa": kappa, **alphas}

    point, boot = statistics(per_item.sum(axis=0)), statistics(reps)
    n_units = int((counts.sum(axis=1) >= 2).sum())
    rows = []
    for name, estimate in point.items():
        iv = percentile_interval(float(estimate), boot[name], n_units, confidence)
        rows.append(
            {
                "mode": r.mode,
                "statistic": name,
                "estimate": iv.estimate,
                "low": iv.low,
                "high": iv.high,
                "n_units": n_units,
                "n_items": r.n_items,
                "n_judges": len(r.judges),
            }
        )
    return pd.DataFrame(rows, columns=list(PANEL_COLUMNS))


def panel_agreement(
    table: pd.DataFrame, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Agreement of the whole panel, per mode, with bootstrap intervals over items.

    Rows per (mode, statistic) for statistic in: ``raw_agreement`` (share of agreeing judge
    pairs per unit, averaged over units), ``fleiss_kappa`` (Fleiss 1971; units judged by at
    least two judges, the category shares weighting units by their number of judges),
    ``alpha_nominal``, ``alpha_ordinal``, ``alpha_interval`` (Krippendorff 2011, missing values
    allowed). Columns: mode, statistic, estimate, low, high, n_units (units with at least two
    values), n_items, n_judges.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return panel_agreement_of(_ratings_of(table), confidence, n_boot, seed)


def panel_agreement_of(
    ratings: list[Ratings], confidence: float, n_boot: int, seed: int
) -> pd.DataFrame:
    """:func:`panel_agreement` from already collected ratings."""
    frames = [_panel_frame(r, confidence, n_boot, seed) for r in ratings if len(r.judges) >= 2]
    return _concat(frames, PANEL_COLUMNS)


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def _nanmean(x: FloatArray, axis: int | None = None) -> FloatArray:
    """Mean over the finite entries; NaN (without numpy's warning) when there are none."""
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(finite, x, 0.0).sum(axis=axis) / finite.sum(axis=axis))


def _nanmax(x: FloatArray, axis: int) -> FloatArray:
    """Max over the finite entries; NaN (without numpy's warning) when there are none."""
    finite = np.isfinite(x)
    best = np.where(finite, x, -np.inf).max(axis=axis)
    return np.asarray(np.where(finite.any(axis=axis), best, np.nan), dtype=np.float64)
