"""Judges against human labels: accuracy, kappa, and a pass rate corrected for judge error.

Items may carry a ``human_label``: for pairwise items ``candidate``, ``baseline`` or ``tie``; for
pointwise items a score on the judges' scale, or ``pass``/``fail`` (also true/false, yes/no,
1/0). One label per item; the judges' values are those of the agreement statistics (combined
verdicts; mean scores), and the panel is compared as one more rater (its verdicts under the
panel's rule, see :mod:`evalkit.panel`).

**Judge-error-corrected pass rate** (Rogan & Gladen 1978). A judge that calls items "pass" with
sensitivity Se and specificity Sp, measured on the labelled items, turns a true pass rate π into
an observed rate ``p = Se·π + (1 - Sp)(1 - π)``; inverted::

    π̂ = (p + Sp - 1) / (Se + Sp - 1),   clipped to [0, 1]

"Pass" is the candidate winning (pairwise verdict ``candidate``) or a score at or above
``pass_score`` (pointwise). p is measured on every item the judge judged, Se and Sp on the
labelled ones. The interval is a stratified percentile bootstrap — labelled and unlabelled items
resampled separately, so each replicate redraws both the observed rate and the judge's error
rates and the interval carries both sources of uncertainty. Where Se + Sp ≤ 1 the judge is no
better than chance on the labelled items and the rate cannot be corrected.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from evalkit.audit._agreement import VERDICT_CODES, Ratings
from evalkit.audit._intervals import (
    FloatArray,
    Interval,
    percentile_interval,
    resampled_sums,
    rng_for,
    wilson_interval,
)
from evalkit.audit._kappa import KappaWeights, kappa_from_tables
from evalkit.audit._prepared import Prepared
from evalkit.audit._table import ITEM
from evalkit.errors import UsageError
from evalkit.panel import PanelRule, item_verdicts

PANEL: Final = "panel"
_PASS_WORDS: Final = {"pass": 1.0, "true": 1.0, "yes": 1.0, "fail": 0.0, "false": 0.0, "no": 0.0}
AGREEMENT_COLUMNS: Final = (
    "mode",
    "rater",
    "n_items",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "accuracy_orders",
    "accuracy_orders_low",
    "accuracy_orders_high",
    "kappa",
    "kappa_low",
    "kappa_high",
)
CORRECTED_COLUMNS: Final = (
    "mode",
    "rater",
    "measurable",
    "reason",
    "n_items",
    "n_labelled",
    "observed_rate",
    "human_rate",
    "sensitivity",
    "specificity",
    "corrected_rate",
    "low",
    "high",
)


def _item_labels(table: pd.DataFrame, mode: str) -> pd.Series:
    """Return the one human label of each labelled item of ``mode``.

    Raises:
        UsageError: an item carries two different labels.
    """
    rows = table.loc[(table["mode"] == mode) & table["human_label"].notna()]
    labels = rows.groupby(list(ITEM))["human_label"]
    conflicting = labels.nunique() > 1
    if conflicting.any():
        suite, item = conflicting[conflicting].index[0]
        raise UsageError(
            f"item {item!r} of suite {suite!r} has different human labels on different rows "
            f"({', '.join(sorted(labels.unique()[(suite, item)]))}); give each item one label"
        )
    return labels.first()


def _label_values(labels: pd.Series, mode: str) -> pd.Series:
    """Human labels on the judges' numeric scale (NaN where a label does not fit it)."""
    if mode == "pairwise":
        return labels.map(VERDICT_CODES).astype("float64")
    return pd.to_numeric(labels.astype("object"), errors="coerce").astype("float64")


def _label_pass(labels: pd.Series, mode: str, pass_score: float | None) -> pd.Series:
    """Human labels as pass (1) / fail (0), NaN where they say neither."""
    if mode == "pairwise":
        return (labels == "candidate").astype("float64")
    words = labels.astype(str).str.strip().str.lower().map(_PASS_WORDS).astype("float64")
    numbers = pd.to_numeric(labels.astype("object"), errors="coerce").astype("float64")
    if pass_score is not None:
        words = words.fillna((numbers >= pass_score).astype("float64").where(numbers.notna()))
    return words


def _raters(
    prep: Prepared, panels: Mapping[str, pd.DataFrame]
) -> Iterator[tuple[Ratings, str, FloatArray]]:
    """Yield ``(ratings, rater name, values per unit)`` for each judge and the panel, per mode."""
    for r in prep.ratings:
        for j, judge in enumerate(r.judges):
            yield r, judge, np.asarray(r.data[j], dtype=np.float64)
        if r.mode not in panels:
            continue
        panel = panels[r.mode]
        keys = [*ITEM] if r.mode == "pairwise" else [*ITEM, "candidate"]
        value = (
            panel["verdict"].map(VERDICT_CODES) if r.mode == "pairwise" else panel["score"]
        ).astype("float64")
        per_item = value.set_axis(pd.MultiIndex.from_frame(panel[keys]))
        units = r.units.droplevel("sample")
        yield r, PANEL, np.asarray(per_item.reindex(units), dtype=np.float64)


def _unit_labels(r: Ratings, labels: pd.Series) -> FloatArray:
    return labels.reindex(r.units.droplevel([n for n in r.units.names if n not in ITEM])).to_numpy(
        dtype=np.float64
    )


def _accuracy(r: Ratings, values: FloatArray, human: FloatArray, confidence: float) -> Interval:
    """Share of the rater's values that match the label, each labelled item counting once.

    An item's units (its samples; with the ``two`` convention, also its two orders) share its
    one vote, so this is the per-item accuracy averaged over the items.
    """
    both = np.isfinite(values) & np.isfinite(human)
    agree = np.where(both, values == human, False).astype(float)
    per_item = r.by_item(np.column_stack([agree, both]))
    per_item = per_item[per_item[:, -1] > 0]
    return wilson_interval(
        float((per_item[:, 0] / per_item[:, 1]).sum()), per_item.shape[0], confidence
    )


def _agreement_row(
    r: Ratings,
    name: str,
    values: FloatArray,
    human: FloatArray,
    confidence: float,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    both = np.isfinite(values) & np.isfinite(human)
    cats = np.unique(np.concatenate([values[both], human[both]]))
    k = max(cats.size, 1)
    cells = np.zeros((values.size, k * k))
    cells[
        np.flatnonzero(both),
        np.searchsorted(cats, values[both]) * k + np.searchsorted(cats, human[both]),
    ] = 1.0
    per_item = r.by_item(np.column_stack([cells, both]))
    per_item = per_item[per_item[:, -1] > 0]
    weights: KappaWeights = None if r.mode == "pairwise" else "quadratic"
    acc = _accuracy(r, values, human, confidence)
    reps = resampled_sums(per_item[:, : k * k], n_boot, rng_for(seed, f"human:{r.mode}:{name}"))
    kappa = percentile_interval(
        float(kappa_from_tables(per_item[:, : k * k].sum(axis=0).reshape(k, k), weights)),
        kappa_from_tables(reps.reshape(n_boot, k, k), weights),
        per_item.shape[0],
        confidence,
    )
    return {
        "mode": r.mode,
        "rater": name,
        "n_items": per_item.shape[0],
        "accuracy": acc.estimate,
        "accuracy_low": acc.low,
        "accuracy_high": acc.high,
        "accuracy_orders": np.nan,
        "accuracy_orders_low": np.nan,
        "accuracy_orders_high": np.nan,
        "kappa": kappa.estimate,
        "kappa_low": kappa.low,
        "kappa_high": kappa.high,
    }


def human_agreement(
    table: pd.DataFrame,
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    rule: PanelRule | None = None,
) -> pd.DataFrame:
    """Each judge's, and the panel's, accuracy and Cohen's kappa against the human labels.

    One row per (mode, rater) — every judge, and ``panel`` (its verdicts under ``rule``; by
    default majority verdict or mean score, majority quorum) — with columns mode, rater, n_items
    (labelled items the rater judged), accuracy (share of exact matches, items weighted
    equally) with a Wilson interval, accuracy_orders (judges of pairwise items: each order's
    verdict against the label, averaged over the orders and then the items; Wilson), kappa
    (unweighted for verdicts, quadratic-weighted for
    scores) with a bootstrap interval over items. Empty when no item has a label on the
    judges' scale.

    Raises:
        UsageError: the table is invalid, or an item has two different human labels.
    """
    prep = Prepared.of(table)
    panels = item_verdicts(prep.table, rule or PanelRule())
    return human_agreement_of(prep, panels, confidence, n_boot, seed)


def human_agreement_of(
    prep: Prepared,
    panels: Mapping[str, pd.DataFrame],
    confidence: float,
    n_boot: int,
    seed: int,
    *,
    judges: bool = True,
) -> pd.DataFrame:
    """:func:`human_agreement` of a prepared table, with the panels to compare (by mode).

    ``judges`` False gives the panels' rows only.
    """
    valid = prep.table
    rows = []
    for r, name, values in _raters(prep, panels):
        if not judges and name != PANEL:
            continue
        labels = _label_values(_item_labels(valid, r.mode), r.mode)
        human = _unit_labels(r, labels)
        if not (np.isfinite(human) & np.isfinite(values)).any():
            continue
        row = _agreement_row(r, name, values, human, confidence, n_boot, seed)
        if r.mode == "pairwise" and name != PANEL:
            row.update(_orders_accuracy(prep.order_ratings, name, labels, confidence))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


def _orders_accuracy(
    r: Ratings | None, judge: str, labels: pd.Series, confidence: float
) -> dict[str, float]:
    """A judge's accuracy averaged over the two orders: each order's verdict against the label.

    The figure many papers report beside (or instead of) the accuracy of the combined verdict.
    """
    if r is None or judge not in r.judges:
        return {}
    values = np.asarray(r.data[r.judges.index(judge)], dtype=np.float64)
    acc = _accuracy(r, values, _unit_labels(r, labels), confidence)
    return {
        "accuracy_orders": acc.estimate,
        "accuracy_orders_low": acc.low,
        "accuracy_orders_high": acc.high,
    }


def _rogan_gladen(sums: FloatArray) -> dict[str, FloatArray]:
    """Observed rate, Se, Sp and corrected rate from summed per-item statistics ``(..., 6)``.

    Columns: judged, judged·pass, labelled-pass, judged-pass on labelled-pass, labelled-fail,
    judged-fail on labelled-fail.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = sums[..., 1] / sums[..., 0]
        se = sums[..., 3] / sums[..., 2]
        sp = sums[..., 5] / sums[..., 4]
        youden = se + sp - 1.0
        corrected = np.clip((observed + sp - 1.0) / youden, 0.0, 1.0)
    return {
        "observed": observed,
        "se": se,
        "sp": sp,
        "youden": youden,
        "corrected": np.where(youden > 0, corrected, np.nan),
    }


def _corrected_row(
    r: Ratings,
    name: str,
    passed: FloatArray,
    human: FloatArray,
    confidence: float,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    judged = np.isfinite(passed)
    p = np.where(judged, passed, 0.0)
    per_item = r.by_item(np.column_stack([judged, p, judged]))
    # A judge's item-level call is the share of its valid samples that passed.
    with np.errstate(invalid="ignore", divide="ignore"):
        call = per_item[:, 1] / per_item[:, 2]
    item_human = r.by_item(np.where(np.isfinite(human), human, np.nan))[:, 0]
    item_human = item_human / np.bincount(r.cluster)  # every unit of an item shares its label
    seen = per_item[:, 0] > 0
    call, item_human = call[seen], item_human[seen]
    labelled = np.isfinite(item_human)
    lab_pass = np.where(labelled, item_human, 0.0)
    lab_fail = np.where(labelled, 1.0 - item_human, 0.0)
    stats_ = np.column_stack(
        [np.ones_like(call), call, lab_pass, call * lab_pass, lab_fail, (1 - call) * lab_fail]
    )
    est = _rogan_gladen(stats_.sum(axis=0))
    base = {
        "mode": r.mode,
        "rater": name,
        "n_items": int(seen.sum()),
        "n_labelled": int(labelled.sum()),
        "observed_rate": float(est["observed"]),
        "human_rate": float(lab_pass.sum() / labelled.sum()) if labelled.any() else np.nan,
        "sensitivity": float(est["se"]),
        "specificity": float(est["sp"]),
    }
    if not (lab_pass.sum() > 0 and lab_fail.sum() > 0):
        which = "pass" if lab_pass.sum() == 0 else "fail"
        return {
            **base,
            "measurable": False,
            "reason": f"no labelled item is a {which}: the judge's error rates are unknown",
        }
    if not est["youden"] > 0:
        return {
            **base,
            "measurable": False,
            "reason": (
                f"the judge is no better than chance on the labelled items "
                f"(sensitivity + specificity - 1 = {float(est['youden']):.3f})"
            ),
        }
    rng = rng_for(seed, f"corrected:{r.mode}:{name}")
    # Stratified: labelled and unlabelled items are resampled separately (see module docstring).
    reps = resampled_sums(stats_[labelled], n_boot, rng) + resampled_sums(
        stats_[~labelled], n_boot, rng
    )
    iv = percentile_interval(
        float(est["corrected"]), _rogan_gladen(reps)["corrected"], int(seen.sum()), confidence
    )
    return {
        **base,
        "measurable": True,
        "reason": None,
        "corrected_rate": iv.estimate,
        "low": iv.low,
        "high": iv.high,
    }


def corrected_pass_rate(
    table: pd.DataFrame,
    *,
    pass_score: float | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    rule: PanelRule | None = None,
) -> pd.DataFrame:
    """Estimate the pass rate each judge, and the panel, would report without its errors.

    See the module docstring for the Rogan-Gladen correction and its interval. "Pass" is a
    ``candidate`` verdict for pairwise items and a score at or above ``pass_score`` for pointwise
    ones (pointwise modes are skipped when ``pass_score`` is None). One row per (mode, rater)
    with columns mode, rater, measurable, reason (why not: no labelled pass or fail, a judge no
    better than chance), n_items, n_labelled, observed_rate, human_rate (pass share of the
    labelled items), sensitivity, specificity, corrected_rate, low, high. Empty without labels.

    Raises:
        UsageError: the table is invalid, or an item has two different human labels.
    """
    prep = Prepared.of(table)
    panels = item_verdicts(prep.table, rule or PanelRule())
    return corrected_pass_rate_of(prep, panels, pass_score, confidence, n_boot, seed)


def corrected_pass_rate_of(
    prep: Prepared,
    panels: Mapping[str, pd.DataFrame],
    pass_score: float | None,
    confidence: float,
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """:func:`corrected_pass_rate` of a prepared table, with the panels to compare (by mode)."""
    valid = prep.table
    rows = []
    for r, name, values in _raters(prep, panels):
        if r.mode != "pairwise" and pass_score is None:
            continue
        labels = _label_pass(_item_labels(valid, r.mode), r.mode, pass_score)
        human = _unit_labels(r, labels)
        if not np.isfinite(human).any():
            continue
        if r.mode == "pairwise":
            passed = np.where(np.isfinite(values), values == VERDICT_CODES["candidate"], np.nan)
        else:
            passed = np.where(np.isfinite(values), values >= float(pass_score or 0.0), np.nan)
        rows.append(_corrected_row(r, name, passed, human, confidence, n_boot, seed))
    return pd.DataFrame(rows, columns=list(CORRECTED_COLUMNS))
