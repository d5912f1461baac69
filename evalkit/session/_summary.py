"""The one-screen terminal summary printed at the end of ``pytest suites/``.

It is made from the run record (what run.json holds), so it reads the same whether the
suites ran in this process or in pytest-xdist workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from evalkit.records import SuiteRecord
from evalkit.records._run import FailureGroup
from evalkit.session._finalize import ClosedRun
from evalkit.session._leaderboard import leaderboard_lines

_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}
#: At most this many kinds of failure are listed per suite; the rest are counted.
MAX_FAILURE_KINDS: Final = 5


def failure_lines(groups: list[FailureGroup]) -> list[str]:
    """One line per kind of failure, e.g. ``48 calls failed: connection refused (…)``.

    Calls never made (stopped, or skipped because an answer to judge was missing) are said to
    be not made: counting them as failures would blame the judge.
    """
    lines = []
    for g in groups[:MAX_FAILURE_KINDS]:
        what = "failed" if g.status == "failed" else "not made"
        lines.append(f"  {g.count} call{'s' if g.count != 1 else ''} {what}: {g.error}")
    rest = groups[MAX_FAILURE_KINDS:]
    if rest:
        n = sum(g.count for g in rest)
        lines.append(
            f"  {n} more calls without a result, for {len(rest)} other reasons: see the report"
        )
    return lines


def _pct(x: float | int | str | bool | None) -> str:
    return "  n/a" if not isinstance(x, float | int) else f"{x:5.1%}"


def suite_lines(suite: SuiteRecord) -> list[str]:
    """Lines for one suite: models, gates, judges' position behaviour, warnings, calls."""
    m = suite.models
    versus = "" if m.baseline is None else f" vs {m.baseline.name} ({m.baseline.family})"
    lines = [
        f"suite {suite.name}: {m.candidate.name} ({m.candidate.family}){versus}, panel {m.panel}"
    ]
    # Gate names carry their non-default parameters: align on the suite's longest.
    width = max([13, *(len(gate.name) for gate in suite.gates)])
    for gate in suite.gates:
        lines.append(f"  gate {gate.name:<{width}} {_MARK[gate.outcome]:<12} {gate.message}")
    if suite.leaderboard is not None:
        lines.extend(leaderboard_lines(suite.leaderboard))
    if suite.pairs:
        # A multi-candidate suite: its calls, gates and audits are its pairs' own lines.
        if suite.leaderboard is None:
            lines.append(
                "  no leaderboard: it ranks pairwise verdicts; each candidate's gates above "
                "give its own score with its interval"
            )
        return [*lines, f"  pairs (each a suite above): {', '.join(suite.pairs)}"]
    verdicts = suite.audit.verdicts if suite.audit is not None else {}
    if suite.position:
        lines.append(
            "  judge            family        consistency    first-position rate [CI]      n  audit"
        )
    elif verdicts:
        # Scored suites have no orders to swap: the auditor's verdict per judge is what to show.
        rated = ", ".join(f"{judge} {verdict}" for judge, verdict in sorted(verdicts.items()))
        lines.append(f"  judges: {rated}")
    for row in suite.position:
        lines.append(
            f"  {row['judge']!s:<16} {row['judge_family']!s:<13} {_pct(row['consistency'])} "
            f"of {row['n_items']!s:<4} {_pct(row['first_position_rate'])} "
            f"[{_pct(row['fp_low'])}, {_pct(row['fp_high'])}]  {row['n_decisive']!s:>5}  "
            f"{verdicts.get(str(row['judge']), '?')}"
        )
    fluent = suite.audit.fluent_but_wrong if suite.audit is not None else None
    if fluent is not None and fluent.reason is None:
        lines.append(f"  {fluent.summary_line()}")
    lines.extend(probe_lines(suite.probes, suite.audit.checks if suite.audit else ()))
    # A judge that failed the qualification exam is named on its own line: the exam is the
    # direct test of whether it can tell a right answer from a wrong one.
    for check in suite.audit.checks if suite.audit is not None else []:
        if check.get("check") == "exam" and check.get("status") == "untrusted":
            lines.append(f"  exam: {check['judge']} untrusted: {check['message']}")
    calls = suite.calls
    unmade = [f"{calls.not_run} not run"] if calls.not_run else []
    unmade += [f"{calls.no_answer} without an answer to judge"] if calls.no_answer else []
    lines.append(
        f"  {calls.judge} judge calls: {calls.unparseable} unparseable, {calls.failed} failed"
        f"{' (' + ', '.join(unmade) + ')' if unmade else ''}, {calls.judge_cached} from cache; "
        f"{calls.answers} answers"
        + (f" from {calls.answer_calls} calls" if calls.answer_calls != calls.answers else "")
        + f" ({calls.answers_failed} failed, "
        f"{calls.answers_cached} from cache)"
    )
    for decision in suite.lineage:
        lines.append(f"  warning: {decision.message}")
    lines.extend(failure_lines(calls.failures))
    if suite.stopped:
        lines.append(f"  stopped: {suite.stopped}")
    return lines


def probe_lines(
    probes: Sequence[Mapping[str, Any]], checks: Sequence[Mapping[str, Any]] = ()
) -> list[str]:
    """One line per flagged (judge, bias probe), or one line saying none was; none unprobed.

    ``checks`` are the audit's check rows: a (judge, probe) whose check is ``not measured``
    (too few verdicts) is counted as such, never as measured.

    >>> probe_lines([{"judge": "j", "probe": "tone", "flagged": False}])
    ['  probes: 1 judge x 1 probe measured, none moved a judge beyond swap noise']
    """
    if not probes:
        return []
    flagged = [row for row in probes if row["flagged"]]
    if not flagged:
        unmeasured = {(str(c["judge"]), str(c["check"])) for c in checks
                      if c.get("status") == "not measured"}  # fmt: skip
        few = sum((str(row["judge"]), f"probe:{row['probe']}") in unmeasured for row in probes)
        if few:
            line = (
                f"  probes: {few} of {len(probes)} (judge, probe) pairs not measured (too few "
                "verdicts; probe more items)"
            )
            rest = len(probes) - few
            return [line + (f"; none of the other {rest} moved a judge beyond swap noise"
                            if rest else "")]  # fmt: skip
        judges = len({row["judge"] for row in probes})
        kinds = len({row["probe"] for row in probes})
        return [
            f"  probes: {judges} judge{'s' * (judges != 1)} x {kinds} probe{'s' * (kinds != 1)} "
            "measured, none moved a judge beyond swap noise"
        ]
    return [
        f"  probe {row['probe']}: judge {row['judge']} flagged, {_pct(row['robustness'])} of "
        f"{row['n']} verdicts unchanged (swap-only {_pct(row['swap_agreement'])}), shift toward "
        f"the edit {row['shift']:+.2f} [{row['shift_low']:+.2f}, {row['shift_high']:+.2f}]"
        for row in flagged
    ]


def summary_lines(run: ClosedRun) -> list[str]:
    """Every suite's lines, the cost of the run and the report's path."""
    record = run.record
    lines: list[str] = [] if record.shard is None else [record.shard.note()]
    if record.merged_from:
        lines.append(f"merged from {len(record.merged_from)} shards of one run")
    for suite in record.suites:
        lines.extend(suite_lines(suite))
    for message in record.errors.values():
        lines.append(f"error: {message}")
    for outage in record.cache_outages:
        lines.append(f"cache: {outage.note(record.started)}")
    answers = sum(s.cost_usd.answers for s in record.suites)
    judges = sum(s.cost_usd.judges for s in record.suites)
    seconds = (record.finished or 0.0) - (record.started or 0.0)
    lines.append(
        f"cost: ${answers + judges:.4f} (answers ${answers:.4f}, judges ${judges:.4f}, audit $0); "
        f"{seconds:.1f} s"
    )
    if record.status == "interrupted":
        lines.append("the run was interrupted: the figures cover only the calls that finished")
    for path in record.accepted:
        lines.append(f"accepted: {path}")
    lines.append(f"report: {run.report}")
    return lines
