"""Judging the qualification exam in a run: its pairs, through the probes' runner.

Once the suite's answers are graded, :func:`run_exam` builds the exam
(:func:`evalkit.probes._exam.exam_plan`: graded pairs and planted errors, a seeded sample of
``Suite(exam=N)`` items) and has every judge judge it in both orders with
:func:`~evalkit.session._probes.probe_all`: the same templates, cache, budget and failure rows
as every call. A judge the family policy keeps from an item's answers is not shown its pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evalkit.judging._calls import Excluded
from evalkit.probes._exam import capped, exam_candidates, exam_plan, exam_size
from evalkit.records._answers import Answer
from evalkit.records._judgments import Judgment, judgments_frame
from evalkit.session._engine import ROLES, Caller, SuiteContext, question
from evalkit.session._probes import probe_all, ranked_ids


async def run_exam(
    ctx: SuiteContext,
    caller: Caller,
    candidate: Mapping[str, Answer],
    baseline: Mapping[str, Answer],
    graded: Sequence[Judgment],
    skip: Excluded,
    sink: Callable[[dict[str, Any]], None],
    *,
    seed: int,
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Judge the suite's exam: its probe-table rows, and the plan's notes (capped, unmeasurable)."""
    suite = ctx.suite
    n = exam_size(suite.name, suite.exam)
    # Drawn over the whole dataset's items that may have a known answer (as the dry run counts
    # them), so that a shard examines exactly the drawn items it holds, the shards merged
    # examine what one process would, and every shard notes the same cap as one process.
    qualifying = exam_candidates(
        ctx.all_items(), has_graders=bool(suite.graders), reference_field=suite.reference_field
    )
    drawn = ranked_ids([i.id for i in qualifying], n, seed=seed, name=suite.name)
    items = [item for item in ctx.items if item.id in drawn]
    plan = exam_plan(
        suite.name, items, [*candidate.values(), *baseline.values()],
        judgments_frame(graded), seed=seed, reference_field=suite.reference_field,
        questions={item.id: question(ctx, item) for item in items},
    )  # fmt: skip
    notes = [] if n is None or n <= len(qualifying) else [capped(suite.name, n, len(qualifying))]
    # The plan's own note (no drawn item gave a pair) speaks for the whole exam only where
    # every drawn item is at hand: a shard holding none of them has nothing to say of the rest.
    if drawn <= {item.id for item in ctx.items}:
        notes += plan.notes
    pairs = {
        judge.name: [
            p for p in plan.pairs if not any(skip(judge.name, p.item_id, r) for r in ROLES)
        ]
        for judge in ctx.panel.judges
    }
    return await probe_all(ctx, caller, pairs, sink), tuple(notes)
