"""One evaluation run: the suites of a pytest session, their model calls, results and report.

An :class:`EvalSession` is created by the pytest plugin (or the CLI) with a validated config
and lives on ``config.stash``. It starts nothing until a suite's first test runs; then it
evaluates that whole suite in one concurrent batch, appends every answer and judgment to the
run folder as it lands, audits the result and decides the suite's gates. :meth:`finish` writes
``run.json`` and ``report.html`` (see :mod:`evalkit.session._finalize`) and stops any local
model servers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit._profile import Profile
from evalkit._runid import new_run_id
from evalkit.audit import run_audit
from evalkit.candidates._transport import AppTransport
from evalkit.config import EvalkitConfig
from evalkit.data._kept import keep_texts
from evalkit.data._perturb import variant_of
from evalkit.errors import ConfigError, EvalkitError, PermanentModelError, UsageError
from evalkit.gates import GateInputs, GateResult
from evalkit.graders._base import GRADER_FAMILY
from evalkit.judging import JudgeRegistry
from evalkit.models import ModelClient, ModelRequest
from evalkit.models._batch import enable_batches
from evalkit.models._litellm import LiteLLMTransport
from evalkit.models._local import is_local
from evalkit.panel import PanelRule, combine_orders
from evalkit.records._answers import Answer
from evalkit.records._baselines import read_accepted, read_accepted_texts
from evalkit.records._judgments import judgments_frame
from evalkit.records._run import CacheOutage, ShardRecord
from evalkit.records._store import ANSWERS_FILE, JUDGMENTS_FILE, PROBES_FILE, JsonlAppender
from evalkit.session._app_models import SessionModels
from evalkit.session._endpoints import Endpoint, Resolver
from evalkit.session._engine import (
    SuiteContext,
    answer_all,
    grade_all,
    judge_all,
    lineage,
    question,
)
from evalkit.session._exam import run_exam
from evalkit.session._finalize import ClosedRun, finalize_run, table_file, write_part
from evalkit.session._group import (
    GroupResult,
    group_leaderboard,
    pairs,
    suites_of,
    worst_verdicts,
)
from evalkit.session._handoff import evaluate_once
from evalkit.session._prepare import prepare_suite
from evalkit.session._probes import probe_findings, probe_table, run_probes
from evalkit.session._progress import Progress, Writer
from evalkit.session._result import Conclusion, SuiteResult
from evalkit.session._signals import RunInterrupts
from evalkit.session._stop import StoppableCaller
from evalkit.session._suite import Suite


def panel_rule(ctx: SuiteContext) -> PanelRule:
    """The suite's panel rule, from its panel spec: the one rule of the summary, gates, report."""
    spec = ctx.panel.spec
    return PanelRule(
        aggregation=spec.aggregation, quorum=spec.quorum, disagreement=spec.disagreement,
        weights=spec.reliability_weights,
    )  # fmt: skip


class EvalSession:
    """The state of one run (see the module docstring)."""

    def __init__(
        self,
        config: EvalkitConfig,
        rootdir: Path,
        *,
        ci: bool = False,
        run_id: str | None = None,
        worker: str | None = None,
        progress: Writer | None = None,
        interrupts: RunInterrupts | None = None,
        profile: Profile | None = None,
    ) -> None:
        self.config = config.resolved(rootdir)
        #: where the run's time goes (the plugin prints it under --evalkit-profile).
        self.profile = profile or Profile()
        self.rootdir = rootdir
        self.ci = ci
        self.run_id = run_id or new_run_id()
        #: the pytest-xdist worker id (gw0, gw1, …) when running in one.
        self.worker = worker
        self._progress_writer = progress
        #: why a suite stopped before all its calls were made (the budget), by suite.
        self.stops: dict[str, str] = {}
        #: the run's answer to Ctrl-C and SIGTERM (the plugin installs it for the process).
        self.interrupts = interrupts or RunInterrupts()
        #: suites another xdist worker evaluated; that worker reports them.
        self._borrowed: set[str] = set()
        self.registry = JudgeRegistry(rootdir / "judges")
        self.results: dict[str, SuiteResult] = {}
        #: multi-candidate suites (their pairs are in ``results``), by name.
        self.groups: dict[str, GroupResult] = {}
        self.errors: dict[str, str] = {}
        self.started = time.time()
        self._resolver: Resolver | None = None
        self._caller: ModelClient | None = None
        self._apps = AppTransport(LiteLLMTransport())
        self._answers_out: JsonlAppender | None = None
        self._judgments_out: JsonlAppender | None = None
        self._probes_out: JsonlAppender | None = None
        #: which shard of which run this is (set by the plugin when ``config.shard`` is).
        self.shard: ShardRecord | None = None
        #: the run ids of the shards this run was merged from (set by ``evalkit merge``).
        self.merged_from: tuple[str, ...] = ()
        #: the shards' lost caches, when ``evalkit merge`` closes their run (run.json keeps them).
        self.shard_outages: tuple[CacheOutage, ...] = ()

    @property
    def run_dir(self) -> Path:
        """``reports/<run-id>/`` under the project root (or the configured reports folder)."""
        return self.config.reports_dir / self.run_id

    def _open(self) -> None:
        if self._resolver is not None:
            return
        self._resolver = Resolver(self.config.cache_dir)
        # Apps are called through the client like models (cache, limits, timeout, budget).
        self._caller = ModelClient.from_config(
            self.config,
            transport=self._apps,
            locate=self._resolver.locate,
            warn=self._progress_writer,
        )
        if self.config.execution == "batch":
            self._apps.fallback = enable_batches(
                self._caller, LiteLLMTransport(), self.config, note=self._progress_writer
            )
        self._apps.models = SessionModels(self._caller, self._resolver.resolve, self._caller.limits)
        self._answers_out = JsonlAppender(table_file(self.run_dir, ANSWERS_FILE, self.worker))
        self._judgments_out = JsonlAppender(table_file(self.run_dir, JUDGMENTS_FILE, self.worker))
        # Opened on the first probe row only: a run without probes writes no probes file.
        self._probes_out = JsonlAppender(
            table_file(self.run_dir, PROBES_FILE, self.worker), lazy=True
        )

    def suite_result(self, suite: Suite) -> SuiteResult:
        """Evaluate ``suite`` on first call and return its result; later calls reuse it.

        Raises:
            EvalkitError: bad input (reported before any call) or a run-stopping failure,
                its message naming the suite; an error with the same message is raised
                again for every later request of the suite.
        """
        if suite.candidates is not None:
            # Its pairs are suites of their own; one result would stand for all of them.
            raise UsageError(
                f"suite {suite.name!r} has several candidates: ask group_result() for it, "
                "whose pair(label) is each candidate's result"
            )
        result: SuiteResult = self._once(suite, self.results, lambda: self._run_suite(suite))
        return result

    def group_result(self, suite: Suite) -> GroupResult:
        """Evaluate a suite of several candidates (``candidates=``) on first call, pair by pair.

        Each pair runs as a suite of its own (see :mod:`evalkit.session._group`), recorded in
        :attr:`results` under its name; the group's leaderboard is fitted over them all.

        Raises:
            EvalkitError: as :meth:`suite_result`, naming the multi-candidate suite.
        """
        group: GroupResult = self._once(
            suite, self.groups, lambda: self._run_group(suite, self._run_suite)
        )
        return group

    def _once(self, suite: Suite, done: dict[str, Any], evaluate: Callable[[], Any]) -> Any:
        if suite.name in self.errors:
            raise EvalkitError(self.errors[suite.name])
        if suite.name not in done:
            try:
                if self.worker is None:
                    done[suite.name] = evaluate()
                else:
                    result, mine = evaluate_once(self.run_dir, suite.name, evaluate)
                    done[suite.name] = result
                    if not mine:
                        self._borrowed.add(suite.name)
            except EvalkitError as exc:
                self.errors[suite.name] = f"suite {suite.name!r}: {exc}"
                raise EvalkitError(self.errors[suite.name]) from exc
            # A signal during the suite stops the run only now, with the suite's result kept
            # (and handed to the other xdist workers) for the report.
            self.interrupts.raise_if_interrupted()
        return done[suite.name]

    def _run_group(self, suite: Suite, run_pair: Callable[[Suite], SuiteResult]) -> GroupResult:
        """The group's pairs, each by ``run_pair`` (run, or decided from recorded rows).

        The leaderboard is fitted over all the pairs' rows.
        """
        found = pairs(suite, suite.baseline_model(self.config.baseline))
        results: dict[str, SuiteResult] = {}
        for pair in found:
            # One after the other: a later pair's answers come from the cache the earlier
            # pairs filled, so each candidate is asked once.
            results[pair.label] = self.results[pair.suite.name] = run_pair(pair.suite)
        candidates = tuple(p.label for p in found if not p.round_robin)
        board = None
        if suite.mode == "pairwise":
            first = results[candidates[0]]
            board = group_leaderboard(
                suite.name, [r.judgments for r in results.values()], first.audit.rule,
                baseline=first.models["baseline"]["name"],
                verdicts=worst_verdicts([r.audit.verdicts() for r in results.values()]),
                confidence=self.config.confidence, seed=self.config.seed,
            )  # fmt: skip
        return GroupResult(suite.name, results, candidates, board)

    def preflight(self, suites: Iterable[Suite]) -> None:
        """Check every input of every suite before any model is called.

        Loads each dataset, validates each panel and its judges' specs and templates, renders
        each suite's prompt for every row, and asks the model layer whether each model can be
        called at all (a known provider, an API key when one is needed). Starts nothing.

        Raises:
            UsageError: the first problem found, naming the file, row, field or model.
        """
        cfg = self.config
        client = ModelClient.from_config(cfg)
        resolve = Resolver(cfg.cache_dir).resolve
        try:
            for suite in (one for declared in suites for one in suites_of(declared, cfg.baseline)):
                ctx = prepare_suite(suite, cfg, self.registry, resolve, run_id=self.run_id)
                for role, endpoint in ctx.models():
                    if is_local(endpoint.configured) or not endpoint.is_model:
                        continue  # a bundled model exists once resolved; apps need no key
                    try:
                        client.check(ModelRequest(model=endpoint.model, api_base=endpoint.api_base))
                    except PermanentModelError as exc:
                        raise ConfigError(f"suite {suite.name!r}, {role}: {exc}") from None
        finally:
            client.close()

    def _context(self, suite: Suite) -> SuiteContext:
        ctx = prepare_suite(suite, self.config, self.registry, self._resolve, run_id=self.run_id)
        assert self._caller is not None
        for _, endpoint in ctx.models():
            if endpoint.concurrency is not None:
                self._caller.limits.per_model[endpoint.model] = endpoint.concurrency
            if endpoint.app is not None:
                self._apps.add(endpoint.app)
        return ctx

    def _resolve(self, name: str, **overrides: Any) -> Endpoint:
        # The run's files are opened on the first model resolved: prepare_suite has checked
        # every input by then, so a suite with a bad input leaves nothing behind.
        self._open()
        assert self._resolver is not None
        return self._resolver.resolve(name, **overrides)

    def _run_suite(self, suite: Suite) -> SuiteResult:
        # Checked here, under the xdist handoff lock too: no suite starts once the run stops.
        self.interrupts.raise_if_interrupted()
        with self.interrupts.protect():
            return self._evaluate(suite)

    def _evaluate(self, suite: Suite) -> SuiteResult:
        ctx = self._context(suite)
        decisions, skip = lineage(ctx)
        assert self._answers_out is not None
        assert self._judgments_out is not None
        progress = Progress(ctx.suite.name, self._progress_writer)
        answers_out = self._checkpointed(progress.sink(self._answers_out), "answer")
        judgments_out = self._checkpointed(progress.sink(self._judgments_out), "judgment")

        assert self._caller is not None
        client = self._caller
        caller = StoppableCaller(client)

        write = self._progress_writer

        async def run() -> tuple[Any, Any, Any, Any]:
            beat = asyncio.ensure_future(progress.heartbeat(lambda: client.in_flight))
            try:
                with self.interrupts.stopping(lambda: caller.stop("interrupted")):
                    with self.profile.phase("answers"):
                        cand, *rest = await asyncio.gather(
                            *(answer_all(ctx, caller, role, ctx.endpoint(role), answers_out)
                              for role in ctx.roles())
                        )  # fmt: skip
                        # A scored suite without a baseline has no baseline answers at all.
                        base = rest[0] if rest else {}
                    with self.profile.phase("judge calls"):
                        graded = grade_all(ctx, cand, base, judgments_out)
                        judged = await judge_all(ctx, caller, cand, base, skip, judgments_out)
                        probed: list[dict[str, Any]] = []
                        if ctx.suite.probes:
                            assert self._probes_out is not None
                            probed = await run_probes(
                                ctx, caller, cand, base, panel_rule(ctx), judged, skip,
                                self._checkpointed(self._probes_out.append, "probe"),
                            )  # fmt: skip
                        if ctx.suite.exam:
                            assert self._probes_out is not None
                            examined, notes = await run_exam(
                                ctx, caller, cand, base, graded, skip,
                                self._checkpointed(self._probes_out.append, "probe"),
                                seed=self.config.seed,
                            )  # fmt: skip
                            probed += examined
                            if write is not None:
                                for note in notes:
                                    write(f"evalkit: {note}\n")
            finally:
                beat.cancel()
                # HTTP clients belong to this event loop; close them before asyncio.run ends it.
                await client.aclose()
            return cand, base, graded + judged, probed

        cand, base, rows, probed = asyncio.run(run())
        self.interrupts.checkpoint("analysis")
        table = judgments_frame(rows)
        if caller.over_budget:
            self.stops[suite.name] = (
                f"budget reached: {caller.over_budget} calls were not made "
                f"({caller.budget_message}); at the average paid call so far the rest would "
                "cost about "
                f"${caller.estimate_rest_usd():.4f}"
            )
        answers = {"candidate": cand, "baseline": base}
        return self._analyse(ctx, table, answers, decisions, probe_table(probed))

    def _checkpointed(self, sink: Callable[[Any], None], phase: str) -> Callable[[Any], None]:
        def append(row: Any) -> None:
            sink(row)
            self.interrupts.checkpoint(phase)

        return append

    def _analyse(
        self,
        ctx: SuiteContext,
        table: pd.DataFrame,
        answers: Any,
        decisions: Any,
        probes: pd.DataFrame | None = None,
    ) -> SuiteResult:
        spec = ctx.panel.spec
        cfg = self.config
        # Deterministic graders share the table so that gates can combine them with judges,
        # but they are not judges: the panel sees the judges' rows only.
        graded = table["judge_family"] == GRADER_FAMILY
        judged = table.loc[~graded].reset_index(drop=True)
        # One rule for the summary, the gates and the report: the audit applies it, and its
        # panel is the suite's panel.
        rule = panel_rule(ctx)
        stats, checks = None, None
        if probes is not None and len(probes):
            stats, _, checks = probe_findings(
                probes, cfg.reliability, confidence=cfg.confidence, seed=cfg.seed
            )
        with self.profile.phase("audit"):
            # The whole table: the audit's judge statistics leave the graders' rows out, and
            # measure the judges against them (fluent but wrong).
            audit = run_audit(
                table, confidence=cfg.confidence, thresholds=cfg.reliability, seed=cfg.seed,
                rule=rule,
                extra_checks=checks,
            )  # fmt: skip
        if ctx.suite.mode == "pairwise":
            combined, panel = combine_orders(judged, rule.disagreement), audit.panel
        else:
            combined, panel = judged, audit.score_panel
        clean = [item for item in ctx.items if variant_of(item) is None]
        asked = tuple(question(ctx, item) for item in clean)
        said = [a.text for i in clean if (a := answers["candidate"].get(i.id)) and a.text]
        texts = keep_texts(asked, said, seed=cfg.seed)
        inputs = GateInputs(
            combined=combined,
            panel=panel,
            confidence=cfg.confidence,
            reliability=audit.reliability,
            accepted=read_accepted(cfg.baselines_dir, ctx.suite.name),
            seed=cfg.seed,
            graded=table.loc[graded].reset_index(drop=True),
            candidate=ctx.candidate.name,
            inputs=asked,
            variants={i.id: v for i in ctx.items if (v := variant_of(i)) is not None},
            texts=texts,
            accepted_texts=read_accepted_texts(cfg.baselines_dir, ctx.suite.name),
        )
        with self.profile.phase("gates"):
            gates = [gate.evaluate(inputs) for gate in ctx.suite.gates]
        models = {
            "candidate": {"name": ctx.candidate.name, "family": ctx.candidate.family},
            "baseline": None
            if ctx.baseline is None
            else {"name": ctx.baseline.name, "family": ctx.baseline.family},
            "panel": ctx.panel.name,
            "mode": ctx.suite.mode,
            "family_policy": spec.family_policy,
            "judges": [{"name": n, "model": e.name, "family": e.family}
                       for n, e in ctx.judges.items()],
            "graders": [g.name for g in ctx.graders],
        }  # fmt: skip
        return SuiteResult(
            name=ctx.suite.name, judgments=table, answers=answers, combined=combined,
            panel=panel, position=audit.position, audit=audit,
            gates=gates, lineage=decisions, models=models, texts=texts, probes=probes,
            probe_stats=stats,
        )  # fmt: skip

    def analyse_recorded(
        self,
        suite: Suite,
        table: pd.DataFrame,
        answers: Mapping[str, Mapping[str, Mapping[str, Answer]]],
        probes: pd.DataFrame | None = None,
    ) -> None:
        """Decide ``suite`` from judgments, answers and probe rows made elsewhere, calling no model.

        ``table`` and ``probes`` hold the run's rows (any suite's), ``answers`` its answers by
        suite, role and item id, as ``evalkit merge`` joins them from the shards of a run: the
        audit, the panel verdicts and the gates are computed exactly as at the end of a run,
        and the result is kept for :meth:`finish` like a suite that ran here. A suite with
        ``candidates`` is decided pair by pair, and its leaderboard fitted over them all.

        Raises:
            UsageError: the suite's inputs are invalid (as before a run).
        """

        def decide(one: Suite) -> SuiteResult:
            ctx = self._context(one)
            decisions, _ = lineage(ctx)
            rows = table.loc[table["suite"] == one.name].reset_index(drop=True)
            own = None
            if probes is not None and len(probes):
                own = probes.loc[probes["suite"] == one.name].reset_index(drop=True)
            self.results[one.name] = self._analyse(
                ctx, rows, dict(answers.get(one.name, {})), decisions, own
            )
            return self.results[one.name]

        if suite.candidates is None:
            decide(suite)
        else:
            self.groups[suite.name] = self._run_group(suite, decide)

    def inconclusive_fails(self) -> bool:
        """Whether an inconclusive gate fails the run: as configured, else only in CI."""
        policy = self.config.inconclusive or ("fail" if self.ci else "warn")
        return policy == "fail"

    def gate_conclusion(self, result: GateResult) -> Conclusion:
        """How the test of a gate ends: passed, failed, or (inconclusive, not failing) skipped.

        An inconclusive gate fails when :meth:`inconclusive_fails`; the message starts with
        the gate's outcome in capitals (``FAIL: ...``, ``INCONCLUSIVE: ...``). In a shard,
        every gate is skipped, saying what it was on the shard's items (see :meth:`_partial`).
        """
        self.interrupts.checkpoint("gate")
        if result.outcome == "pass":
            conclusion = Conclusion("passed")
        elif result.outcome == "fail" or self.inconclusive_fails():
            conclusion = Conclusion("failed", f"{result.outcome.upper()}: {result.message}")
        else:
            conclusion = Conclusion("skipped", f"INCONCLUSIVE: {result.message}")
        # Even a passing gate: on part of the items, it has not passed.
        return self._partial(conclusion, f"{result.outcome.upper()}: {result.message}")

    def item_conclusion(self, result: SuiteResult, item_id: str) -> Conclusion:
        """How the test of an item ends: as :meth:`SuiteResult.item_conclusion` says.

        In a shard, a failure is only reported (see :meth:`_partial`).
        """
        conclusion = result.item_conclusion(item_id)
        if conclusion.status == "passed":
            return conclusion
        return self._partial(conclusion, conclusion.message)

    def _partial(self, conclusion: Conclusion, what: str) -> Conclusion:
        """``conclusion``, or in a shard a skip that says ``what`` it was on the shard's items.

        A shard's exit code says only whether the shard ran: ``evalkit merge`` decides the
        gates, and fails the run on an unanswered item, on the whole run.
        """
        shard = self.config.shard
        if shard is None:
            return conclusion
        return Conclusion(
            "skipped",
            f"shard {shard}: decided by `evalkit merge` on the whole run; on this shard's "
            f"items alone: {what}",
        )

    def finish(self, *, interrupted: bool = False) -> ClosedRun | None:
        """Stop local models, close the results files, and close the run.

        In a pytest-xdist worker, leave this worker's results for the controller and return
        None; otherwise write run.json and report.html and return the run's record and report
        (None when no suite ran, or a second signal aborted the run). The run is marked
        interrupted when ``interrupted`` or a signal arrived; a first signal while this runs
        waits for it.

        Raises:
            KeyboardInterrupt: a second signal aborted the run while this ran.
        """
        with self.interrupts.protect():
            return self._finish(interrupted=interrupted)

    @property
    def interrupted(self) -> bool:
        """Whether a signal stopped the run."""
        return self.interrupts.interrupted

    def _finish(self, *, interrupted: bool) -> ClosedRun | None:
        self.interrupts.checkpoint("finish")
        if self._resolver is not None:
            self._resolver.close()
        for out in (self._answers_out, self._judgments_out, self._probes_out):
            if out is not None:
                out.close()
        suites = [
            r.record().model_copy(update={"stopped": self.stops.get(n)})
            for n, r in self.results.items()
            if n not in self._borrowed
        ] + [g.record() for n, g in self.groups.items() if n not in self._borrowed]
        if self.interrupts.aborted:
            return None  # what is on disk stays; nothing more is written
        interrupted = interrupted or self.interrupted
        outage = None if self._caller is None else self._caller.cache.outage()
        outages = [*self.shard_outages]
        if outage is not None:
            outages.append(outage.model_copy(update={"worker": self.worker}))
        if self.worker is not None:
            if suites or self.errors:
                write_part(self.run_dir, self.worker, suites, self.errors, self.shard, outages)
            return None
        return finalize_run(
            self.run_dir, self.config, suites=suites, errors=self.errors, started=self.started,
            interrupted=interrupted, shard=self.shard, merged_from=self.merged_from,
            cache_outages=outages,
        )  # fmt: skip
