"""One evaluation run: the suites of a pytest session, their model calls, results and report.

An :class:`EvalSession` is created by the pytest plugin (or the CLI) with a validated config
and lives on ``config.stash``. It starts nothing until a suite's first test runs; then it
evaluates that whole suite in one concurrent batch, appends every answer and judgment to the
run folder as it lands, audits the result and decides the suite's gates. :meth:`finish` writes
``run.json`` and ``report.html`` and stops any local model servers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit._version import __version__
from evalkit.audit import combine_orders, panel_verdicts, position_bias, run_audit
from evalkit.config import EvalkitConfig
from evalkit.errors import EvalkitError
from evalkit.gates import GateInputs, GateResult
from evalkit.judging import JudgeRegistry
from evalkit.models import ModelClient
from evalkit.records import (
    ANSWERS_FILE,
    JUDGMENTS_FILE,
    REPORT_FILE,
    RUN_FILE,
    JsonlAppender,
    judgments_frame,
    read_accepted,
    write_accepted,
    write_json_atomic,
    write_text_atomic,
)
from evalkit.report import load_run, render
from evalkit.session._endpoints import Resolver
from evalkit.session._engine import SuiteContext, answer_all, judge_all, lineage
from evalkit.session._result import SuiteResult
from evalkit.session._suite import Suite

DEFAULT_CANDIDATE = "local/smollm2-135m-instruct"
DEFAULT_BASELINE = "local/gemma-3-270m"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus a short random suffix."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class EvalSession:
    """The state of one run (see the module docstring)."""

    def __init__(self, config: EvalkitConfig, rootdir: Path, *, ci: bool = False) -> None:
        self.config = config
        self.rootdir = rootdir
        self.ci = ci
        self.run_id = new_run_id()
        self.registry = JudgeRegistry(rootdir / "judges")
        self.results: dict[str, SuiteResult] = {}
        self.errors: dict[str, str] = {}
        self.started = time.time()
        self.status = "running"
        self._resolver: Resolver | None = None
        self._caller: ModelClient | None = None
        self._answers_out: JsonlAppender | None = None
        self._judgments_out: JsonlAppender | None = None

    @property
    def run_dir(self) -> Path:
        """``reports/<run-id>/`` under the project root (or the configured reports folder)."""
        reports = self.config.reports_dir
        return (reports if reports.is_absolute() else self.rootdir / reports) / self.run_id

    def _open(self) -> None:
        if self._resolver is not None:
            return
        cache_dir = self.config.cache_dir
        cache_dir = cache_dir if cache_dir.is_absolute() else self.rootdir / cache_dir
        self._resolver = Resolver(cache_dir)
        self._caller = ModelClient.from_config(
            self.config.model_copy(update={"cache_dir": cache_dir})
        )
        self._answers_out = JsonlAppender(self.run_dir / ANSWERS_FILE)
        self._judgments_out = JsonlAppender(self.run_dir / JUDGMENTS_FILE)

    def suite_result(self, suite: Suite) -> SuiteResult:
        """Evaluate ``suite`` on first call and return its result; later calls reuse it.

        Raises:
            EvalkitError: bad input (reported before any call) or a run-stopping failure;
                the same error is raised again for every later test of the suite.
        """
        if suite.name in self.errors:
            pytest.fail(self.errors[suite.name], pytrace=False)
        if suite.name not in self.results:
            try:
                self.results[suite.name] = self._run_suite(suite)
            except EvalkitError as exc:
                self.errors[suite.name] = f"suite {suite.name!r}: {exc}"
                pytest.fail(self.errors[suite.name], pytrace=False)
        return self.results[suite.name]

    def _context(self, suite: Suite) -> SuiteContext:
        # Everything that can be wrong with the input is checked here, before any call.
        items = suite.items()
        panel = self.registry.panel(suite.panel or self.config.panel)
        self._open()
        assert self._resolver is not None
        resolve = self._resolver.resolve
        judges = {
            j.name: resolve(
                j.spec.model, family=j.family, prompt_style=j.spec.prompt_style,
                api_base=j.spec.api_base,
            )
            for j in panel.judges
        }  # fmt: skip
        cfg = self.config
        candidate = resolve(
            suite.candidate or cfg.candidate or DEFAULT_CANDIDATE, api_base=cfg.candidate_api_base
        )
        baseline = resolve(
            suite.baseline or cfg.baseline or DEFAULT_BASELINE, api_base=cfg.baseline_api_base
        )
        assert self._caller is not None
        for endpoint in (candidate, baseline, *judges.values()):
            if endpoint.concurrency is not None:
                self._caller.limits.per_model[endpoint.model] = endpoint.concurrency
        return SuiteContext(
            run_id=self.run_id, suite=suite, items=items, candidate=candidate,
            baseline=baseline, panel=panel, judges=judges, templates=self.registry.templates,
        )  # fmt: skip

    def _run_suite(self, suite: Suite) -> SuiteResult:
        ctx = self._context(suite)
        decisions, skip = lineage(ctx)
        assert self._answers_out is not None
        assert self._judgments_out is not None
        answers_out, judgments_out = self._answers_out, self._judgments_out

        client = self._caller
        assert client is not None

        async def run() -> tuple[Any, Any, Any]:
            try:
                cand, base = await asyncio.gather(
                    answer_all(ctx, client, "candidate", ctx.candidate, answers_out.append),
                    answer_all(ctx, client, "baseline", ctx.baseline, answers_out.append),
                )
                rows = await judge_all(ctx, client, cand, base, skip, judgments_out.append)
            finally:
                # HTTP clients belong to this event loop; close them before asyncio.run ends it.
                await client.aclose()
            return cand, base, rows

        cand, base, rows = asyncio.run(run())
        table = judgments_frame(rows)
        return self._analyse(ctx, table, {"candidate": cand, "baseline": base}, decisions)

    def _path(self, path: Path) -> Path:
        return path if path.is_absolute() else self.rootdir / path

    def _analyse(
        self, ctx: SuiteContext, table: pd.DataFrame, answers: Any, decisions: Any
    ) -> SuiteResult:
        spec = ctx.panel.spec
        cfg = self.config
        combined = combine_orders(table, disagreement=spec.disagreement)
        panel = panel_verdicts(combined, method=spec.aggregation, quorum=spec.quorum)
        audit = run_audit(table, confidence=cfg.confidence, seed=cfg.seed, quorum=spec.quorum)
        inputs = GateInputs(
            combined=combined,
            panel=panel,
            confidence=cfg.confidence,
            reliability=audit.reliability,
            accepted=read_accepted(self._path(cfg.baselines_dir), ctx.suite.name),
            seed=cfg.seed,
        )
        gates = [gate.evaluate(inputs) for gate in ctx.suite.gates]
        models = {
            "candidate": {"name": ctx.candidate.name, "family": ctx.candidate.family},
            "baseline": {"name": ctx.baseline.name, "family": ctx.baseline.family},
            "panel": ctx.panel.name,
            "judges": [{"name": n, "model": e.name, "family": e.family}
                       for n, e in ctx.judges.items()],
        }  # fmt: skip
        return SuiteResult(
            name=ctx.suite.name, judgments=table, answers=answers, combined=combined,
            panel=panel, position=position_bias(table, confidence=cfg.confidence), audit=audit,
            gates=gates, lineage=decisions, models=models,
        )  # fmt: skip

    def accept(self) -> list[Path]:
        """Record every suite of this run as its accepted run; return the files written."""
        written = []
        for result in self.results.values():
            record = {
                "run_id": self.run_id,
                "accepted_at": time.time(),
                "models": dict(result.models),
                "panel": result.panel_records(),
            }
            written.append(
                write_accepted(self._path(self.config.baselines_dir), result.name, record)
            )
        return written

    def inconclusive_fails(self) -> bool:
        """Whether an inconclusive gate fails the run: as configured, else only in CI."""
        policy = self.config.inconclusive or ("fail" if self.ci else "warn")
        return policy == "fail"

    def enforce_gate(self, result: GateResult) -> None:
        """Turn a gate's outcome into the pytest outcome of its test."""
        if result.outcome == "pass":
            return
        if result.outcome == "fail" or self.inconclusive_fails():
            pytest.fail(f"{result.outcome.upper()}: {result.message}", pytrace=False)
        pytest.skip(f"INCONCLUSIVE: {result.message}")

    def finish(self, *, interrupted: bool = False) -> Path | None:
        """Write run.json and report.html and stop local models; return the report path.

        Does nothing (and returns None) when no suite ran.
        """
        if self._resolver is not None:
            self._resolver.close()
        for out in (self._answers_out, self._judgments_out):
            if out is not None:
                out.close()
        if not self.results and not self.errors:
            return None
        self.status = "interrupted" if interrupted else "complete"
        run = {
            "run_id": self.run_id,
            "status": self.status,
            "evalkit_version": __version__,
            "config_digest": self.config.digest(),
            "config": self.config.model_dump(mode="json"),
            "started": self.started,
            "finished": time.time(),
            "suites": [r.to_dict() for r in self.results.values()],
            "errors": self.errors,
            "host": os.uname().nodename if hasattr(os, "uname") else "",
        }
        if self.config.accept and not interrupted and not self.errors:
            run["accepted"] = [str(p) for p in self.accept()]
        write_json_atomic(self.run_dir / RUN_FILE, run)
        report = self.run_dir / REPORT_FILE
        write_text_atomic(report, render(load_run(self.run_dir)))
        return report
