"""The terminal summary of an audit: a few lines, the verdicts first among the judges."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from evalkit.records._run import FluentRecord

if TYPE_CHECKING:
    from evalkit.audit._report import AuditReport

_AGREEMENT = {
    "pairwise": ("fleiss_kappa", "Fleiss' kappa", "alpha_nominal", "Krippendorff's alpha"),
    "pointwise": (
        "alpha_interval",
        "Krippendorff's alpha (interval)",
        "alpha_ordinal",
        "(ordinal)",
    ),
    "reference": (
        "alpha_interval",
        "Krippendorff's alpha (interval)",
        "alpha_ordinal",
        "(ordinal)",
    ),
}


def _iv(est: float, low: float, high: float) -> str:
    if not math.isfinite(est):
        return "n/a"
    return f"{est:.3f} [{low:.3f}, {high:.3f}]"


def _rate(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "n/a"


def _first(frame: pd.DataFrame, **where: str) -> pd.Series | None:
    rows = frame
    for column, value in where.items():
        rows = rows.loc[rows[column] == value]
    return rows.iloc[0] if len(rows) else None


def _judge_figures(report: AuditReport, judge: str) -> str:
    parts = []
    pos = _first(report.position, judge=judge)
    if pos is not None and pos["n_items"] > 0:
        # Only ties: no decisive verdict, so no first-position rate.
        parts.append(
            f"flip {_rate(pos['flip_rate'])}, first-position {_rate(pos['first_position_rate'])}"
        )
    sp = _first(
        report.self_preference.loc[report.self_preference["measurable"].astype(bool)], judge=judge
    )
    if sp is not None:
        parts.append(f"self-preference {sp['self_preference']:+.2f}")
    kappa = _first(report.kappa_with_others, judge=judge)
    if kappa is not None and math.isfinite(kappa["kappa_best"]):
        parts.append(f"best kappa {kappa['kappa_best']:.2f}")
    return f" ({', '.join(parts)})" if parts else ""


def _pct(est: float, low: float, high: float) -> str:
    return f"{est:.1%} [{low:.1%}, {high:.1%}]" if math.isfinite(est) else "n/a"


def _human_lines(human: pd.DataFrame) -> list[str]:
    """Accuracy against the human labels, one line per rater, in percent with one decimal."""
    lines = []
    for row in human.to_dict("records"):
        acc = [float(row[f"accuracy{k}"]) for k in ("", "_low", "_high")]
        by_order = [float(row[f"accuracy_orders{k}"]) for k in ("", "_low", "_high")]
        orders = f"; averaged over orders {_pct(*by_order)}" if math.isfinite(by_order[0]) else ""
        kappa = float(row["kappa"])
        shown = f", kappa {kappa:.3f}" if math.isfinite(kappa) else ""
        lines.append(
            f"humans ({row['mode']}, {int(row['n_items'])} labelled items): {row['rater']} "
            f"accuracy {_pct(*acc)}{orders}{shown}"
        )
    return lines


def summary_lines(report: AuditReport) -> list[str]:
    """Return the summary lines of ``report``: calls, panel, agreement, judges, tests."""
    judges = report.judges
    calls, usable = int(judges["n_rows"].sum()), int(judges["n_usable"].sum())
    lines = [f"audit: {calls} judge calls by {len(judges)} judges, {calls - usable} unusable"]
    wr = report.win_rate
    if wr.n + wr.abstained:
        se = f", SE {wr.standard_error:.3f}" if math.isfinite(wr.standard_error) else ""
        lines.append(
            f"panel: candidate win rate {_iv(wr.rate, wr.interval.low, wr.interval.high)} "
            f"(Wilson{se}) over {wr.n} items ({wr.wins} won, {wr.ties} tied, {wr.losses} lost; "
            f"{wr.abstained} abstained)"
        )
    lines += _human_lines(report.human)
    for mode, (k1, name1, k2, name2) in _AGREEMENT.items():
        a = _first(report.panel_agreement, mode=mode, statistic=k1)
        b = _first(report.panel_agreement, mode=mode, statistic=k2)
        if a is not None and b is not None:
            lines.append(
                f"agreement ({mode}, {int(a['n_items'])} items): {name1} "
                f"{_iv(a['estimate'], a['low'], a['high'])}, {name2} "
                f"{_iv(b['estimate'], b['low'], b['high'])}"
            )
    for row in report.reliability.itertuples():
        figures = _judge_figures(report, str(row.judge))
        family = str(row.judge_family) if isinstance(row.judge_family, str) else "family unknown"
        lines.append(f"{row.judge} [{family}]: {str(row.verdict).upper()}{figures}")
        lines += [f"  - {reason}" for reason in str(row.reasons).split("; ") if reason]
    fluent = report.fluent_but_wrong
    if fluent.measurable:
        lines.append(FluentRecord.model_validate(fluent.to_dict()).summary_line())
    n_tests = len(report.tests)
    if n_tests > 1:
        below = int((report.tests["p_holm"] < 0.05).sum())
        lines.append(
            f"{n_tests} tests across {report.tests['judge'].nunique()} judges: p-values are "
            f"Holm-adjusted for multiple comparisons (p_holm beside p_value); {below} stay "
            f"below 0.05"
        )
    return lines
