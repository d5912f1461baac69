"""The leaderboard of a run folder whose table has several candidates, for both pages.

A suite whose run.json carries no leaderboard (a run from before evalkit recorded one, or a
table judged elsewhere) gets one here, computed by :mod:`evalkit.leaderboard` from the
judgments table under the panel rule the suite recorded, so that ``evalkit report`` and
``evalkit compare`` show it without a model call.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalkit.panel import PanelRule
from evalkit.records import RunRecord, SuiteRecord
from evalkit.records._run import LeaderboardRecord
from evalkit.report._charts import IntervalChart, interval_chart
from evalkit.report._redact import redact_data


def _rule(suite: SuiteRecord) -> tuple[PanelRule, dict[str, float] | None]:
    """The suite's recorded panel rule, and its judges' weights when the rule needs them."""
    audit = suite.audit
    rule = PanelRule(**audit.rule) if audit is not None and audit.rule else PanelRule()
    if rule.aggregation != "weighted" or audit is None:
        return rule, None
    verdicts = pd.DataFrame(
        {"judge": list(audit.verdicts), "verdict": list(audit.verdicts.values())}
    )
    return rule, rule.judge_weights(verdicts)


def suite_leaderboard(
    suite: SuiteRecord, judgments: pd.DataFrame, *, seed: int
) -> LeaderboardRecord | None:
    """The suite's leaderboard when its pairwise rows judge more than one candidate, else None.

    Raises:
        UsageError: the table cannot be ranked (see :func:`evalkit.leaderboard.leaderboard`).
    """
    if not len(judgments) or "candidate" not in judgments.columns:
        return None
    rows = judgments.loc[(judgments["suite"] == suite.name) & (judgments["mode"] == "pairwise")]
    if rows["candidate"].nunique() < 2:
        return None
    # Imported here: the fit needs scipy, which a report with no leaderboard (most of them)
    # should not wait for at the end of every run.
    from evalkit.leaderboard import leaderboard

    rule, weights = _rule(suite)
    confidence = suite.audit.confidence if suite.audit is not None else 0.95
    # The recorded baseline anchors the ratings, unless it was judged as a candidate too
    # (a re-audited table records its first row's models): then the table tells.
    recorded = suite.models.baseline.name if suite.models.baseline is not None else None
    taken = set(rows["candidate"].astype(str))
    baseline = recorded if recorded is not None and recorded not in taken else None
    board = leaderboard(
        rows, rule, baseline=baseline, judge_weights=weights, seed=seed, confidence=confidence
    )
    return LeaderboardRecord.model_validate(board.to_dict())


def with_leaderboards(run: RunRecord, judgments: pd.DataFrame, *, seed: int) -> RunRecord:
    """``run`` with a leaderboard on every suite that judged several candidates and has none."""
    suites = [
        s
        if s.leaderboard is not None
        else s.model_copy(update={"leaderboard": suite_leaderboard(s, judgments, seed=seed)})
        for s in run.suites
    ]
    return run.model_copy(update={"suites": suites})


def leaderboard_pairs(a: RunRecord, b: RunRecord) -> list[dict[str, Any]]:
    """Per suite with a leaderboard in either run: each model's standing in A and in B.

    A model's rating *moved* when both runs ranked it and its two intervals do not overlap.
    """
    out = []
    names = sorted({s.name for run in (a, b) for s in run.suites if s.leaderboard is not None})
    for name in names:
        boards = {
            side: next((s.leaderboard for s in run.suites if s.name == name), None)
            for side, run in (("a", a), ("b", b))
        }
        rows: dict[str, dict[str, Any]] = {}
        for side, board in boards.items():
            for standing in board.standings if board is not None else []:
                empty = {"model": standing.model, "a": None, "b": None}
                rows.setdefault(standing.model, empty)[side] = standing.model_dump()
        for entry in rows.values():
            sa, sb = entry["a"], entry["b"]
            entry["moved"] = bool(
                sa and sb and sa["rating"] is not None and sb["rating"] is not None
                and not sa["is_baseline"]
                and (sa["low"] > sb["high"] or sb["low"] > sa["high"])
            )  # fmt: skip
        # B's order first (the later run), then A's; models ranked in neither last.
        order = sorted(rows.values(), key=lambda e: _rank(e["b"]) or _rank(e["a"]) or 10**9)
        out.append({"suite": redact_data(name), "models": redact_data(order)})
    return out


def _rank(standing: dict[str, Any] | None) -> int | None:
    return standing["rank"] if standing else None


def recorded_pairs(judgments: pd.DataFrame, suites: list[SuiteRecord]) -> pd.DataFrame:
    """The rows of each suite's recorded candidate and baseline (every row of other suites).

    The page's per-item views compare one candidate with the baseline; where an item was
    judged for several candidates they show the suite's recorded pair, and the leaderboard
    shows the rest. A log whose items each have their own pair (MT-Bench's human judgments:
    model_a vs model_b per question) keeps every row.
    """
    if not len(judgments) or "candidate" not in judgments.columns:
        return judgments
    keep = pd.Series(True, index=judgments.index)
    for suite in suites:
        mine = (judgments["suite"] == suite.name) & (judgments["mode"] == "pairwise")
        pairs = judgments.loc[mine, ["item_id", "candidate", "baseline"]].drop_duplicates()
        if not pairs["item_id"].duplicated().any() or suite.models.baseline is None:
            continue
        pair = (judgments["candidate"] == suite.models.candidate.name) & (
            judgments["baseline"] == suite.models.baseline.name
        )
        keep &= ~mine | pair
    return judgments.loc[keep]


def win_rate_chart(board: LeaderboardRecord | None) -> IntervalChart | None:
    """Each ranked candidate's implied win rate against the baseline, with its interval."""
    if board is None:
        return None
    rows = [
        {
            "label": s.model,
            "estimate": s.win_rate,
            "low": s.win_low,
            "high": s.win_high,
            "note": f"#{s.rank}",
        }
        for s in board.standings
        if s.rank is not None and not s.is_baseline
    ]
    return interval_chart(redact_data(rows))
