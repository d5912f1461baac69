"""Rendering a run as one self-contained HTML page: no network, no external script or style.

Everything the page shows comes from the run folder (see :func:`load_run`), so an old run can
be re-rendered at no cost. Model output is untrusted text: every value read from the run goes
through :mod:`evalkit.report._redact`, the templates autoescape it, the item data is embedded
as escaped JSON, and the page's script writes it with ``textContent`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evalkit.panel import combine_orders
from evalkit.records import SuiteRecord
from evalkit.report._charts import (
    interval_chart,
    kappa_heatmap,
    length_chart,
    score_bars,
    verdict_bars,
)
from evalkit.report._env import ENV
from evalkit.report._exam import suite_exam
from evalkit.report._items import ItemData, item_data
from evalkit.report._judges import human_rows, judge_rows, panel_figures
from evalkit.report._leaderboard import recorded_pairs, win_rate_chart
from evalkit.report._load import RunData, panel_frame, run_view
from evalkit.report._probes import probe_view
from evalkit.report._redact import redact_data
from evalkit.report._summary import (
    failures,
    lineage_warnings,
    overall_outcome,
    trust_summary,
    usage,
)


def _combined(judgments: pd.DataFrame, suites: list[SuiteRecord]) -> pd.DataFrame:
    """Each judge's combined verdict per item, under the panel rule each suite recorded.

    Empty when no row is pairwise. A suite recorded without a rule (an older run) combines
    disagreeing orders as a tie, the default rule.
    """
    rules = {s.name: (s.audit.rule if s.audit is not None else None) or {} for s in suites}
    parts = [
        combine_orders(rows, rules.get(str(name), {}).get("disagreement", "tie"))
        for name, rows in judgments.loc[judgments["mode"] == "pairwise"].groupby("suite")
    ]
    if not parts:
        return pd.DataFrame(columns=["suite", "item_id", "judge", "verdict", "consistent"])
    return pd.concat(parts, ignore_index=True)


def _suite_view(
    suite: SuiteRecord,
    view: Mapping[str, Any],
    judgments: pd.DataFrame,
    combined: pd.DataFrame,
    panel: pd.DataFrame,
    probes: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the page shows for one suite (``view``: its redacted plain data)."""
    # The audit's tables are rows of plain data; the dashboard helpers read them as such.
    audit: Mapping[str, Any] = view["audit"] or {}
    name = suite.name
    rows = judgments.loc[judgments["suite"] == name]
    mine = combined.loc[combined["suite"] == name] if len(combined) else combined
    judges = [j.name for j in suite.models.judges]
    judges = judges or sorted(rows["judge"].astype(str).unique())
    thresholds = suite.audit.thresholds if suite.audit is not None else {}
    position = (suite.audit.position if suite.audit is not None else []) or suite.position
    fp_rows = [
        {
            "label": p["judge"],
            "estimate": p.get("first_position_rate"),
            "low": p.get("fp_low"),
            "high": p.get("fp_high"),
            "note": f"n={p.get('n_decisive')}",
        }
        for p in position
    ]
    return {
        **view,
        "confidence": suite.audit.confidence if suite.audit is not None else 0.95,
        "judges": judge_rows(audit),
        "human": human_rows(audit),
        "panel_figures": panel_figures(audit),
        "tests": audit.get("tests", []),
        "fp_chart": interval_chart(fp_rows, tolerance=thresholds.get("max_position_skew")),
        "heatmap": kappa_heatmap(audit.get("agreement", [])),
        "length_chart": length_chart(rows, judges),
        "verdict_bars": verdict_bars(mine, panel.loc[panel["suite"] == name], judges)
        if len(mine)
        else None,
        "score_bars": score_bars(rows),
        "leaderboard_chart": win_rate_chart(suite.leaderboard),
        "probes": redact_data(probe_view(suite, pd.DataFrame() if probes is None else probes)),
    }


def render(run: RunData) -> str:
    """Render the run as a standalone HTML document.

    Pure: reads only ``run``, calls no model, writes no file.

    Raises:
        UsageError: the judgments table is invalid (it could not have been audited either).
    """
    record = run.run
    panel = panel_frame(record)
    info = redact_data(run_view(record))
    judgments = recorded_pairs(run.judgments, list(record.suites))
    combined = _combined(judgments, list(record.suites))
    items: ItemData = item_data(judgments, run.answers, combined, panel)
    views = [
        {**_suite_view(s, v, judgments, combined, panel, run.probes), "exam": suite_exam(run, s)}
        for s, v in zip(record.suites, info["suites"], strict=True)
    ]
    lineage = redact_data(lineage_warnings(record.suites))
    fails = failures(run)
    fails = redact_data(fails)
    started, finished = record.started, record.finished
    warning_count = (
        len(lineage) + fails["n_unparseable"] + fails["n_failed"] + fails["n_answer_errors"]
        + len(fails["run_errors"])
    )  # fmt: skip
    return ENV.get_template("report.html.j2").render(
        run=info,
        outcome=overall_outcome(record.suites, record.errors),
        trust=redact_data(trust_summary(record.suites)),
        suites=views,
        usage=usage(run),
        failures=fails,
        lineage=lineage,
        warning_count=warning_count,
        items=items,
        duration=(finished - started) if started is not None and finished is not None else None,
        partial=None if record.shard is None else record.shard.note(),
        cache_lost=redact_data([o.note(started) for o in record.cache_outages]),
    )
