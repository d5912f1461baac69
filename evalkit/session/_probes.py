"""Judging bias probes in a run: which pairs, which calls, and the probe table's rows.

After the panel has judged a suite with ``probes=[...]``, :func:`probe_pairs` takes a seeded
sample of ``probe_items`` items that both answers exist for and builds, for every judge, the
unedited pair (candidate = ``a``, baseline = ``b``) and one edited pair per probe
(:func:`evalkit.probes._edits.edit_pair`; the edit goes to the answer the panel did not
prefer). :func:`probe_all` has every judge judge its pairs in both orders, ``samples`` times,
through the same judge templates, :func:`~evalkit.session._engine.judge_request` and caller
as the panel's calls: the same cache, budget, limits, retries and failure rows. The unedited
pair's prompt *is* the panel's prompt, so it is a cache hit, not a new call.

:func:`probe_all` takes any list of :class:`~evalkit.probes.ProbePair` per judge, so exam
pairs (``kind="exam"``) run through it unchanged.

Conversation items are left out of the sample: a probe edits one answer, and a conversation's
judged answer is read in the light of its transcript, which a pair does not carry.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from evalkit.audit._reliability import exam_checks
from evalkit.config import ReliabilityThresholds
from evalkit.errors import ModelError, UsageError
from evalkit.judging._calls import Excluded, JudgeCall
from evalkit.models import ModelRequest
from evalkit.panel import PanelRule, item_verdicts
from evalkit.probes import PROBE_COLUMNS, ProbePair
from evalkit.probes._edits import (
    REWRITE_TEMPLATE,
    SELF_REWRITE,
    UNEDITED,
    EditContext,
    edit_pair,
    shown_note,
    target_side,
)
from evalkit.probes._exam_stats import exam_accuracy
from evalkit.probes._pair import Side
from evalkit.probes._stats import probe_checks, probe_stats
from evalkit.records._answers import Answer, Role
from evalkit.records._dataset import Item
from evalkit.records._judgments import ORDERS, Judgment, Order, judgments_frame
from evalkit.session._engine import (
    ROLES,
    Caller,
    SuiteContext,
    _ask,
    _failure,
    _request,
    judge_request,
    question,
)

#: The shown order's first answer, by the pair's places (AB shows ``a`` first).
_FIRST: Mapping[Order, Side] = {"AB": "a", "BA": "b"}
_PLACE = {"candidate": "a", "baseline": "b", "tie": "tie"}


def sample_items(
    ctx: SuiteContext, candidate: Mapping[str, Answer], baseline: Mapping[str, Answer]
) -> list[Item]:
    """The items to probe, in order: those :func:`ranked_ids` draws that have both answers.

    Drawn over the suite's whole dataset, not over this run's items, so that a shard probes
    exactly the sampled items it holds and the shards merged probe what one process would.
    An item of the sample without both answers is not probed (the sample is not refilled).
    """
    suite = ctx.suite
    singles = [item.id for item in ctx.all_items() if item.conversation is None]
    chosen = ranked_ids(singles, suite.probe_items, seed=suite.probe_seed, name=suite.name)
    return [
        item for item in ctx.items
        if item.id in chosen
        and candidate.get(item.id) is not None and candidate[item.id].text is not None
        and baseline.get(item.id) is not None and baseline[item.id].text is not None
    ]  # fmt: skip


def ranked_ids(ids: Sequence[str], n: int | None, *, seed: int, name: str) -> frozenset[str]:
    """The ``n`` of ``ids`` (all when None) that rank first in a seeded order.

    Each id's rank is the SHA-256 of (``seed``, ``name``, id): stable across processes and
    machines, and independent of the other ids — so a shard, holding some of a dataset's items,
    finds among them exactly the ones a draw over the whole dataset chose.

    >>> sorted(ranked_ids(["q0", "q1", "q2", "q3"], 2, seed=0, name="s"))
    ['q1', 'q2']
    """
    key = f"{seed}\x1f{name}\x1f"
    ranked = sorted(ids, key=lambda i: hashlib.sha256((key + i).encode()).digest())
    return frozenset(ranked if n is None else ranked[:n])


def seeded_sample(items: Sequence[Item], n: int, *, seed: int, name: str) -> list[Item]:
    """Up to ``n`` of ``items``, drawn by ``seed`` and ``name``, in their order.

    >>> [i.id for i in seeded_sample([Item(f"q{k}", {}) for k in range(5)], 2, seed=0, name="s")]
    ['q2', 'q4']
    """
    chosen = set(random.Random(f"{seed}:{name}").sample(range(len(items)), min(n, len(items))))
    return [item for i, item in enumerate(items) if i in chosen]


def panel_preference(judged: pd.DataFrame, rule: PanelRule) -> dict[str, Side | None]:
    """Each item's panel verdict on the unedited pair as a place (``a``/``b``), None for a tie.

    A majority of the judges' combined orders under the suite's disagreement rule: the
    reliability weights of a ``weighted`` panel do not exist before the audit, and the
    preference only chooses which answer each probe edits.
    """
    pairwise = judged.loc[judged["mode"] == "pairwise"]
    if pairwise.empty:
        return {}
    majority = dataclasses.replace(rule, aggregation="majority")
    panel = item_verdicts(pairwise, majority)["pairwise"]
    out: dict[str, Side | None] = {}
    for item_id, verdict in zip(panel["item_id"], panel["verdict"], strict=True):
        place = _PLACE.get(str(verdict))
        out[str(item_id)] = place if place in ("a", "b") else None  # type: ignore[assignment]
    return out


def unedited_pairs(
    ctx: SuiteContext, items: Sequence[Item], first: Mapping[str, str], second: Mapping[str, str]
) -> list[ProbePair]:
    """Each item's pair as it is: ``first`` (``a``) and ``second`` (``b``) by item id."""
    return [
        ProbePair(ctx.suite.name, item.id, UNEDITED, "probe", question(ctx, item),
                  first[item.id], second[item.id], "a")
        for item in items
    ]  # fmt: skip


def probe_pairs(
    ctx: SuiteContext,
    bases: Sequence[ProbePair],
    preferred: Mapping[str, Side | None],
    *,
    skip: Excluded | None = None,
    unedited: bool = True,
    rewrites: Mapping[tuple[str, str], str] | None = None,
) -> dict[str, list[ProbePair]]:
    """Per judge: each unedited pair (unless ``unedited`` is False), then one edit per probe.

    A judge the panel's family policy kept from an item's answers (``skip``) is not shown
    that item's pairs either. ``rewrites`` are the judges' paraphrases (see
    :func:`rewrites`); a self-rewrite pair without one is left out (its failure is a row).
    """
    suite = ctx.suite
    out: dict[str, list[ProbePair]] = {}
    for judge in ctx.panel.judges:
        family = ctx.judges[judge.name].family
        pairs = []
        for base in bases:
            if skip is not None and any(skip(judge.name, base.item_id, r) for r in ROLES):
                continue
            rewrite = (rewrites or {}).get((judge.name, base.item_id))
            edit = EditContext(preferred.get(base.item_id), family, suite.probe_seed, rewrite)
            pairs.extend([base] if unedited else [])
            pairs.extend(
                edit_pair(name, base, edit)
                for name in suite.probes
                if name != SELF_REWRITE or rewrite is not None
            )
        out[judge.name] = pairs
    return out


def probe_calls(ctx: SuiteContext, pairs: Mapping[str, Sequence[ProbePair]]) -> int:
    """How many judge calls :func:`probe_all` makes on ``pairs`` (before repairs)."""
    samples = {j.name: j.spec.samples for j in ctx.panel.judges}
    return sum(len(ps) * samples[name] * len(ORDERS) for name, ps in pairs.items())


async def probe_all(
    ctx: SuiteContext,
    caller: Caller,
    pairs: Mapping[str, Sequence[ProbePair]],
    sink: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Have each judge judge its pairs in both orders; one probe-table row per call.

    Rows (:data:`~evalkit.probes.PROBE_COLUMNS`) are appended to ``sink`` as calls complete;
    ``verdict`` and ``target`` name the pair's places (``a`` = ``first``), whatever the order.
    """
    judges = {judge.name: judge for judge in ctx.panel.judges}
    items = {item.id: item for item in ctx.items}

    async def one(name: str, pair: ProbePair, sample: int, order: Order) -> dict[str, Any]:
        judge = judges[name]
        call = JudgeCall(items[pair.item_id], judge, sample, order=order)
        asked = pair.question
        if pair.note:
            asked = f"{asked}\n\n{shown_note(pair, first_shown=_FIRST[order])}"
        answers: dict[Role, str] = {"candidate": pair.first, "baseline": pair.second}
        request = judge_request(ctx, call, answers, asked=asked)
        row = probe_row(ctx, pair, name, sample, order, await _ask(ctx, caller, call, request))
        sink(row)
        return row

    calls = [
        one(name, pair, sample, order)
        for name, judge_pairs in pairs.items()
        for pair in judge_pairs
        for sample in range(judges[name].spec.samples)
        for order in ORDERS
    ]
    return list(await asyncio.gather(*calls))


def probe_row(
    ctx: SuiteContext,
    pair: ProbePair,
    judge: str,
    sample: int,
    order: Order,
    outcome: Mapping[str, Any],
) -> dict[str, Any]:
    """The probe-table row of ``judge``'s call on ``pair`` (``outcome``: see ``_ask``)."""
    verdict = outcome.get("verdict")
    row = {column: None for column in PROBE_COLUMNS} | {
        "run_id": ctx.run_id, "suite": pair.suite, "item_id": pair.item_id,
        "probe": pair.probe, "kind": pair.kind, "judge": judge,
        "judge_family": ctx.judges[judge].family, "order": order, "sample": sample,
        "target": pair.target, "verdict": None if verdict is None else _PLACE[verdict],
        "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "cached": False,
        # Beyond the table's columns: the pair itself, for the report's drill-down.
        # The note names answers by place here, as the report shows them (A = first).
        "question": pair.question, "first": pair.first, "second": pair.second,
        "note": shown_note(pair, first_shown="a") if pair.note else "",
    }  # fmt: skip
    return row | {k: v for k, v in outcome.items() if k in PROBE_COLUMNS and k != "verdict"}


def check_rewriters(ctx: SuiteContext) -> None:
    """Refuse the self-rewrite probe for a judge whose model cannot be asked to paraphrase.

    Raises:
        UsageError: a judge is prompted as a completion (base) model, naming it.
    """
    if SELF_REWRITE not in ctx.suite.probes:
        return
    for name, endpoint in ctx.judges.items():
        if endpoint.prompt_style != "chat":
            raise UsageError(
                f"suite {ctx.suite.name!r}: probe {SELF_REWRITE!r} has each judge's own model "
                f"paraphrase an answer, but judge {name!r} ({endpoint.name}) is prompted as a "
                "completion model, which continues text instead of following an instruction; "
                f"leave {SELF_REWRITE!r} out of probes, or use chat judges"
            )


def rewrite_request(ctx: SuiteContext, judge: str, question: str, answer: str) -> ModelRequest:
    """The call that has ``judge``'s own model paraphrase ``answer`` (self-rewrite)."""
    content = ctx.templates.render(REWRITE_TEMPLATE, {"question": question, "answer": answer})
    spec = next(j.spec for j in ctx.panel.judges if j.name == judge)
    return _request(ctx.judges[judge], content, system=None, params=ctx.suite.answer_params,
                    timeout_s=spec.timeout_s)  # fmt: skip


async def rewrites(
    ctx: SuiteContext,
    caller: Caller,
    bases: Sequence[ProbePair],
    preferred: Mapping[str, Side | None],
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """Each judge's paraphrase of each pair's target, by (judge, item id), and the failures.

    Empty unless the suite runs the self-rewrite probe. A failed or empty paraphrase is a
    failure (its message), to be recorded as failed rows, never dropped.
    """
    if SELF_REWRITE not in ctx.suite.probes:
        return {}, {}

    async def one(judge: str, base: ProbePair) -> str | ModelError:
        edit = EditContext(preferred.get(base.item_id), seed=ctx.suite.probe_seed)
        side = target_side(SELF_REWRITE, base, edit)
        answer = base.first if side == "a" else base.second
        try:
            done = await caller.complete(rewrite_request(ctx, judge, base.question, answer))
        except ModelError as exc:
            return exc
        return done.text.strip()

    asked = [(judge.name, base) for judge in ctx.panel.judges for base in bases]
    results = await asyncio.gather(*(one(judge, base) for judge, base in asked))
    keys = [(judge, base.item_id) for judge, base in asked]
    done: dict[tuple[str, str], str] = {}
    failed: dict[tuple[str, str], str] = {}
    for key, result in zip(keys, results, strict=True):
        if isinstance(result, ModelError):
            failed[key] = f"rewrite call failed: {_failure(result)['error']}"
        elif not result:
            failed[key] = "rewrite call failed: empty answer"
        else:
            done[key] = result
    return done, failed


def rewrite_failures(
    ctx: SuiteContext,
    bases: Sequence[ProbePair],
    preferred: Mapping[str, Side | None],
    failed: Mapping[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """The rows of the self-rewrite pairs that could not be made: status failed, with why."""
    judges = {judge.name: judge for judge in ctx.panel.judges}
    rows: list[dict[str, Any]] = []
    for base in bases:
        edit = EditContext(preferred.get(base.item_id), seed=ctx.suite.probe_seed)
        pair = dataclasses.replace(
            base, probe=SELF_REWRITE, target=target_side(SELF_REWRITE, base, edit)
        )
        for name, judge in judges.items():
            if (name, base.item_id) not in failed:
                continue
            outcome = {"status": "failed", "error": failed[(name, base.item_id)]}
            rows.extend(
                probe_row(ctx, pair, name, sample, order, outcome)
                for sample in range(judge.spec.samples)
                for order in ORDERS
            )
    return rows


def probe_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The probe table of ``rows``: :data:`~evalkit.probes.PROBE_COLUMNS`, in that order."""
    return pd.DataFrame(list(rows), columns=list(PROBE_COLUMNS))


def probe_findings(
    table: pd.DataFrame, thresholds: ReliabilityThresholds, *, confidence: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The probe table's statistics, the exam's accuracy, and both sources' check rows joined.

    Bias probes and the exam share the probe table; each adds its own check rows to the
    judges' reliability verdict. One place for a suite's run and ``evalkit probe``.
    """
    stats = probe_stats(table, confidence=confidence, alpha=thresholds.probe_alpha, seed=seed)
    accuracy = exam_accuracy(table, confidence)
    checks = pd.concat(
        [probe_checks(stats, thresholds), exam_checks(accuracy, thresholds)], ignore_index=True
    )
    return stats, accuracy, checks


async def run_probes(
    ctx: SuiteContext,
    caller: Caller,
    candidate: Mapping[str, Answer],
    baseline: Mapping[str, Answer],
    rule: PanelRule,
    judged: Sequence[Judgment],
    skip: Excluded,
    sink: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Probe the suite's judges once the panel has judged it (see the module docstring)."""
    items = sample_items(ctx, candidate, baseline)
    first, second = (
        {k: a.text for k, a in answers.items() if a.text is not None}
        for answers in (candidate, baseline)
    )
    bases = unedited_pairs(ctx, items, first, second)
    preferred = panel_preference(judgments_frame(judged), rule)
    made, failed = await rewrites(ctx, caller, bases, preferred)
    pairs = probe_pairs(ctx, bases, preferred, skip=skip, rewrites=made)
    unmade = rewrite_failures(ctx, bases, preferred, failed)
    for row in unmade:
        sink(row)
    return unmade + await probe_all(ctx, caller, pairs, sink)
