"""What a suite's calls came to: counts by status, cost and tokens, from its two tables.

The one place these are computed: run.json's counts (through :class:`SuiteRecord`), the
re-audit of a judgments table and the report all read them from here, so they cannot
disagree.
"""

from __future__ import annotations

import pandas as pd

from evalkit.records._run import CallCounts, Costs, Tokens
from evalkit.records._status import FAILED_STATUSES, status_counts


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
    return CallCounts(
        answers=len(answers),
        answers_cached=n_cached,
        answers_failed=n_failed,
        judge=len(judgments),
        judge_cached=int(judgments["cached"].sum()),
        unparseable=counts["unparseable"],
        failed=sum(counts[s] for s in FAILED_STATUSES),
        not_run=counts["not_run"],
        no_answer=counts["no_answer"],
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
