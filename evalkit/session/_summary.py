"""The one-screen terminal summary printed at the end of ``pytest suites/``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from evalkit.session._result import SuiteResult

if TYPE_CHECKING:
    from evalkit.session._session import EvalSession

_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}


def _pct(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.1%}"


def suite_lines(result: SuiteResult) -> list[str]:
    """Lines for one suite: models, gates, judges' position behaviour, warnings, cost."""
    m = result.models
    table = result.judgments
    lines = [
        f"suite {result.name}: {m['candidate']['name']} ({m['candidate']['family']}) vs "
        f"{m['baseline']['name']} ({m['baseline']['family']}), panel {m['panel']}",
    ]
    for gate in result.gates:
        lines.append(f"  gate {gate.name:<13} {_MARK[gate.outcome]:<12} {gate.message}")
    lines.append("  judge            family        consistency    first-position rate [CI]    n")
    for row in result.position.to_dict("records"):
        lines.append(
            f"  {row['judge']:<16} {row['judge_family']:<13} {_pct(row['consistency'])} "
            f"of {row['n_items']:<4} {_pct(row['first_position_rate'])} "
            f"[{_pct(row['fp_low'])}, {_pct(row['fp_high'])}]  {row['n_decisive']:>5}"
        )
    failed_parse = int(
        (~table["parse_ok"] & table["error"].fillna("").str.startswith("parse")).sum()
    )
    failed_call = int(
        (table["error"].notna() & ~table["error"].fillna("").str.startswith("parse")).sum()
    )
    lines.append(
        f"  {len(table)} judge calls: {failed_parse} unparseable, {failed_call} failed, "
        f"{int(table['cached'].sum())} from cache"
    )
    for decision in result.lineage:
        lines.append(f"  warning: {decision.message()}")
    return lines


def summary_lines(session: EvalSession) -> list[str]:
    """Every suite's lines, the cost of the run and the report's path."""
    lines: list[str] = []
    for result in session.results.values():
        lines.extend(suite_lines(result))
    for message in session.errors.values():
        lines.append(f"error: {message}")
    if not lines:
        return []
    answers_cost = sum(
        a.cost_usd for r in session.results.values() for by_item in r.answers.values()
        for a in by_item.values()
    )  # fmt: skip
    judge_cost = sum(float(r.judgments["cost_usd"].sum()) for r in session.results.values())
    lines.append(
        f"cost: ${answers_cost + judge_cost:.4f} (answers ${answers_cost:.4f}, "
        f"judges ${judge_cost:.4f}, audit $0)"
    )
    report = session.run_dir / "report.html"
    if report.exists():
        lines.append(f"report: {report}")
    return lines
