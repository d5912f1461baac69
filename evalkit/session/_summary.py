"""The one-screen terminal summary printed at the end of ``pytest suites/``.

It is made from run.json's content, so it reads the same whether the suites ran in this
process or in pytest-xdist workers.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}
#: At most this many kinds of failure are listed per suite; the rest are counted.
MAX_FAILURE_KINDS: Final = 5
# What differs between calls failing for one reason: the model called, the retry count.
# A model string is provider/name; a URL (scheme://) is where, and is kept.
_MODEL: Final = re.compile(r"\b(for|to|answer|of) [\w.-]+/[\w./@-]+(?::[\w.-]+)?")
_ATTEMPTS: Final = re.compile(r" \(gave up after \d+ attempts\)$")


def failure_kind(error: str) -> str:
    """The reason a call failed, without what differs between calls that failed for it.

    >>> failure_kind("unavailable: could not connect to http://127.0.0.1:9/v1 for "
    ...              "openai/sim-a: connection refused (gave up after 4 attempts)")
    'unavailable: could not connect to http://127.0.0.1:9/v1 for …: connection refused'
    """
    return _MODEL.sub(r"\1 …", _ATTEMPTS.sub("", error.strip()))


def failure_groups(errors: Iterable[str | None]) -> list[dict[str, Any]]:
    """Group failed calls by :func:`failure_kind`: ``[{"count", "error"}]``, most frequent first.

    Parse failures (errors starting with ``parse``) are not failed calls and are left out.
    """
    counts = collections.Counter(failure_kind(e) for e in errors if e and not e.startswith("parse"))
    return [{"count": n, "error": kind} for kind, n in counts.most_common()]


def failure_lines(groups: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per kind of failure, e.g. ``48 calls failed: connection refused (…)``.

    Calls skipped because an earlier one failed ("not judged: no candidate answer") are
    said to be not made: counting them as failures would blame the judge.
    """
    groups = list(groups)
    lines = []
    for g in groups[:MAX_FAILURE_KINDS]:
        what = "not made" if str(g["error"]).startswith(("not ", "not_run")) else "failed"
        lines.append(f"  {g['count']} call{'s' if g['count'] != 1 else ''} {what}: {g['error']}")
    rest = groups[MAX_FAILURE_KINDS:]
    if rest:
        n = sum(int(g["count"]) for g in rest)
        lines.append(f"  {n} more failed calls, for {len(rest)} other reasons: see the report")
    return lines


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.1%}"


def suite_lines(suite: Mapping[str, Any]) -> list[str]:
    """Lines for one suite: models, gates, judges' position behaviour, warnings, calls."""
    m = suite["models"]
    lines = [
        f"suite {suite['name']}: {m['candidate']['name']} ({m['candidate']['family']}) vs "
        f"{m['baseline']['name']} ({m['baseline']['family']}), panel {m['panel']}",
    ]
    for gate in suite["gates"]:
        lines.append(f"  gate {gate['name']:<13} {_MARK[gate['outcome']]:<12} {gate['message']}")
    verdicts = (suite.get("audit") or {}).get("verdicts", {})
    lines.append(
        "  judge            family        consistency    first-position rate [CI]      n  audit"
    )
    for row in suite["position"]:
        lines.append(
            f"  {row['judge']:<16} {row['judge_family']:<13} {_pct(row['consistency'])} "
            f"of {row['n_items']:<4} {_pct(row['first_position_rate'])} "
            f"[{_pct(row['fp_low'])}, {_pct(row['fp_high'])}]  {row['n_decisive']:>5}  "
            f"{verdicts.get(row['judge'], '?')}"
        )
    calls = suite["calls"]
    lines.append(
        f"  {calls['judge']} judge calls: {calls['unparseable']} unparseable, "
        f"{calls['failed']} failed, {calls['judge_cached']} from cache; "
        f"{calls['answers']} answers ({calls['answers_failed']} failed, "
        f"{calls['answers_cached']} from cache)"
    )
    lines.extend(failure_lines(calls.get("failures", [])))
    for decision in suite["lineage"]:
        lines.append(f"  warning: {decision['message']}")
    if suite.get("stopped"):
        lines.append(f"  stopped: {suite['stopped']}")
    return lines


def summary_lines(run: Mapping[str, Any]) -> list[str]:
    """Every suite's lines, the cost of the run and the report's path."""
    lines: list[str] = []
    for suite in run["suites"]:
        lines.extend(suite_lines(suite))
    for message in run["errors"].values():
        lines.append(f"error: {message}")
    answers = sum(s["cost_usd"]["answers"] for s in run["suites"])
    judges = sum(s["cost_usd"]["judges"] for s in run["suites"])
    lines.append(
        f"cost: ${answers + judges:.4f} (answers ${answers:.4f}, judges ${judges:.4f}, audit $0); "
        f"{run['finished'] - run['started']:.1f} s"
    )
    if run.get("status") == "interrupted":
        lines.append("the run was interrupted: the figures cover only the calls that finished")
    for path in run.get("accepted", []):
        lines.append(f"accepted: {path}")
    if "report" in run:
        lines.append(f"report: {run['report']}")
    return lines
