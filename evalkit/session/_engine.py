"""Running one suite: ask the candidate and the baseline, then the panel, in both orders.

All calls of a phase are issued at once and bounded by the model layer's per-model limits, so
a suite costs about the wall time of its slowest batch. Rows are appended to the run folder as
each call completes, so nothing finished is lost if the run dies. The engine only reads and
writes tables; every statistic is computed afterwards from the judgments table.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from evalkit.errors import ModelError, SpecError
from evalkit.judging import Judge, Panel, Templates, present, to_verdict
from evalkit.models import Completion, ModelRequest
from evalkit.records import Answer, Item, Judgment, Order, Role
from evalkit.session._endpoints import Endpoint
from evalkit.session._suite import Suite

ANSWER_TEMPLATE = "answer_completion.j2"


class Caller(Protocol):
    """The part of :class:`evalkit.models.ModelClient` the engine uses."""

    async def complete(
        self, request: ModelRequest, *, validate: Callable[[Completion], bool] | None = None
    ) -> Completion:
        """Return the answer (cached only if ``validate`` accepts it), or raise ModelError."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class LineageDecision:
    """A judge shares a family with a model whose answer or items it judges."""

    judge: str
    family: str
    shared_with: str  # "candidate", "baseline" or "generator"
    policy: str
    items: int

    def message(self) -> str:
        """One line for the terminal and the report."""
        action = "excluded for those items" if self.policy == "exclude" else "kept (policy warn)"
        return (
            f"judge {self.judge} is from the {self.family} family, like the {self.shared_with} "
            f"on {self.items} item(s): {action}; its verdicts there may measure self-agreement"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class SuiteContext:
    """Everything the engine needs to run one suite."""

    run_id: str
    suite: Suite
    items: Sequence[Item]
    candidate: Endpoint
    baseline: Endpoint
    panel: Panel
    judges: Mapping[str, Endpoint]
    templates: Templates


def prompt_hash(request: ModelRequest) -> str:
    """A short hash of what the model was shown and how it was sampled."""
    data = {
        "model": request.model,
        "messages": [dict(m) for m in request.messages],
        "prompt": request.prompt,
        "params": dict(sorted(request.params.items())),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _request(
    endpoint: Endpoint,
    content: str,
    *,
    system: str | None,
    params: Mapping[str, Any],
    sample: int = 0,
) -> ModelRequest:
    if endpoint.prompt_style == "completion":
        return ModelRequest(
            model=endpoint.model, prompt=content, params=dict(params),
            api_base=endpoint.api_base, sample=sample, api_key=endpoint.api_key,
            cache_scope=endpoint.cache_scope,
        )  # fmt: skip
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": content}
    ]
    return ModelRequest(
        model=endpoint.model, messages=tuple(messages), params=dict(params),
        api_base=endpoint.api_base, sample=sample, api_key=endpoint.api_key,
        cache_scope=endpoint.cache_scope,
    )  # fmt: skip


def answer_request(ctx: SuiteContext, item: Item, endpoint: Endpoint) -> ModelRequest:
    """The call that asks ``endpoint`` the item's question, in the endpoint's prompt style."""
    suite = ctx.suite
    where = f"suite {suite.name!r} prompt, item {item.id!r}"
    question = ctx.templates.render_string(suite.prompt, item.fields, where=where)
    params = dict(suite.answer_params)
    if endpoint.prompt_style == "completion":
        content = ctx.templates.render(
            ANSWER_TEMPLATE, {"prompt": question, "system": suite.system}
        )
        # A base model keeps writing the next few-shot example unless stopped.
        params.setdefault("stop", ["\nQuestion:", "\n\n"])
        return _request(endpoint, content, system=None, params=params)
    return _request(endpoint, question, system=suite.system, params=params)


def judge_request(
    ctx: SuiteContext, judge: Judge, item: Item, order: Order, answers: tuple[str, str], sample: int
) -> ModelRequest:
    """The call that asks ``judge`` to compare the two answers shown in ``order``."""
    answer_a, answer_b = present(order, candidate=answers[0], baseline=answers[1])
    where = f"suite {ctx.suite.name!r} prompt, item {item.id!r}"
    question = ctx.templates.render_string(ctx.suite.prompt, item.fields, where=where)
    variables = {"question": question, "answer_a": answer_a, "answer_b": answer_b}
    content = ctx.templates.render(judge.spec.template, variables)
    endpoint = ctx.judges[judge.name]
    return _request(
        endpoint, content, system=judge.spec.system, params=judge.spec.params, sample=sample
    )


def lineage(ctx: SuiteContext) -> tuple[list[LineageDecision], set[tuple[str, str]]]:
    """Apply the panel's family policy: the decisions made, and the (judge, item) pairs to skip.

    Raises:
        SpecError: the policy is ``error`` and a judge shares a family with a judged model.
    """
    policy = ctx.panel.spec.family_policy
    decisions: list[LineageDecision] = []
    skip: set[tuple[str, str]] = set()
    for judge in ctx.panel.judges:
        family = ctx.judges[judge.name].family
        if family == "unknown":
            continue
        for role, fam, items in (
            ("candidate", ctx.candidate.family, list(ctx.items)),
            ("baseline", ctx.baseline.family, list(ctx.items)),
            ("generator", None, [i for i in ctx.items if i.generator_family == family]),
        ):
            hit = items if fam is None or fam == family else []
            if not hit:
                continue
            if policy == "error":
                raise SpecError(
                    f"panel {ctx.panel.name!r}: judge {judge.name} is from the {family} family, "
                    f"like the {role}; pick a judge from another family, or set family_policy "
                    "to warn or exclude in the panel spec"
                )
            decisions.append(LineageDecision(judge.name, family, role, policy, len(hit)))
            if policy == "exclude":
                skip.update((judge.name, i.id) for i in hit)
    return decisions, skip


def _error_text(exc: BaseException) -> str:
    kind = getattr(exc, "kind", type(exc).__name__)
    return f"{kind}: {exc}"


async def answer_all(
    ctx: SuiteContext,
    caller: Caller,
    role: Role,
    endpoint: Endpoint,
    sink: Callable[[Answer], None],
) -> dict[str, Answer]:
    """Ask ``endpoint`` every item's question concurrently; append each answer as it lands."""

    async def one(item: Item) -> Answer:
        request = answer_request(ctx, item, endpoint)
        text: str | None = None
        error: str | None = None
        completion: Completion | None = None
        try:
            completion = await caller.complete(request)
            text = completion.text.strip()
            if not text:
                text, error = None, "empty answer"
        except ModelError as exc:
            error = _error_text(exc)
        answer = Answer(
            run_id=ctx.run_id, suite=ctx.suite.name, item_id=item.id, role=role,
            model=endpoint.name, family=endpoint.family,
            prompt=request.prompt if request.prompt is not None else request.messages[-1]["content"],
            text=text, error=error,
            latency_s=completion.latency_s if completion else 0.0,
            input_tokens=completion.input_tokens if completion else 0,
            output_tokens=completion.output_tokens if completion else 0,
            cost_usd=completion.cost_usd if completion else 0.0,
            cached=completion.cached if completion else False,
        )  # fmt: skip
        sink(answer)
        return answer

    answers = await asyncio.gather(*(one(item) for item in ctx.items))
    return {a.item_id: a for a in answers}


async def judge_all(
    ctx: SuiteContext,
    caller: Caller,
    candidate: Mapping[str, Answer],
    baseline: Mapping[str, Answer],
    skip: set[tuple[str, str]],
    sink: Callable[[Judgment], None],
) -> list[Judgment]:
    """Have every judge compare every item's two answers in both orders, concurrently."""

    def row(item: Item, judge: Judge, order: Order | None, sample: int, **fields: Any) -> Judgment:
        cand, base = candidate[item.id], baseline[item.id]
        values: dict[str, Any] = {
            "run_id": ctx.run_id, "suite": ctx.suite.name, "item_id": item.id,
            "mode": "pairwise", "candidate": ctx.candidate.name,
            "candidate_family": ctx.candidate.family, "baseline": ctx.baseline.name,
            "baseline_family": ctx.baseline.family, "judge": judge.name,
            "judge_family": ctx.judges[judge.name].family, "order": order, "sample": sample,
            "prompt_hash": "", "raw_output": None, "verdict": None, "score": None,
            "parse_ok": False, "error": None, "latency_s": 0.0, "input_tokens": 0,
            "output_tokens": 0, "cost_usd": 0.0, "cached": False,
            "human_label": item.human_label,
            "len_candidate": cand.output_tokens if cand.text is not None else None,
            "len_baseline": base.output_tokens if base.text is not None else None,
            "generator_family": item.generator_family,
        }  # fmt: skip
        values.update(fields)
        return Judgment(**values)

    async def one(item: Item, judge: Judge, order: Order, sample: int) -> Judgment:
        cand, base = candidate[item.id], baseline[item.id]
        if cand.text is None or base.text is None:
            missing = "candidate" if cand.text is None else "baseline"
            return row(item, judge, order, sample, error=f"not judged: no {missing} answer")
        request = judge_request(ctx, judge, item, order, (cand.text, base.text), sample)
        try:
            # An unreadable answer is returned but not cached, so a rerun asks again.
            completion = await caller.complete(request, validate=lambda c: judge.parse(c.text).ok)
        except ModelError as exc:
            return row(item, judge, order, sample, prompt_hash=prompt_hash(request),
                       error=_error_text(exc))  # fmt: skip
        parsed = judge.parse(completion.text)
        return row(
            item, judge, order, sample,
            prompt_hash=prompt_hash(request), raw_output=completion.text,
            verdict=to_verdict(order, parsed.label) if parsed.label else None,
            parse_ok=parsed.ok, error=None if parsed.ok else f"parse: {parsed.reason}",
            latency_s=completion.latency_s, input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens, cost_usd=completion.cost_usd,
            cached=completion.cached,
        )  # fmt: skip

    async def record(coro: Any) -> Judgment:
        judgment: Judgment = await coro
        sink(judgment)
        return judgment

    orders: tuple[Order, ...] = ("AB", "BA")
    tasks = [
        record(one(item, judge, order, sample))
        for item in ctx.items
        for judge in ctx.panel.judges
        if (judge.name, item.id) not in skip
        for sample in range(judge.spec.samples)
        for order in orders
    ]
    return list(await asyncio.gather(*tasks))
