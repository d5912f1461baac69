"""The dry run: the calls a run would make, the tokens it would send, and what it would cost.

:func:`plan_suites` walks each suite the way the engine runs it, with the engine's own pieces:
the same answer requests (:func:`~evalkit.session._engine.answer_request`), the same judge
calls (:func:`evalkit.judging.judge_calls`, after the panel's family policy) rendered into
the same judge requests (:func:`~evalkit.session._engine.judge_request`), and the same
grader rows. It counts them instead of sending them: it starts no local model server, makes
no model call, and writes nothing: no run folder, and nothing in the response cache, which is
only looked into, and only if it already exists.

How rough the figures are:

- input tokens ≈ the characters of the rendered prompt (every message) / 4, a rule of thumb
  for English text: tokenizers differ by model, and chat formatting adds a few tokens per
  message. Judge prompts are rendered with placeholder answers as long as the answering
  calls' ``max_tokens``, so the judges' figure is the high end;
- output tokens are each call's ``max_tokens``: an upper bound, not a forecast;
- the exam's calls (``Suite(exam=N)``) are an upper bound: which pairs it asks depends on
  answers and grades that do not exist yet (:func:`~evalkit.probes._exam.max_exam_pairs`);
- cost is litellm's list price for those tokens (:func:`evalkit.models.estimate_cost`, call
  by call); a model litellm has no price for is shown as unpriced and counted as $0, and the
  bundled local models cost nothing. A judge with ``repair`` may make one more call per reply
  it cannot read; those cannot be foreseen and are not counted;
- the batch price is what the same calls cost with ``execution = "batch"``: litellm's batch
  price where its table has one, else half the interactive price (and a note says so); calls
  that cannot be batched (see :func:`evalkit.models._batch.can_batch`) at the interactive
  price.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final, Literal

from evalkit.judging._calls import JudgeCall, judge_calls
from evalkit.models import ModelRequest, ResponseCache
from evalkit.models._batch import can_batch
from evalkit.models._batch_price import batch_cost
from evalkit.models._cache import cache_key
from evalkit.models._litellm import estimate_cost
from evalkit.models._local import is_local
from evalkit.probes._edits import SELF_REWRITE
from evalkit.probes._exam import exam_candidates, max_exam_pairs
from evalkit.records._answers import Role
from evalkit.session._conversation import placeholder_transcript, planned_requests
from evalkit.session._endpoints import Endpoint, Resolver
from evalkit.session._engine import (
    ROLES,
    SuiteContext,
    answer_request,
    candidate_request,
    judge_request,
    lineage,
    question,
)
from evalkit.session._group import suites_of
from evalkit.session._prepare import prepare_suite
from evalkit.session._probes import rewrite_request
from evalkit.session._session import EvalSession
from evalkit.session._suite import Suite

#: The rule of thumb behind every token estimate (English text, most tokenizers).
CHARS_PER_TOKEN: Final = 4
#: The length of the placeholder answers judge prompts are rendered with when the suite's
#: answering calls set no ``max_tokens`` (their real length is then not bounded).
UNBOUNDED_ANSWER_TOKENS: Final = 512
_RUN_ID: Final = "dry-run"
#: ResponseCache keeps its entries in this subfolder; opening a store that does not exist
#: would create it, so the dry run looks for it first.
_RESPONSES: Final = "responses"

Kind = Literal["candidate", "baseline", "judge", "grader"]


@dataclasses.dataclass(frozen=True, slots=True)
class PlanRow:
    """The calls of one model in one role of one suite, or the rows of one grader."""

    suite: str
    kind: Kind
    #: the judge's or grader's name ("" for the candidate and the baseline).
    name: str
    #: the model as configured ("" for a grader, which calls none).
    model: str
    #: model calls; for a grader, the rows it writes without calling a model.
    calls: int
    #: estimated input tokens of every call together (see the module docstring).
    input_tokens: int
    #: the sum of ``max_tokens`` over the calls that set it: an upper bound of the output.
    output_tokens: int
    #: calls that set no ``max_tokens``: their output is bounded by nothing evalkit knows.
    unbounded: int
    #: estimated cost in USD; None when litellm has no price for the model.
    cost_usd: float | None
    #: calls already answered in the response cache; None when that cannot be known before
    #: the run (judge calls depend on answers that do not exist yet).
    cached: int | None
    #: how the count arises, e.g. "40 items x 2 orders x 1 sample".
    detail: str = ""
    #: the cost with ``execution = "batch"``; None when litellm has no price for the model.
    batch_cost_usd: float | None = 0.0
    #: whether the calls go as provider batches in batch execution.
    batched: bool = False
    #: whether the batch price is assumed (half the interactive one): litellm lists none.
    batch_price_assumed: bool = False

    @property
    def role(self) -> str:
        """The role as the table shows it: ``candidate``, ``judge fair``, ``grader exact``."""
        return f"{self.kind} {self.name}" if self.name else self.kind


@dataclasses.dataclass(frozen=True, slots=True)
class SuitePlan:
    """What one suite would call."""

    name: str
    mode: str
    panel: str
    items: int
    rows: tuple[PlanRow, ...]
    #: judges that may make one repair call per unreadable reply (not counted in ``rows``).
    repairing: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What a run would call: one :class:`SuitePlan` per suite, and the run's limits."""

    suites: tuple[SuitePlan, ...]
    budget_usd: float | None = None
    max_calls: int | None = None
    #: the cache mode, when it means the cache will not be read (``off``, ``refresh``).
    cache_unread: str | None = None

    @property
    def rows(self) -> tuple[PlanRow, ...]:
        """Every row of every suite, in order."""
        return tuple(row for suite in self.suites for row in suite.rows)

    def calls(self, kind: Kind | None = None) -> int:
        """Model calls of one kind (candidate, baseline, judge), or of all three."""
        return sum(
            r.calls for r in self.rows if r.kind != "grader" and (kind is None or r.kind == kind)
        )

    @property
    def cost_usd(self) -> float:
        """The estimated cost of the run, unpriced models counted as $0."""
        return sum(r.cost_usd or 0.0 for r in self.rows)

    @property
    def batch_cost_usd(self) -> float:
        """The estimated cost with ``execution = "batch"``, unpriced models counted as $0."""
        return sum(r.batch_cost_usd or 0.0 for r in self.rows)

    def unpriced(self) -> list[str]:
        """Models litellm has no price for, in order of first appearance."""
        return list(dict.fromkeys(r.model for r in self.rows if r.cost_usd is None))

    def lines(self) -> list[str]:
        """The plan as a compact table, its totals, and what the figures mean."""
        header = ("suite", "role", "model", "calls", "in tokens ~", "out tokens <=", "cost ~",
                  "cached", "how")  # fmt: skip
        table = [header, *(_cells(r) for r in self.rows)]
        rows = self.rows
        total_in = sum(r.input_tokens for r in rows)
        total_out = sum(r.output_tokens for r in rows)
        table.append(("total", "", "", _n(self.calls()), _n(total_in), _n(total_out),
                      _usd(self.cost_usd), "", ""))  # fmt: skip
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        right = {3, 4, 5, 6, 7}

        def fmt(row: Sequence[str]) -> str:
            cells = [c.rjust(w) if i in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
            return "  ".join(cells).rstrip()

        graded = sum(r.calls for r in rows if r.kind == "grader")
        unpriced = self.unpriced()
        lines = [
            "evalkit dry run: no model was called and nothing was written",
            *(fmt(row) for row in table),
            f"model calls: {self.calls('candidate')} candidate + "
            + (f"{self.calls('baseline')} baseline + " if self._asks_baseline() else "")
            + f"{self.calls('judge')} judge = {self.calls()} (judge calls include "
            "both orders, every option order and every repeat)"
            + (f"; {graded} grader rows, no model call" if graded else ""),
            *self._pair_lines(),
            f"estimated cost: {_usd(self.cost_usd)}"
            + (f" ({len(unpriced)} unpriced model(s) counted as $0)" if unpriced else ""),
            f"estimated cost as provider batches (execution = batch): {_usd(self.batch_cost_usd)}",
            *(f"  note: {note}" for note in self.notes()),
        ]
        return lines

    def _pair_lines(self) -> list[str]:
        """Each suite's model calls, when the run has several (a multi-candidate suite's pairs)."""
        if len(self.suites) < 2:
            return []
        width = max(len(s.name) for s in self.suites) + 1
        calls = [sum(r.calls for r in s.rows if r.kind != "grader") for s in self.suites]
        return ["model calls by suite (each pair of candidates is one):"] + [
            f"  {s.name + ':':<{width}} {_n(n)}" for s, n in zip(self.suites, calls, strict=True)
        ]

    def _asks_baseline(self) -> bool:
        # Scored suites without ``baseline=`` ask none: the totals then do not name one.
        return any(r.kind == "baseline" for r in self.rows)

    def notes(self) -> list[str]:
        """What the reader of the figures needs to know, one sentence each."""
        notes = [
            f"input tokens ~ prompt characters / {CHARS_PER_TOKEN}, an estimate (tokenizers "
            "differ); judge prompts use placeholder answers of the answers' max_tokens",
            "output tokens are each call's max_tokens: an upper bound, not a forecast",
        ]
        unpriced = self.unpriced()
        if unpriced:
            notes.append(f"no price in litellm's table for {', '.join(unpriced)}: counted as $0")
        assumed = _models(r for r in self.rows if r.batch_price_assumed and r.cost_usd)
        if assumed:
            notes.append(f"no batch price in litellm's table for {assumed}: batch price taken "
                         "as 50% of the interactive price")  # fmt: skip
        unbatched = _models(r for r in self.rows if not r.batched and r.cost_usd)
        if unbatched:
            notes.append(f"{unbatched}: no batch API through litellm, so at the interactive "
                         "price in the batch estimate too")  # fmt: skip
        unbounded = sum(r.unbounded for r in self.rows)
        if unbounded:
            notes.append(
                f"{unbounded} call(s) set no max_tokens: their output is not in the output "
                "tokens, nor in the cost"
            )
        for suite in self.suites:
            if suite.repairing:
                notes.append(
                    f"suite {suite.name}: judge(s) {', '.join(suite.repairing)} may make one "
                    "more call per reply they cannot read (not counted)"
                )
        if self.cache_unread is not None:
            notes.append(f"cache_mode={self.cache_unread}: the cache is not read, every call "
                         "is made")  # fmt: skip
        elif any(r.cached is None for r in self.rows):
            notes.append(
                "cached: answers already in the response cache (free on the run); judge calls "
                "cannot be looked up before the answers they judge exist"
            )
        if self.budget_usd is not None and self.cost_usd > self.budget_usd:
            notes.append(
                f"the estimate is above budget_usd ({_usd(self.budget_usd)}): the run would "
                "stop before its end unless enough calls are cached"
            )
        if self.max_calls is not None and self.calls() > self.max_calls:
            notes.append(
                f"the {self.calls()} calls are more than max_calls ({self.max_calls}): the run "
                "would stop before its end unless enough calls are cached"
            )
        return notes


def plan_suites(session: EvalSession, suites: Iterable[Suite]) -> Plan:
    """Count the calls, tokens and cost of running ``suites`` in ``session``; make no call.

    Reads the datasets, the judge and panel specs and templates (the session's registry) and,
    if it exists, the response cache. Starts no server and writes nothing.

    Raises:
        UsageError: an input the run would also refuse (see
            :func:`~evalkit.session._engine.check_inputs`), or a family policy of ``error``.
    """
    cfg = session.config
    cache_dir = cfg.cache_dir
    resolver = Resolver(cache_dir)
    location = cfg.cache_location()
    cache = ResponseCache(location, cfg.cache_mode)
    reader = None
    if cache.reads and (not isinstance(location, Path) or (location / _RESPONSES).is_dir()):
        # Replay mode reads and never stores; the run's own mode could write on an eviction.
        reader = ResponseCache(location, "replay")
    try:
        plans = tuple(
            plan for declared in suites for plan in _plan_group(session, declared, resolver, reader)
        )
    finally:
        if reader is not None:
            reader.close()
    return Plan(
        plans,
        budget_usd=cfg.budget_usd,
        max_calls=cfg.max_calls,
        cache_unread=None if cache.reads else cfg.cache_mode,
    )


def _plan_group(
    session: EvalSession, declared: Suite, resolver: Resolver, cache: ResponseCache | None
) -> list[SuitePlan]:
    """The plans of the suites that run for ``declared``: itself, or each of its pairs.

    The pairs of a multi-candidate suite share answers through the response cache: an answer
    request planned for an earlier pair is counted there only.
    """
    asked: set[str] = set()
    return [
        _plan_suite(session, suite, resolver, cache, asked)
        for suite in suites_of(declared, session.config.baseline)
    ]


def _plan_suite(
    session: EvalSession,
    suite: Suite,
    resolver: Resolver,
    cache: ResponseCache | None,
    asked: set[str],
) -> SuitePlan:
    ctx = prepare_suite(suite, session.config, session.registry, resolver.resolve, run_id=_RUN_ID)
    items, panel = ctx.items, ctx.panel
    _, skip = lineage(ctx)
    rows: list[PlanRow] = []
    for role in ctx.roles():
        endpoint = ctx.endpoint(role)
        # Recorded answers are judged as they are: nothing to call. An app is given the whole
        # row in one call; a model answers a conversation turn by turn.
        answered = items if endpoint.recorded is None else []
        own = ctx.asked_by(endpoint)  # a prompt variant's own prompt and system
        if endpoint.app is not None:
            requests = [candidate_request(own, item, endpoint) for item in answered]
        else:
            said = "x" * (CHARS_PER_TOKEN * _answer_tokens(suite))  # its own earlier turns
            singles = [(item, answer_request(own, item, endpoint)) for item in answered]
            requests = [r for item, one in singles for r in planned_requests(own, item, one, said)]
        keys = [cache_key(r) for r in requests]
        shared = sum(key in asked for key in keys)
        requests = [r for r, key in zip(requests, keys, strict=True) if key not in asked]
        asked.update(keys)
        cached = _cached(cache, requests)
        detail = f"{len(items)} items" + (", app calls" if endpoint.app else "")
        if endpoint.recorded is not None:
            detail += ", recorded answers: no call"
        if shared:
            detail += f", {shared} answers shared with an earlier pair (asked once)"
        rows.append(_row(suite.name, role, "", endpoint, requests, cached, detail))

    roles = ctx.scored_roles()
    placeholder = "x" * (CHARS_PER_TOKEN * _answer_tokens(suite))
    answers: dict[Role, str] = dict.fromkeys(ROLES, placeholder)
    calls = judge_calls(items, panel.judges, roles=roles, excluded=skip)
    for judge in panel.judges:
        mine = [c for c in calls if c.judge.name == judge.name]
        requests = [judge_request(ctx, call, answers, dict.fromkeys(ROLES,
                                  placeholder_transcript(call.item, placeholder)))
                    for call in mine]  # fmt: skip
        detail = _judge_detail(mine, judge_calls(items, [judge], roles=roles), len(items))
        rows.append(_row(suite.name, "judge", judge.name, ctx.judges[judge.name], requests,
                         None, detail))  # fmt: skip

    if suite.probes:
        # The sample is drawn from the answered items at run time: the first ones stand in.
        plain = [item.id for item in items if item.conversation is None]
        probed = set(plain[: suite.probe_items])
        for judge in panel.judges:
            mine = [c for c in calls if c.judge.name == judge.name and c.item.id in probed]
            requests = [judge_request(ctx, c, answers) for c in mine for _ in suite.probes]
            detail = (
                f"{len(probed)} items x {len(suite.probes)} probes x 2 orders x "
                f"{judge.spec.samples} sample(s); the unedited pairs are the panel's own calls"
            )
            if SELF_REWRITE in suite.probes:  # the judge's paraphrase of one answer per item
                requests += [rewrite_request(ctx, judge.name, question(ctx, item), placeholder)
                             for item in items if item.id in probed]  # fmt: skip
                detail += f"; {len(probed)} paraphrases (self-rewrite)"
            rows.append(_row(suite.name, "judge", f"{judge.name} probes",
                             ctx.judges[judge.name], requests, None, detail))  # fmt: skip

    if suite.exam:
        rows.extend(_exam_rows(ctx, calls, answers))

    for grader in ctx.graders:
        rows.append(PlanRow(
            suite=suite.name, kind="grader", name=grader.name, model="",
            calls=len(items) * len(roles), input_tokens=0, output_tokens=0, unbounded=0,
            cost_usd=0.0, cached=None,
            detail=f"{len(items)} items x {len(roles)} answers, no model call",
        ))  # fmt: skip
    repairing = tuple(j.name for j in panel.judges if j.spec.repair_template is not None)
    return SuitePlan(suite.name, suite.mode, panel.name, len(items), tuple(rows), repairing)


def _exam_rows(
    ctx: SuiteContext, calls: Sequence[JudgeCall], answers: Mapping[Role, str]
) -> list[PlanRow]:
    """Each judge's exam calls: an upper bound, since the pairs depend on answers not yet given.

    The bound is :func:`~evalkit.probes._exam.max_exam_pairs` over the items that may qualify;
    the first of them stand in for the seeded sample, and the family policy applies as to the
    panel's calls (the exam does not show a judge the pairs of an item it is kept from).
    """
    suite = ctx.suite
    has_graders = bool(ctx.graders)
    qualifying = exam_candidates(ctx.items, has_graders=has_graders,
                                 reference_field=suite.reference_field)  # fmt: skip
    n_pairs = max_exam_pairs(len(qualifying), suite.exam, graded=has_graders)
    per_item = max_exam_pairs(1, True, graded=has_graders)  # the kinds one item may give
    size = n_pairs // per_item
    examined = {item.id for item in qualifying[:size]}
    rows = []
    for judge in ctx.panel.judges:
        mine = [c for c in calls if c.judge.name == judge.name and c.item.id in examined]
        requests = [judge_request(ctx, c, answers) for c in mine for _ in range(per_item)]
        detail = (
            f"at most {n_pairs} pairs ({size} items x up to {per_item} kinds) x 2 orders x "
            f"{judge.spec.samples} sample(s): an upper bound, the pairs depend on the answers"
        )
        rows.append(_row(suite.name, "judge", f"{judge.name} exam", ctx.judges[judge.name],
                         requests, None, detail))  # fmt: skip
    return rows


def _row(
    suite: str,
    kind: Kind,
    name: str,
    endpoint: Endpoint,
    requests: Sequence[ModelRequest],
    cached: int | None,
    detail: str,
) -> PlanRow:
    inputs = [input_tokens(r) for r in requests]
    limits = [_max_tokens(r) for r in requests]
    cost = _cost(endpoint, zip(inputs, limits, strict=True))
    batched = endpoint.app is None and can_batch(endpoint.model, endpoint.api_base)
    batch = cost
    if batched:
        batch = _cost(endpoint, zip(inputs, limits, strict=True), _batch_price)
    return PlanRow(
        suite=suite, kind=kind, name=name, model=endpoint.name, calls=len(requests),
        input_tokens=sum(inputs), output_tokens=sum(n or 0 for n in limits),
        unbounded=sum(n is None for n in limits), cost_usd=cost, cached=cached, detail=detail,
        batch_cost_usd=batch, batched=batched,
        batch_price_assumed=batched and batch_cost(endpoint.model, 0, 0).assumed,
    )  # fmt: skip


def _batch_price(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """One call's batch price (see :func:`evalkit.models._batch_price.batch_cost`)."""
    return batch_cost(model, input_tokens, output_tokens).cost_usd


def _cached(cache: ResponseCache | None, requests: Sequence[ModelRequest]) -> int | None:
    """How many of ``requests`` the cache already answers (None: the cache could not be read)."""
    if cache is None:
        return 0
    try:
        return sum(cache.get(cache_key(r)) is not None for r in requests)
    except Exception:  # a locked or damaged cache is the run's problem, not the plan's
        return None


def input_tokens(request: ModelRequest) -> int:
    """Estimate the input tokens of ``request``: its prompt's characters / 4, rounded up."""
    if request.prompt is not None:
        chars = len(request.prompt)
    else:
        chars = sum(len(m["content"]) for m in request.messages)
    return math.ceil(chars / CHARS_PER_TOKEN)


def _max_tokens(request: ModelRequest) -> int | None:
    value = request.params.get("max_tokens")
    return value if isinstance(value, int) and value >= 0 else None


def _answer_tokens(suite: Suite) -> int:
    value = suite.answer_params.get("max_tokens")
    return value if isinstance(value, int) and value >= 0 else UNBOUNDED_ANSWER_TOKENS


def _cost(
    endpoint: Endpoint,
    calls: Iterable[tuple[int, int | None]],
    price: Callable[[str, int, int], float | None] = estimate_cost,
) -> float | None:
    """The estimated cost of the calls (input tokens, max_tokens) at ``price``; None: unpriced."""
    if is_local(endpoint.configured) or endpoint.app is not None:
        # The bundled models run on this machine; an app reports its own cost when it runs.
        return 0.0
    # Priced call by call (tiered prices), but each distinct size is looked up once.
    sizes = collections.Counter((n_in, n_out or 0) for n_in, n_out in calls)
    total = 0.0
    for (n_in, n_out), count in sizes.items():
        cost = price(endpoint.model, n_in, n_out)
        if cost is None:
            return None
        total += cost * count
    return total


def _judge_detail(calls: Sequence[JudgeCall], unfiltered: Sequence[JudgeCall], items: int) -> str:
    """How a judge's call count arises, e.g. ``40 items x 2 orders x 1 sample``."""
    if not unfiltered:
        return "no calls"
    judge = unfiltered[0].judge
    samples = judge.spec.samples
    if judge.mode == "pairwise":
        parts = [f"{items} items", "2 orders"]
    else:
        answers = len({c.role for c in unfiltered})
        listings = len({c.option_order for c in unfiltered})
        parts = [f"{items} items", f"{answers} answer" + ("s" if answers > 1 else "")]
        if listings > 1:
            parts.append(f"{listings} option orders")
    parts.append(f"{samples} sample" + ("s" if samples > 1 else ""))
    detail = " x ".join(parts)
    left_out = len(unfiltered) - len(calls)
    if left_out:
        detail += f", {left_out} left out by the family policy"
    return detail


def _cells(row: PlanRow) -> tuple[str, ...]:
    cost = "unpriced" if row.cost_usd is None else _usd(row.cost_usd)
    if row.kind == "grader":
        cached = cost = "-"
    else:
        cached = "unknown" if row.cached is None else _n(row.cached)
    out = _n(row.output_tokens) + ("+?" if row.unbounded else "")
    return (row.suite, row.role, row.model or "(no model)", _n(row.calls),
            _n(row.input_tokens), out, cost, cached, row.detail)  # fmt: skip


def _models(rows: Iterable[PlanRow]) -> str:
    """The rows' models, each once, in order, as a list for a sentence."""
    return ", ".join(dict.fromkeys(r.model for r in rows))


def _n(value: int) -> str:
    return f"{value:,}"


def _usd(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 10 else f"${value:.6f}"
