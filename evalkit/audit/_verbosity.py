"""Verbosity bias: whether a judge prefers the longer answer, other things equal.

Pairwise, per judge, over its decisive single-order verdicts with both answer lengths known
(DESIGN.md, "Definitions the audit uses")::

    logit P(picked the answer shown first) = b0 + b1 · (len_first - len_second)/100
                                                 + b2 · ([candidate shown first] - ½)

``exp(b1)`` is the odds ratio per +100 tokens of length advantage; ``exp(b0)`` the odds of
picking the first-shown answer at equal length (position bias); ``b2`` absorbs the candidate's
real quality, which is balanced across the two orders. Standard errors are cluster-robust by
item, because the two orders of an item (and its samples) are not independent. Beside it: the
share of decisive verdicts (on answers of unequal length) that prefer the longer answer, with a
Wilson interval. Pointwise, per judge: the OLS slope of score on the answer's length, per +100
tokens, with cluster-robust errors.

Both measure an *association*: where longer answers really are better, an honest judge shows
it too. Compare a judge with the rest of the panel before blaming it.

statsmodels is imported on first use, so that importing evalkit stays fast.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pandas as pd

from evalkit.audit._intervals import FloatArray, wilson_bounds
from evalkit.audit._table import ITEM, audited, score_ok, verdict_ok

#: Fewer observations than this and a regression is not attempted.
MIN_OBSERVATIONS: Final = 10
PAIRWISE_COLUMNS: Final = (
    "judge",
    "judge_family",
    "measurable",
    "reason",
    "n",
    "n_items",
    "odds_ratio",
    "or_low",
    "or_high",
    "p_value",
    "position_odds_ratio",
    "n_unequal",
    "longer_rate",
    "longer_low",
    "longer_high",
)
SCORE_COLUMNS: Final = (
    "mode",
    "judge",
    "judge_family",
    "measurable",
    "reason",
    "n",
    "n_items",
    "slope",
    "slope_low",
    "slope_high",
    "p_value",
)


def _fit(
    kind: str, y: FloatArray, x: FloatArray, groups: FloatArray, confidence: float
) -> tuple[dict[str, Any] | None, str | None]:
    """Fit a logit or OLS model with item-clustered errors; a failure becomes a reason.

    Returns ``({params, low, high, p}, None)`` or ``(None, reason)``. statsmodels' warnings are
    caught here and turned into reasons, never left to the caller.
    """
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        HessianInversionWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    if np.unique(groups).size < 2:
        # Item-clustered errors need two clusters at least (statsmodels divides by n - 1).
        return None, "every observation comes from one item: its standard error is unknown"
    design = np.column_stack([np.ones_like(x[:, 0]), x])
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if kind == "logit":
                res = Logit(y, design).fit(disp=0, maxiter=100, **cov)
            else:
                res = OLS(y, design).fit(**cov)
        except (
            PerfectSeparationError,
            np.linalg.LinAlgError,
            ValueError,
            ZeroDivisionError,
        ) as exc:
            return None, f"the model could not be fitted ({exc})"
    categories = {w.category for w in caught}
    if PerfectSeparationWarning in categories:
        return None, "the verdicts are perfectly predicted by length and position"
    converged = getattr(res, "mle_retvals", {}).get("converged", True)
    if not converged or categories & {ConvergenceWarning, HessianInversionWarning}:
        return None, "the model did not converge"
    ci = np.asarray(res.conf_int(alpha=1.0 - confidence))
    params, p = np.asarray(res.params), np.asarray(res.pvalues)
    if not np.all(np.isfinite(ci)):
        return None, "the model's standard errors are not finite"
    return {"params": params, "low": ci[:, 0], "high": ci[:, 1], "p": p}, None


def _per_judge(
    rows: pd.DataFrame, measure: Callable[[pd.DataFrame], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Apply ``measure`` to each judge's rows (a loop over judges, not over rows)."""
    return [
        {"judge": judge, "judge_family": part["judge_family"].iloc[0], **measure(part)}
        for judge, part in rows.groupby("judge", sort=True)
    ]


def _item_groups(part: pd.DataFrame) -> FloatArray:
    return np.asarray(part.groupby(list(ITEM)).ngroup(), dtype=np.float64)


def _pairwise_measure(confidence: float) -> Callable[[pd.DataFrame], dict[str, Any]]:
    def measure(part: pd.DataFrame) -> dict[str, Any]:
        decisive = part.loc[part["verdict"].isin(("candidate", "baseline"))]
        decisive = decisive.dropna(subset=["len_candidate", "len_baseline"])
        len_c = decisive["len_candidate"].to_numpy(dtype=float)
        len_b = decisive["len_baseline"].to_numpy(dtype=float)
        picked_c = (decisive["verdict"] == "candidate").to_numpy(dtype=bool)
        unequal = len_c != len_b
        longer = picked_c[unequal] == (len_c > len_b)[unequal]
        rate, low, high = wilson_bounds(longer.sum(), unequal.sum(), confidence)
        out: dict[str, Any] = {
            "n": len(decisive),
            "n_items": int(decisive.groupby(list(ITEM)).ngroups),
            "n_unequal": int(unequal.sum()),
            "longer_rate": float(rate),
            "longer_low": float(low),
            "longer_high": float(high),
        }
        if len(decisive) < MIN_OBSERVATIONS:
            reason = f"fewer than {MIN_OBSERVATIONS} decisive verdicts with known answer lengths"
            return {**out, "measurable": False, "reason": reason}
        if not unequal.any() or np.ptp(len_c - len_b) == 0:
            return {**out, "measurable": False, "reason": "the answers' lengths never differ"}
        cand_first = (decisive["order"] == "AB").to_numpy(dtype=bool)
        y = (picked_c == cand_first).astype(float)
        sign = np.where(cand_first, 1.0, -1.0)
        x = sign[:, None] * (len_c - len_b)[:, None] / 100.0
        # With verdicts from one order only, the order term is constant (a singular design):
        # the length slope is still estimable, but the intercept then mixes position bias with
        # the candidate's quality, so no position odds ratio is reported.
        both_orders = bool(cand_first.any() and not cand_first.all())
        if both_orders:
            x = np.column_stack([x, cand_first - 0.5])
        fit, failure = _fit("logit", y, x, _item_groups(decisive), confidence)
        if fit is None:
            return {**out, "measurable": False, "reason": failure}
        return {
            **out,
            "measurable": True,
            "reason": None,
            "odds_ratio": math.exp(fit["params"][1]),
            "or_low": math.exp(fit["low"][1]),
            "or_high": math.exp(fit["high"][1]),
            "p_value": float(fit["p"][1]),
            "position_odds_ratio": math.exp(fit["params"][0]) if both_orders else math.nan,
        }

    return measure


def verbosity_bias(table: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per-judge verbosity bias of pairwise judgments (see the module docstring).

    One row per judge with columns: judge, judge_family, measurable, reason (why not: too few
    decisive verdicts with lengths, lengths that never differ, a model that cannot be fitted),
    n (decisive single-order verdicts used), n_items, odds_ratio (per +100 tokens of length
    advantage) with or_low/or_high and p_value (Wald, item-clustered), position_odds_ratio
    (odds of picking the first-shown answer at equal length; NaN when every verdict came from
    one order, which leaves position and quality confounded), n_unequal, longer_rate (share of
    decisive verdicts on unequal lengths that picked the longer answer) with longer_low and
    longer_high (Wilson).

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return verbosity_bias_of(audited(table), confidence)


def verbosity_bias_of(valid: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """:func:`verbosity_bias` of a validated table."""
    rows = valid.loc[verdict_ok(valid)]
    return pd.DataFrame(
        _per_judge(rows, _pairwise_measure(confidence)), columns=list(PAIRWISE_COLUMNS)
    )


def _score_measure(confidence: float) -> Callable[[pd.DataFrame], dict[str, Any]]:
    def measure(part: pd.DataFrame) -> dict[str, Any]:
        known = part.dropna(subset=["len_candidate"])
        out: dict[str, Any] = {"n": len(known), "n_items": int(known.groupby(list(ITEM)).ngroups)}
        length = known["len_candidate"].to_numpy(dtype=float) / 100.0
        if len(known) < MIN_OBSERVATIONS:
            reason = f"fewer than {MIN_OBSERVATIONS} scores with a known answer length"
            return {**out, "measurable": False, "reason": reason}
        if np.ptp(length) == 0:
            return {**out, "measurable": False, "reason": "the answers' lengths never differ"}
        score = known["score"].to_numpy(dtype=float)
        fit, failure = _fit("ols", score, length[:, None], _item_groups(known), confidence)
        if fit is None:
            return {**out, "measurable": False, "reason": failure}
        return {
            **out,
            "measurable": True,
            "reason": None,
            "slope": float(fit["params"][1]),
            "slope_low": float(fit["low"][1]),
            "slope_high": float(fit["high"][1]),
            "p_value": float(fit["p"][1]),
        }

    return measure


def length_slope(table: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per (mode, judge), the slope of pointwise scores on answer length, per +100 tokens.

    OLS of score on ``len_candidate / 100`` with item-clustered standard errors. Columns: mode,
    judge, judge_family, measurable, reason, n, n_items, slope, slope_low, slope_high, p_value.

    Raises:
        UsageError: the table is invalid (see :func:`validate_judgments`).
    """
    return length_slope_of(audited(table), confidence)


def length_slope_of(valid: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """:func:`length_slope` of a validated table."""
    rows = valid.loc[score_ok(valid)]
    out = [
        {"mode": mode, **row}
        for mode, part in rows.groupby("mode", sort=True)
        for row in _per_judge(part, _score_measure(confidence))
    ]
    return pd.DataFrame(out, columns=list(SCORE_COLUMNS))
