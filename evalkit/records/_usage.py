"""What a suite's calls came to: counts by status, cost and tokens, from its two tables.

The one place these are computed: run.json's counts (through :class:`SuiteRecord`), the
re-audit of a judgments table and the report all read them from here, so they cannot
disagree.
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from evalkit.records._run import CallCounts, Costs, FailureGroup, Tokens
from evalkit.records._status import FAILED_STATUSES, status_counts

# What differs between calls failing for one reason: the model called, the retry count.
# A model string is provider/name; a URL (scheme://) is where the call went, and is kept.
_MODEL: Final = r"\b(for|to|answer|of) [\w.-]+/[\w./@-]+(?::[\w.-]+)?"
_ATTEMPTS: Final = r" \(gave up after \d+ attempts\)$"


def failure_kind(error: str) -> str:
    """The reason a call failed, without what differs between calls that failed for it.

    >>> failure_kind("unavailable: could not connect to http://127.0.0.1:9/v1 for "
    ...              "openai/sim-a: connection refused (gave up after 4 attempts)")
    'unavailable: could not connect to http://127.0.0.1:9/v1 for …: connection refused'
    """
    return re.sub(_MODEL, r"\1 …", re.sub(_ATTEMPTS, "", error.strip()))


def failure_groups(*tables: pd.DataFrame) -> list[FailureGroup]:
    """Rows without a result (status ``failed``, ``not_run``, ``no_answer``), grouped by reason.

    Takes any tables with ``status`` and ``error`` columns (judgments, answers); unparseable
    judge replies are not failed calls and are left out. Most frequent reason first.
    """
    parts = [
        t.loc[t["status"].isin(FAILED_STATUSES), ["status", "error"]] for t in tables if len(t)
    ]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rows.empty:
        return []
    kinds = (
        rows["error"].fillna("").astype(str).str.strip()
        .str.replace(_ATTEMPTS, "", regex=True)
        .str.replace(_MODEL, r"\1 …", regex=True)
    )  # fmt: skip
    counts = (
        pd.DataFrame({"status": rows["status"].astype(str), "error": kinds})
        .value_counts(sort=False)
        .reset_index(name="count")
        .sort_values(["count", "status", "error"], ascending=[False, True, True], kind="stable")
    )
    return [FailureGroup.model_validate(r) for r in counts.to_dict("records")]


def _total(frame: pd.DataFrame, *columns: str) -> float:
    present = [c for c in columns if c in frame.columns]
    return float(frame[present].sum().sum()) if len(frame) and present else 0.0


def call_counts(judgments: pd.DataFrame, answers: pd.DataFrame) -> CallCounts:
    """How many answers and judge calls there were, and what became of them.

    ``judgments`` is a typed judgments table (it has ``status``); ``answers`` an answers table
    with ``status`` and ``cached`` (empty when the run kept none).
    """
    counts = status_counts(judgments["status"])
    n_cached = n_failed = 0
    if len(answers):
        n_cached = int(answers["cached"].fillna(False).astype(bool).sum())
        n_failed = int((answers["status"] != "ok").sum())
    n_calls = len(answers)
    if len(answers) and "calls" in answers.columns:
        # Rows written before answers recorded their calls made one call each.
        n_calls = int(answers["calls"].fillna(1).sum())
    return CallCounts(
        answers=len(answers),
        answer_calls=n_calls,
        answers_cached=n_cached,
        answers_failed=n_failed,
        judge=len(judgments),
        judge_cached=int(judgments["cached"].sum()),
        unparseable=counts["unparseable"],
        failed=sum(counts[s] for s in FAILED_STATUSES),
        not_run=counts["not_run"],
        no_answer=counts["no_answer"],
        failures=failure_groups(judgments, answers),
    )


def costs(judgments: pd.DataFrame, answers: pd.DataFrame) -> Costs:
    """What the answers and the judges cost (the audit makes no call)."""
    return Costs(answers=_total(answers, "cost_usd"), judges=_total(judgments, "cost_usd"))


def tokens(judgments: pd.DataFrame, answers: pd.DataFrame) -> Tokens:
    """Input plus output tokens of the answers and of the judges."""
    return Tokens(
        answers=int(_total(answers, "input_tokens", "output_tokens")),
        judges=int(_total(judgments, "input_tokens", "output_tokens")),
    )
