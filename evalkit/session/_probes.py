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
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from evalkit.judging._calls import Excluded, JudgeCall
from evalkit.panel import PanelRule, item_verdicts
from evalkit.probes import PROBE_COLUMNS, ProbePair
from evalkit.probes._edits import UNEDITED, EditContext, edit_pair, shown_note
from evalkit.probes._pair import Side
from evalkit.records._answers import Answer, Role
from evalkit.records._dataset import Item
from evalkit.records._judgments import ORDERS, Judgment, Order, judgments_frame
from evalkit.session._engine import ROLES, Caller, SuiteContext, _ask, judge_request, question

#: The shown order's first answer, by the pair's places (AB shows ``a`` first).
_FIRST: Mapping[Order, Side] = {"AB": "a", "BA": "b"}
_PLACE = {"candidate": "a", "baseline": "b", "tie": "tie"}


def sample_items(
    ctx: SuiteContext, candidate: Mapping[str, Answer], baseline: Mapping[str, Answer]
) -> list[Item]:
    """The seeded sample of items to probe: up to ``probe_items`` with both answers, in order.

    The same seed and the same answered items give the same sample (and so the same prompts).
    """
    suite = ctx.suite
    eligible = [
        item for item in ctx.items
        if item.conversation is None
        and candidate.get(item.id) is not None and candidate[item.id].text is not None
        and baseline.get(item.id) is not None and baseline[item.id].text is not None
    ]  # fmt: skip
    return seeded_sample(eligible, suite.probe_items, seed=suite.probe_seed, name=suite.name)


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
) -> dict[str, list[ProbePair]]:
    """Per judge: each unedited pair (unless ``unedited`` is False), then one edit per probe.

    A judge the panel's family policy kept from an item's answers (``skip``) is not shown
    that item's pairs either.
    """
    suite = ctx.suite
    out: dict[str, list[ProbePair]] = {}
    for judge in ctx.panel.judges:
        family = ctx.judges[judge.name].family
        pairs = []
        for base in bases:
            if skip is not None and any(skip(judge.name, base.item_id, r) for r in ROLES):
                continue
            edit = EditContext(preferred.get(base.item_id), family, suite.probe_seed)
            pairs.extend([base] if unedited else [])
            pairs.extend(edit_pair(name, base, edit) for name in suite.probes)
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
        outcome = await _ask(ctx, caller, call, request)
        verdict = outcome.get("verdict")
        row = {column: None for column in PROBE_COLUMNS} | {
            "run_id": ctx.run_id, "suite": pair.suite, "item_id": pair.item_id,
            "probe": pair.probe, "kind": pair.kind, "judge": name,
            "judge_family": ctx.judges[name].family, "order": order, "sample": sample,
            "target": pair.target, "verdict": None if verdict is None else _PLACE[verdict],
            "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "cached": False,
            # Beyond the table's columns: the pair itself, for the report's drill-down.
            # The note names answers by place here, as the report shows them (A = first).
            "first": pair.first, "second": pair.second,
            "note": shown_note(pair, first_shown="a") if pair.note else "",
        }  # fmt: skip
        row |= {k: v for k, v in outcome.items() if k in PROBE_COLUMNS and k != "verdict"}
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


def probe_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The probe table of ``rows``: :data:`~evalkit.probes.PROBE_COLUMNS`, in that order."""
    return pd.DataFrame(list(rows), columns=list(PROBE_COLUMNS))


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
    return await probe_all(ctx, caller, probe_pairs(ctx, bases, preferred, skip=skip), sink)
