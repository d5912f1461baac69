"""Running one suite: ask the candidate and the baseline, then the panel and the graders.

All calls of a phase are issued at once and bounded by the model layer's per-model limits, so
a suite costs about the wall time of its slowest batch. Rows are appended to the run folder as
each call completes, so nothing finished is lost if the run dies. The engine only reads and
writes tables; every statistic is computed afterwards from the judgments table.

Which calls a panel makes is :func:`evalkit.judging._calls.judge_calls`'s business: pairwise judges
compare the two answers in both orders; pointwise and reference judges score each model's
answer (the row's ``candidate`` column names the model whose answer was scored). Deterministic
graders grade every answer without a model (see :mod:`evalkit.graders` for their rows).
Everything that can be wrong with the input is found by :func:`check_inputs` before any call.

The candidate is a model, the user's app (called through the same client, see
:mod:`evalkit.candidates`) or recorded answers (no call at all); a scored suite asks no
baseline unless it names one (:meth:`SuiteContext.roles`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from evalkit.candidates._answer import AppAnswer, decode
from evalkit.candidates._variant import Variant
from evalkit.errors import CallNotMade, DatasetError, ModelError, SpecError, UsageError
from evalkit.gates._gates import check_gates
from evalkit.graders import Grader
from evalkit.graders._base import GRADER_FAMILY, check_fields, check_graders
from evalkit.judging import JudgeRegistry, Parsed
from evalkit.judging._calls import JudgeCall, judge_calls, judge_prompt, repair_messages
from evalkit.judging._judge import Judge, Panel
from evalkit.judging._lineage import Exclusions, LineageDecision, family_policy
from evalkit.judging._pairwise import to_verdict
from evalkit.judging._templates import Templates
from evalkit.models import Completion, ModelRequest
from evalkit.panel._aggregate import AggregatorKinds
from evalkit.records._answers import Answer, Role, context_text
from evalkit.records._dataset import Item
from evalkit.records._judgments import Judgment, Mode
from evalkit.session._conversation import ANSWER_TEMPLATE, Conversations
from evalkit.session._endpoints import Endpoint
from evalkit.session._suite import Suite
from evalkit.session._usage import usage_columns

ROLES: tuple[Role, ...] = ("candidate", "baseline")
__all__ = [
    "ANSWER_TEMPLATE",
    "Caller",
    "Exclusions",
    "LineageDecision",
    "SuiteContext",
    "answer_all",
    "answer_request",
    "app_row",
    "candidate_request",
    "check_inputs",
    "check_variant",
    "grade_all",
    "judge_all",
    "judge_request",
    "lineage",
    "load_panel",
    "prompt_hash",
    "question",
]


class Caller(Protocol):
    """The part of :class:`evalkit.models.ModelClient` the engine uses."""

    async def complete(
        self, request: ModelRequest, *, validate: Callable[[Completion], bool] | None = None
    ) -> Completion:
        """Return the answer, or raise ModelError (``validate``: see ModelClient.complete)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class SuiteContext:
    """Everything the engine needs to run one suite."""

    run_id: str
    suite: Suite
    items: Sequence[Item]
    candidate: Endpoint
    #: None when the suite asks no baseline (a scored suite without ``baseline=``).
    baseline: Endpoint | None
    panel: Panel
    judges: Mapping[str, Endpoint]
    templates: Templates
    #: the whole dataset's items, when ``items`` is one shard's part of them: samples (probes,
    #: the exam) are drawn over these, so that shards draw what one process would.
    dataset: Sequence[Item] | None = None

    def all_items(self) -> Sequence[Item]:
        """Every item of the suite's dataset, whichever part of it this run asks."""
        return self.items if self.dataset is None else self.dataset

    def endpoint(self, role: Role) -> Endpoint:
        """The candidate's or the baseline's endpoint (the baseline must have been asked)."""
        if role == "candidate":
            return self.candidate
        assert self.baseline is not None, "no baseline in this suite"
        return self.baseline

    def roles(self) -> tuple[Role, ...]:
        """Who answers the items: the candidate, and the baseline when the suite asks one."""
        return ROLES if self.baseline is not None else ("candidate",)

    def models(self) -> list[tuple[str, Endpoint]]:
        """Every model the suite calls, after its role (``candidate``, ``judge fair``, ...)."""
        judges = [(f"judge {name}", endpoint) for name, endpoint in self.judges.items()]
        return [*((role, self.endpoint(role)) for role in self.roles()), *judges]

    @property
    def graders(self) -> Sequence[Grader]:
        """The suite's deterministic graders."""
        return tuple(self.suite.graders)

    def scored_roles(self) -> tuple[Role, ...]:
        """Whose answers scored judges and graders grade: every answerer, one if both are one."""
        if self.baseline is None or self.candidate.name == self.baseline.name:
            return ("candidate",)
        return ROLES

    def asked_by(self, endpoint: Endpoint) -> SuiteContext:
        """The context ``endpoint`` is asked in: a prompt variant's prompt and system, if any.

        The judges are still shown the suite's own question (see :func:`question`).
        """
        variant = endpoint.variant
        if variant is None:
            return self
        suite = dataclasses.replace(
            self.suite,
            prompt=self.suite.prompt if variant.prompt is None else variant.prompt,
            system=self.suite.system if variant.system is None else variant.system,
        )
        return dataclasses.replace(self, suite=suite)

    def reference(self, item: Item) -> str | None:
        """The item's reference answer (for reference judges), as text."""
        value = item.fields.get(self.suite.reference_field)
        return None if value is None else str(value)


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
    timeout_s: float | None = None,
) -> ModelRequest:
    if endpoint.prompt_style == "completion":
        return ModelRequest(
            model=endpoint.model, prompt=content, params=dict(params),
            api_base=endpoint.api_base, sample=sample, api_key=endpoint.api_key,
            cache_scope=endpoint.cache_scope, timeout_s=timeout_s,
        )  # fmt: skip
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": content}
    ]
    return ModelRequest(
        model=endpoint.model, messages=tuple(messages), params=dict(params),
        api_base=endpoint.api_base, sample=sample, api_key=endpoint.api_key,
        cache_scope=endpoint.cache_scope, timeout_s=timeout_s,
    )  # fmt: skip


def question(ctx: SuiteContext, item: Item) -> str:
    """The item's question as the candidate is asked it (the suite's prompt, rendered)."""
    if item.conversation is not None:
        return item.conversation.question
    where = f"suite {ctx.suite.name!r} prompt, item {item.id!r}"
    return ctx.templates.render_string(ctx.suite.prompt, item.fields, where=where)


def answer_request(ctx: SuiteContext, item: Item, endpoint: Endpoint) -> ModelRequest:
    """The call that asks ``endpoint`` the item's question, in the endpoint's prompt style."""
    suite = ctx.suite
    asked = question(ctx, item)
    params = dict(suite.answer_params)
    if endpoint.prompt_style == "completion":
        content = ctx.templates.render(ANSWER_TEMPLATE, {"prompt": asked, "system": suite.system})
        # A base model keeps writing the next few-shot example unless stopped.
        params.setdefault("stop", ["\nQuestion:", "\n\n"])
        return _request(endpoint, content, system=None, params=params)
    return _request(endpoint, asked, system=suite.system, params=params)


def judge_request(
    ctx: SuiteContext,
    call: JudgeCall,
    answers: Mapping[Role, str],
    transcripts: Mapping[Role, Sequence[Mapping[str, str]] | None] | None = None,
    contexts: Mapping[Role, str] | None = None,
    *,
    asked: str | None = None,
) -> ModelRequest:
    """The call that asks ``call.judge`` about the answers (transcripts, contexts) of an item.

    ``asked`` replaces the item's question as the judge is shown it (a bias probe's note).
    """
    judge = call.judge
    content = judge_prompt(
        ctx.templates, call, question=question(ctx, call.item) if asked is None else asked,
        answers=answers,
        reference=ctx.reference(call.item), transcripts=transcripts, contexts=contexts,
    )  # fmt: skip
    endpoint = ctx.judges[judge.name]
    params = judge.spec.sample_params(call.sample)
    return _request(
        endpoint, content, system=judge.spec.system, params=params, sample=call.sample,
        timeout_s=judge.spec.timeout_s,
    )  # fmt: skip


def load_panel(registry: JudgeRegistry, name: str, mode: Mode) -> Panel:
    """The panel ``name`` (or its variant for ``mode``), checked against the audit's methods.

    Raises:
        SpecError: see :meth:`evalkit.judging.JudgeRegistry.panel`.
    """
    return registry.panel(name, mode=mode, aggregations=AggregatorKinds())


def check_inputs(suite: Suite, items: Sequence[Item], panel: Panel, templates: Templates) -> None:
    """Find every input mistake the run would otherwise meet mid-way, before anything starts.

    Needs no model and no server, so it runs before any is resolved or started.

    Raises:
        SpecError: the suite's prompt does not render for an item, the suite's mode does not
            match the panel's, or a grader is named like a judge or another grader.
        DatasetError: an item lacks the reference a reference panel needs, or a field a
            grader reads, or a gate's input file is missing or unreadable.
        ConfigError: a gate's settings are out of range (see :func:`check_gates`).
        UsageError: the suite asks to probe more items than its dataset has.
    """
    if panel.mode != suite.mode:
        raise SpecError(
            f"suite {suite.name!r} is {suite.mode}, but panel {panel.name!r} judges "
            f"{panel.mode}; choose a {suite.mode} panel"
        )
    for item in items:
        where = f"suite {suite.name!r} prompt, item {item.id!r}"
        if item.conversation is None:  # a conversation is asked instead of the prompt
            templates.render_string(suite.prompt, item.fields, where=where)
        if suite.mode == "reference" and item.fields.get(suite.reference_field) in (None, ""):
            raise DatasetError(
                f"{suite.dataset_path()}: item {item.id!r} has no {suite.reference_field!r} "
                f"field, which the reference judges of panel {panel.name!r} need; add it to "
                "every row, or set the suite's reference_field"
            )
    graders = tuple(suite.graders)
    check_graders(graders, taken=[j.name for j in panel.judges])
    check_fields(graders, [(i.id, i.fields) for i in items], suite.dataset_path())
    check_gates(suite.gates, where=f"suite {suite.name!r}, ")
    if suite.probes and suite.probe_items > len(items):
        raise UsageError(
            f"suite {suite.name!r}: probe_items={suite.probe_items} but the dataset "
            f"{suite.dataset_path()} has {len(items)} items; set probe_items to at most "
            f"{len(items)}"
        )


def check_variant(
    suite: Suite, items: Sequence[Item], templates: Templates, variant: Variant
) -> None:
    """Render a prompt variant's prompt for every single-question item, before any call.

    Raises:
        SpecError: the prompt does not render for an item (naming the suite, the variant and
            the item).
    """
    if variant.prompt is None:
        return
    for item in items:
        if item.conversation is None:  # a conversation is asked instead of the prompt
            where = f"suite {suite.name!r}, candidate {variant.label!r} prompt, item {item.id!r}"
            templates.render_string(variant.prompt, item.fields, where=where)


def lineage(ctx: SuiteContext) -> tuple[list[LineageDecision], Exclusions]:
    """Apply the panel's family policy (see :func:`evalkit.judging._lineage.family_policy`).

    Raises:
        SpecError: the policy is ``error`` and a judge shares a family with a judged model.
    """
    return family_policy(
        ctx.panel,
        ctx.items,
        judge_families={name: endpoint.family for name, endpoint in ctx.judges.items()},
        model_families={role: ctx.endpoint(role).family for role in ctx.roles()},
    )


def _failure(exc: ModelError) -> dict[str, Any]:
    """The ``status`` and ``error`` of a row whose call raised."""
    if isinstance(exc, CallNotMade):
        return {"status": "not_run", "error": str(exc)}
    # "failed" does not say how (timeout, rate limit, bad credentials): the message keeps it.
    return {"status": "failed", "error": f"{exc.kind}: {exc}"}


def app_row(item: Item) -> dict[str, Any]:
    """What an app is given: the item's fields, with its id (also when the dataset has none)."""
    return {**item.fields, "id": item.id}


def candidate_request(ctx: SuiteContext, item: Item, endpoint: Endpoint) -> ModelRequest:
    """The call that asks ``endpoint`` about the item: its question, or an app's whole row."""
    if endpoint.app is not None:
        return endpoint.app.request(app_row(item))
    return answer_request(ctx, item, endpoint)


async def answer_all(
    ctx: SuiteContext,
    caller: Caller,
    role: Role,
    endpoint: Endpoint,
    sink: Callable[[Answer], None],
) -> dict[str, Answer]:
    """Ask ``endpoint`` every item's question concurrently; append each answer as it lands."""
    # A prompt variant is asked its own way; the rows still name the suite's question.
    asked = ctx.asked_by(endpoint)
    conversations = Conversations(asked, caller, role, endpoint, _failure)

    async def one(item: Item) -> Answer:
        # A model answers a conversation turn by turn; an app is given the whole row.
        if item.conversation is not None and endpoint.app is None and endpoint.recorded is None:
            talk = await conversations.answer(item, answer_request(asked, item, endpoint))
            sink(talk)
            return talk
        text: str | None = None
        outcome: dict[str, Any] = {"status": "ok", "error": None}
        completion: Completion | None = None
        reply = AppAnswer("")
        # Apps and recorded answers are asked about the row; the judges see the question.
        prompt = question(ctx, item)
        if endpoint.recorded is not None:
            reply = endpoint.recorded[item.id]  # one per item: checked when it was loaded
        else:
            request = candidate_request(asked, item, endpoint)
            prompt = prompt if endpoint.app else _shown(request)
            try:
                completion = await caller.complete(request)
                # An app's reply carries its context with the text (see evalkit.candidates).
                reply = decode(completion.text) if endpoint.app else AppAnswer(completion.text)
            except ModelError as exc:
                outcome = _failure(exc)
        # A call never made (stopped, over budget) is none; a failed one was made.
        calls = 0 if endpoint.recorded is not None or outcome["status"] == "not_run" else 1
        if outcome["status"] == "ok":
            text = reply.text.strip()
            if not text:
                text, outcome = None, {"status": "failed", "error": "empty answer"}
        documents = reply.documents()
        answer = Answer(
            run_id=ctx.run_id, suite=ctx.suite.name, item_id=item.id, role=role,
            model=endpoint.name, family=endpoint.family,
            prompt=prompt,
            text=text, **outcome,
            context=None if documents is None else list(documents),
            tool_calls=None if reply.tool_calls is None else [dict(c) for c in reply.tool_calls],
            latency_s=completion.latency_s if completion else 0.0,
            input_tokens=completion.input_tokens if completion else 0,
            output_tokens=completion.output_tokens if completion else 0,
            cost_usd=completion.cost_usd if completion else 0.0,
            cached=completion.cached if completion else False, calls=calls,
            text_repaired=completion.text_repaired if completion else False,
        )  # fmt: skip
        sink(answer)
        return answer

    answers = await asyncio.gather(*(one(item) for item in ctx.items))
    return {a.item_id: a for a in answers}


def _shown(request: ModelRequest) -> str:
    """What the model was asked: the completion prompt, or the last chat message."""
    return request.prompt if request.prompt is not None else request.messages[-1]["content"]


def _length(answer: Answer | None) -> int | None:
    return answer.output_tokens if answer is not None and answer.text is not None else None


def _row(
    ctx: SuiteContext,
    item: Item,
    answers: Mapping[Role, Mapping[str, Answer]],
    *,
    role: Role | None,
    judge: str,
    judge_family: str,
    mode: str,
    **fields: Any,
) -> Judgment:
    """A judgments row; ``role`` None is a pairwise row, else the row of ``role``'s answer.

    ``fields`` must set ``status``: it has no default, so that every row says what became of it.
    """
    if role is None:
        baseline = ctx.endpoint("baseline")
        models: dict[str, Any] = {
            "candidate": ctx.candidate.name, "candidate_family": ctx.candidate.family,
            "baseline": baseline.name, "baseline_family": baseline.family,
            "len_candidate": _length(answers["candidate"].get(item.id)),
            "len_baseline": _length(answers["baseline"].get(item.id)),
            "human_label": item.human_label,
        }  # fmt: skip
    else:
        # A scored row is about one answer: the "candidate" columns name whose it is. The
        # dataset's human_label is a pairwise verdict, so it does not apply here.
        endpoint = ctx.endpoint(role)
        models = {
            "candidate": endpoint.name, "candidate_family": endpoint.family,
            "baseline": None, "baseline_family": None,
            "len_candidate": _length(answers[role].get(item.id)), "len_baseline": None,
            "human_label": None,
        }  # fmt: skip
    values: dict[str, Any] = {
        "run_id": ctx.run_id, "suite": ctx.suite.name, "item_id": item.id, "mode": mode,
        **models, "judge": judge, "judge_family": judge_family, "order": None, "sample": 0,
        "prompt_hash": "", "raw_output": None, "verdict": None, "score": None,
        "parse_ok": False, "error": None, "latency_s": 0.0, "input_tokens": 0,
        "output_tokens": 0, "cost_usd": 0.0, "cached": False,
        "generator_family": item.generator_family,
    }  # fmt: skip
    values.update(fields)
    return Judgment(**values)


async def _ask(
    ctx: SuiteContext, caller: Caller, call: JudgeCall, request: ModelRequest
) -> dict[str, Any]:
    """Make one judge call (and its repair, if needed); return the row's outcome columns."""
    judge: Judge = call.judge

    def usable(c: Completion) -> bool:
        return judge.read(c.text).ok

    outcome: dict[str, Any] = {"prompt_hash": prompt_hash(request)}
    try:
        # An unreadable reply is cached like any other and replayed as unparseable (the same
        # prompt at temperature 0 gets the same reply); `usable` lets --evalkit-retry-unparseable
        # ask again. The repair below still runs on it, cached or not.
        first = await caller.complete(request, validate=usable)
    except ModelError as exc:
        return outcome | _failure(exc)
    parsed = judge.read(first.text)
    completions = [first]
    outcome["raw_output"] = first.text
    error = None if parsed.ok else parsed.reason or "no verdict"
    repair = None
    if not parsed.ok:
        repair = judge.repair_prompt(ctx.templates, first.text, parsed.reason or "")
    if repair is not None:
        fix = dataclasses.replace(
            request, messages=repair_messages(request.messages, first.text, repair)
        )
        try:
            second = await caller.complete(fix, validate=usable)
        except ModelError as exc:
            error = f"{error}; repair call failed: {_failure(exc)['error']}"
        else:
            completions.append(second)
            outcome["repair_output"] = second.text
            parsed = judge.read(second.text)
            error = None if parsed.ok else f"{error}; after repair: {parsed.reason}"
    return outcome | usage_columns(completions) | _verdict(call, parsed) | {"error": error}


def _verdict(call: JudgeCall, parsed: Parsed) -> dict[str, Any]:
    if not parsed.ok:
        return {"parse_ok": False, "status": "unparseable"}
    if call.order is not None:
        assert parsed.label is not None  # Judge.read gives pairwise judges a label
        return {"parse_ok": True, "status": "ok", "verdict": to_verdict(call.order, parsed.label)}
    return {"parse_ok": True, "status": "ok", "score": parsed.score}


async def judge_all(
    ctx: SuiteContext,
    caller: Caller,
    candidate: Mapping[str, Answer],
    baseline: Mapping[str, Answer],
    skip: Exclusions,
    sink: Callable[[Judgment], None],
) -> list[Judgment]:
    """Make every call of the panel (see :func:`evalkit.judging._calls.judge_calls`), concurrently.

    Each call becomes one row, appended to ``sink`` as it completes: a verdict or score, or
    the reason there is none (a failed call, an unreadable reply, a missing answer).
    """
    answers: dict[Role, Mapping[str, Answer]] = {"candidate": candidate, "baseline": baseline}

    async def one(call: JudgeCall) -> Judgment:
        judge = call.judge
        fields: dict[str, Any] = {
            "sample": call.sample, "order": call.order, "option_order": call.option_order,
        }  # fmt: skip

        def row(**more: Any) -> Judgment:
            return _row(ctx, call.item, answers, role=call.role, judge=judge.name,
                        judge_family=ctx.judges[judge.name].family, mode=judge.mode,
                        **fields, **more)  # fmt: skip

        texts: dict[Role, str] = {}
        contexts: dict[Role, str] = {}
        for role in call.roles():
            answer = answers[role][call.item.id]
            if answer.text is None:
                return row(status="no_answer", error=f"no {role} answer")
            texts[role] = answer.text
            contexts[role] = context_text(answer.context, answer.tool_calls)
        said = {role: answers[role][call.item.id].transcript for role in call.roles()}
        request = judge_request(ctx, call, texts, said, contexts)
        return row(**await _ask(ctx, caller, call, request))

    async def record(call: JudgeCall) -> Judgment:
        judgment = await one(call)
        sink(judgment)
        return judgment

    calls = judge_calls(ctx.items, ctx.panel.judges, roles=ctx.scored_roles(), excluded=skip)
    return list(await asyncio.gather(*(record(call) for call in calls)))


def grade_all(
    ctx: SuiteContext,
    candidate: Mapping[str, Answer],
    baseline: Mapping[str, Answer],
    sink: Callable[[Judgment], None],
) -> list[Judgment]:
    """Grade every answer with every deterministic grader; one row each, appended to ``sink``.

    A grader that raises is a bug in the grader, not in the answer: its row records the error
    and the run goes on.
    """
    answers: dict[Role, Mapping[str, Answer]] = {"candidate": candidate, "baseline": baseline}
    rows = []
    for grader in ctx.graders:
        settings = hashlib.sha256(grader.describe().encode()).hexdigest()[:16]
        mode = "reference" if grader.fields() else "pointwise"
        for item in ctx.items:
            for role in ctx.scored_roles():
                fields: dict[str, Any] = {"prompt_hash": settings}
                text = answers[role][item.id].text
                if text is None:
                    fields |= {"status": "no_answer", "error": f"no {role} answer"}
                else:
                    try:
                        grade = grader.grade(text, item.fields)
                    except Exception as exc:  # a user's grader must not end the run
                        error = f"grader raised {type(exc).__name__}: {exc}"
                        fields |= {"status": "failed", "error": error}
                    else:
                        fields |= {"raw_output": grade.detail, "score": grade.score,
                                   "parse_ok": True, "status": "ok"}  # fmt: skip
                row = _row(ctx, item, answers, role=role, judge=grader.name,
                           judge_family=GRADER_FAMILY, mode=mode, **fields)  # fmt: skip
                sink(row)
                rows.append(row)
    return rows
