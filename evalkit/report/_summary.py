"""The top of the report: did the run pass, what ran, what it cost, and what went wrong.

Pure functions of the run folder's contents (:class:`RunData`), each returning plain values
for the template. Counting is done with pandas on whole columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd

from evalkit.records import SuiteRecord
from evalkit.records._status import FAILED_STATUSES
from evalkit.report._load import RunData

#: How many distinct error messages a failure list shows; the rest are counted together.
MAX_MESSAGES: Final = 20
#: Longest error message shown; provider errors can carry whole response bodies.
MAX_MESSAGE_CHARS: Final = 400


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The run's overall outcome, worst gate first: fail > inconclusive > pass."""

    outcome: str  # pass | fail | inconclusive | error | no gates
    headline: str
    counts: Mapping[str, int]


def _of(count: int, total: int) -> str:
    """``the gate`` for one gate, else ``2 of 3 gates`` (or ``all 3 gates``)."""
    if total == 1:
        return "the gate"
    return f"all {total} gates" if count == total else f"{count} of {total} gates"


def overall_outcome(suites: Sequence[SuiteRecord], errors: Mapping[str, str]) -> Outcome:
    """Decide the headline of the page from every suite's gates and the run's errors.

    >>> from evalkit.records._run import GateRecord, ModelRef, SuiteModels
    >>> def gate(outcome):
    ...     return GateRecord(name="g", outcome=outcome, figure=None, low=None, high=None,
    ...                       n=0, threshold=None, message="")
    >>> def suite(*outcomes):
    ...     m = ModelRef(name="m", family="f")
    ...     return SuiteRecord(name="s", models=SuiteModels(candidate=m, baseline=m),
    ...                        gates=[gate(o) for o in outcomes])
    >>> overall_outcome([suite("pass", "fail")], {}).headline
    'FAIL: 1 of 2 gates failed'
    >>> overall_outcome([suite("pass")], {}).headline
    'PASS: the gate passed'
    """
    outcomes = pd.Series([g.outcome for s in suites for g in s.gates], dtype=object)
    counts = {k: int((outcomes == k).sum()) for k in ("pass", "fail", "inconclusive")}
    total = len(outcomes)
    if errors:
        return Outcome("error", f"ERROR: {len(errors)} suite(s) could not run", counts)
    if total == 0:
        return Outcome("none", "NO GATES: this run decides nothing", counts)
    if counts["fail"]:
        return Outcome("fail", f"FAIL: {_of(counts['fail'], total)} failed", counts)
    if counts["inconclusive"]:
        return Outcome(
            "inconclusive",
            f"INCONCLUSIVE: {_of(counts['inconclusive'], total)} could not decide",
            counts,
        )
    return Outcome("pass", f"PASS: {_of(total, total)} passed", counts)


def _usage(rows: pd.DataFrame, label: str, note: str = "") -> dict[str, Any]:
    """Calls, tokens, cost and cache hits of a set of model calls (answers or judgments)."""
    n = len(rows)
    cached = int(rows["cached"].fillna(False).astype(bool).sum()) if n else 0
    # An answer row records its calls (one per turn of a conversation, none when recorded);
    # a judge row, and an answer row written before answers recorded them, is one call.
    calls = int(rows["calls"].fillna(1).sum()) if n and "calls" in rows.columns else n
    return {
        "label": label,
        "note": note,
        "calls": calls,
        "input_tokens": int(rows["input_tokens"].sum()) if n else 0,
        "output_tokens": int(rows["output_tokens"].sum()) if n else 0,
        "cost_usd": float(rows["cost_usd"].sum()) if n else 0.0,
        "cached": cached,
        "cache_share": cached / n if n else None,
    }


def usage(run: RunData) -> dict[str, Any]:
    """Cost and tokens split by who spent them, and the run's cache hit share.

    Returns ``rows`` (candidate answers, baseline answers, judges, and the judges' swapped-
    order calls, which exist only so that the audit can measure position bias) and ``total``
    (answers plus judges: the swapped-order row is part of the judges' row).
    """
    answers, judgments = run.answers, run.judgments
    role = answers["role"] if len(answers) else pd.Series(dtype=object)
    baseline = answers.loc[role == "baseline"]
    rows = [
        _usage(answers.loc[role == "candidate"], "candidate answers"),
        # A run whose suites asked no baseline (scored suites) has no baseline row at all.
        *([_usage(baseline, "baseline answers")] if len(baseline) else []),
        _usage(judgments, "judges"),
        _usage(
            judgments.loc[judgments["order"] == "BA"],
            "audit overhead",
            "the judges' swapped-order (BA) calls, made so that position bias can be measured "
            "and cancelled; included in the judges' row. The audit's statistics make no calls.",
        ),
    ]
    every = pd.concat([answers, judgments], ignore_index=True) if len(answers) else judgments
    total = _usage(every, "total")
    return {"rows": rows, "total": total}


def _grouped(messages: pd.Series) -> list[dict[str, Any]]:
    """Distinct messages with their counts, most frequent first, the tail counted together."""
    if messages.empty:
        return []
    short = messages.astype(str).str.slice(0, MAX_MESSAGE_CHARS)
    counts = short.value_counts()
    out = [{"message": str(m), "count": int(c)} for m, c in counts.head(MAX_MESSAGES).items()]
    rest = int(counts.iloc[MAX_MESSAGES:].sum())
    if rest:
        out.append({"message": f"({len(counts) - MAX_MESSAGES} other messages)", "count": rest})
    return out


def failures(run: RunData) -> dict[str, Any]:
    """Parse failures per judge, failed judge calls and answers by message, and run errors.

    Counted by the ``status`` column, like run.json's counts: a judge call is *unparseable*
    when it returned but carried no verdict the parser could read, and *failed* when its
    status is one of :data:`~evalkit.records._status.FAILED_STATUSES` (the call failed after
    retries, or was not made: the run stopped, or an answer was missing).
    """
    table = run.judgments
    status = table["status"].astype("string")
    unparseable = (status == "unparseable").fillna(False).astype(bool)
    failed = status.isin(FAILED_STATUSES)
    reason = table["error"].astype("string").fillna("")
    # A call that was never made says so before its reason ("not_run: interrupted").
    error = reason.where(status == "failed", status + ": " + reason)
    per_judge = (
        pd.DataFrame(
            {
                "suite": table["suite"],
                "judge": table["judge"],
                "calls": 1,
                "unparseable": unparseable.astype(int),
                "failed": failed.astype(int),
            }
        )
        .groupby(["suite", "judge"], sort=True)
        .sum()
        .reset_index()
    )
    per_judge["unparseable_share"] = per_judge["unparseable"] / per_judge["calls"]
    answers = run.answers
    answer_errors = (
        answers.loc[answers["status"] != "ok", ["role", "status", "error"]]
        if len(answers)
        else pd.DataFrame(columns=["role", "status", "error"])
    )
    # A call that was never made says so before its reason, like the judge calls'.
    answer_reason = answer_errors["error"].astype("string").fillna("")
    answer_reason = answer_reason.where(
        answer_errors["status"] == "failed", answer_errors["status"] + ": " + answer_reason
    )
    return {
        "n_unparseable": int(unparseable.sum()),
        "n_failed": int(failed.sum()),
        "n_answer_errors": len(answer_errors),
        "per_judge": per_judge.to_dict("records"),
        "judge_errors": _grouped(error[failed]),
        "answer_errors": _grouped(answer_errors["role"] + ": " + answer_reason),
        "run_errors": [{"suite": k, "message": v} for k, v in run.run.errors.items()],
    }


def lineage_warnings(suites: Sequence[SuiteRecord]) -> list[dict[str, Any]]:
    """Every suite's lineage and family warnings, each with the number of items it touches."""
    return [{"suite": s.name, **d.model_dump()} for s in suites for d in s.lineage]


def trust_summary(suites: Sequence[SuiteRecord]) -> list[dict[str, Any]]:
    """Per suite, which judges the audit trusts, questions and distrusts (none: not audited)."""
    out = []
    for suite in suites:
        verdicts = suite.audit.verdicts if suite.audit is not None else {}
        out.append(
            {
                "suite": suite.name,
                **{
                    level: sorted(j for j, v in verdicts.items() if v == level)
                    for level in ("trusted", "questionable", "untrusted")
                },
                "n": len(verdicts),
            }
        )
    return out
