"""Self-preference: how much more a judge favours its own family's answers than other judges do.

Leave-one-out, per judge j of family F, on the units (item, sample) where exactly one of the two
answers comes from F (pairwise) or where the scored answer comes from F (pointwise):

- j's favour of F's answer: 1 when its combined verdict picks it, 0 when it picks the other,
  ½ for a tie (pairwise); its score (pointwise);
- the reference favour: the mean of the same quantity over the *other* judges on the same unit.
  Judges of family F are never in the reference (they share the suspected bias), nor are
  judges of unknown family (they may be of F), and *neutral* judges — of neither answer's
  family — are preferred: a judge of the other answer's family would bring its own
  self-preference in the opposite direction and double the estimate. Only where a unit has no
  neutral judge do the other judges of other families stand in;
- self-preference = mean over units of (j's favour - reference favour): a share for pairwise
  judgments, score points for pointwise ones.

Because both sides look at the same answers, the real quality of F's answers cancels. The
interval is a percentile bootstrap over items; the p-value is a one-sample t test of the
per-item differences (two-sided).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from evalkit.audit._agreement import Ratings
from evalkit.audit._intervals import FloatArray, percentile_interval, resampled_sums, rng_for
from evalkit.audit._prepared import Prepared

ObjectArray = npt.NDArray[np.object_]
COLUMNS: Final = (
    "mode",
    "judge",
    "judge_family",
    "measurable",
    "reason",
    "unit",
    "reference",
    "n_items",
    "n_units",
    "own_favour",
    "others_favour",
    "self_preference",
    "low",
    "high",
    "p_value",
)


def _unit_families(table: pd.DataFrame, r: Ratings) -> tuple[ObjectArray, ObjectArray]:
    """Each unit's candidate and baseline family, aligned with ``r.units`` (None if unknown)."""
    keys = list(r.units.names)
    rows = table.loc[table["mode"] == r.mode]
    fams = rows.groupby(keys, dropna=False)[["candidate_family", "baseline_family"]].first()
    aligned = fams.reindex(r.units).astype(object)
    aligned = aligned.where(aligned.notna(), None)
    return (
        aligned["candidate_family"].to_numpy(dtype=object),
        aligned["baseline_family"].to_numpy(dtype=object),
    )


def _t_test_p(x: FloatArray) -> float:
    """Two-sided one-sample t test of mean 0 (NaN below 2 values; exact when x is constant)."""
    if x.size < 2:
        return float("nan")
    if np.ptp(x) == 0:
        return 1.0 if x[0] == 0 else 0.0
    from scipy import stats  # on first use: see evalkit.audit._intervals

    return float(stats.ttest_1samp(x, 0.0).pvalue)


def _favours(r: Ratings, side: FloatArray) -> FloatArray:
    """Each judge's favour (judges x units) of the answer on ``side`` (+1 candidate, -1 base)."""
    if r.mode == "pairwise":
        # Verdict codes are -1 baseline, 0 tie, +1 candidate; a tie is half a favour.
        return np.asarray((1.0 + side[None, :] * r.data) / 2.0, dtype=np.float64)
    return r.data


def _not_measurable(mode: str, judge: str, family: Any, reason: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "judge": judge,
        "judge_family": family,
        "measurable": False,
        "reason": reason,
        "n_items": 0,
        "n_units": 0,
    }


def _one_judge(
    r: Ratings,
    j: int,
    families: list[Any],
    cand: ObjectArray,
    base: ObjectArray,
    confidence: float,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    judge, family = r.judges[j], families[j]
    if pd.isna(family):
        return _not_measurable(r.mode, judge, None, "the judge's family is unknown")
    if len(r.judges) < 2:
        return _not_measurable(r.mode, judge, family, "needs at least 2 judges")
    is_cand, is_base = cand == family, base == family
    if r.mode == "pairwise":
        side = np.where(is_cand & ~is_base, 1.0, np.where(is_base & ~is_cand, -1.0, 0.0))
    else:
        side = np.where(is_cand, 1.0, 0.0)
    if not (side != 0).any():
        return _not_measurable(
            r.mode,
            judge,
            family,
            f"no item has exactly one answer from the judge's family ({family})",
        )
    favour = _favours(r, side)
    # A judge of unknown family may share the suspected bias: it is never in the reference.
    others = np.array(
        [k != j and families[k] is not None and families[k] != family for k in range(len(r.judges))]
    )
    fam = np.array(families, dtype=object)[:, None]
    neutral = others[:, None] & (fam != cand[None, :]) & (fam != base[None, :])
    valid = np.isfinite(favour)
    n_neutral = (neutral & valid).sum(axis=0)
    use = np.where(n_neutral > 0, neutral, others[:, None]) & valid
    with np.errstate(invalid="ignore", divide="ignore"):
        reference = np.where(use, favour, 0.0).sum(axis=0) / use.sum(axis=0)
    units = (side != 0) & valid[j] & np.isfinite(reference)
    if not units.any():
        return _not_measurable(
            r.mode,
            judge,
            family,
            "no judge of another family gave a valid verdict on the judge's own-family items "
            "(judges of unknown family do not count)",
        )
    diff = np.where(units, favour[j] - reference, 0.0)
    own = np.where(units, favour[j], 0.0)
    per_item = r.by_item(np.column_stack([diff, units, own]))
    per_item = per_item[per_item[:, 1] > 0]
    total = per_item.sum(axis=0)
    reps = resampled_sums(per_item, n_boot, rng_for(seed, f"self-preference:{r.mode}:{judge}"))
    with np.errstate(invalid="ignore", divide="ignore"):
        rep_est = reps[:, 0] / reps[:, 1]
    estimate = total[0] / total[1]
    iv = percentile_interval(float(estimate), rep_est, per_item.shape[0], confidence)
    p_value = _t_test_p(per_item[:, 0] / per_item[:, 1])
    share_neutral = float((n_neutral[units] > 0).mean())
    reference_kind = (
        "neutral judges"
        if share_neutral == 1.0
        else "other judges"
        if share_neutral == 0.0
        else f"neutral judges on {share_neutral:.0%} of units, other judges elsewhere"
    )
    return {
        "mode": r.mode,
        "judge": judge,
        "judge_family": family,
        "measurable": True,
        "reason": None,
        "unit": "share" if r.mode == "pairwise" else "score",
        "reference": reference_kind,
        "n_items": int(per_item.shape[0]),
        "n_units": int(total[1]),
        "own_favour": float(total[2] / total[1]),
        "others_favour": float((total[2] - total[0]) / total[1]),
        "self_preference": iv.estimate,
        "low": iv.low,
        "high": iv.high,
        "p_value": p_value,
    }


def self_preference(
    table: pd.DataFrame, *, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Leave-one-out self-preference of every judge (see the module docstring).

    One row per (mode, judge) with columns: mode, judge, judge_family, measurable, reason (why
    not measurable: fewer than 2 judges, unknown family, no answer from the judge's family, no
    judge of another family on those items), unit (``share`` or ``score``), reference (which
    judges were compared against), n_items, n_units, own_favour, others_favour,
    self_preference (= own - others) with low/high (bootstrap over items) and p_value
    (t test of the per-item differences; NaN with fewer than two items).

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return self_preference_of(Prepared.of(table), confidence, n_boot, seed)


def self_preference_of(prep: Prepared, confidence: float, n_boot: int, seed: int) -> pd.DataFrame:
    """:func:`self_preference` of a prepared table."""
    valid = prep.table
    fam_of = valid.groupby("judge")["judge_family"].first()
    rows = []
    for r in prep.ratings:
        cand, base = _unit_families(valid, r)
        # Unknown families are None, never pd.NA (whose comparisons are neither true nor false).
        families = [None if pd.isna(f) else f for f in (fam_of.get(j) for j in r.judges)]
        rows += [
            _one_judge(r, j, families, cand, base, confidence, n_boot, seed)
            for j in range(len(r.judges))
        ]
    return pd.DataFrame(rows, columns=list(COLUMNS))
