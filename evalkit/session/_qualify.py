"""Qualifying a panel before adopting it: bias probes on a dataset's own answer pairs, no candidate.

``evalkit probe`` (see :mod:`evalkit._cli_probe`) calls :func:`qualify`. Each dataset row
holds a question (the fields the prompt reads) and two answers to it, in the fields named
``first`` and ``second`` (by default ``answer_a`` and ``answer_b``); nothing is generated.
There is no panel verdict to say which answer is worse, so the run has two phases: every
judge judges the unedited pairs in both orders, the majority of those verdicts picks each
item's preferred answer, and then every judge judges each probe's edit of the other one. The
calls go through the same model client as a suite's (cache, budget, limits, retries), so a
rerun is free. Rows are appended to ``probes.jsonl`` in the run folder as they land.

With ``exam=N`` the judges also sit the qualification exam, judged in the first phase (its
pairs need no preference): :func:`evalkit.probes._exam.exam_plan` on a seeded sample of ``N``
rows, its known answers declared by the dataset itself — a row's ``better`` field (``a`` or
``b``) names the answer that is correct, the other one being wrong (``exam:graded``, and
errors are planted in the correct one), and a row's ``reference`` is a correct text to plant
errors in. Which answer is *better* is not guessed from the references: a team that knows
which answer is wrong says so. A dataset with neither is refused before any call ("exam not
measurable: no known-answer items"). Without probes, only the exam is judged.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.candidates._recorded import Recorded
from evalkit.config import EvalkitConfig
from evalkit.errors import UsageError
from evalkit.judging import JudgeRegistry
from evalkit.models import ModelClient
from evalkit.models._families import UNKNOWN
from evalkit.probes._edits import UNEDITED
from evalkit.probes._exam import ExamPlan, declared_passing, exam_candidates, exam_plan
from evalkit.probes._pair import Side
from evalkit.records._answers import Answer, Role
from evalkit.records._store import PROBES_FILE, JsonlAppender
from evalkit.session._endpoints import Resolver, recorded_endpoint
from evalkit.session._engine import SuiteContext, question
from evalkit.session._prepare import prepare_suite
from evalkit.session._probes import (
    probe_all,
    probe_findings,
    probe_pairs,
    probe_table,
    rewrite_failures,
    rewrites,
    seeded_sample,
    unedited_pairs,
)
from evalkit.session._suite import Suite


@dataclasses.dataclass(frozen=True)
class Qualification:
    """What :func:`qualify` measured: the probe table, its statistics and check rows."""

    run_dir: Path
    table: pd.DataFrame
    stats: pd.DataFrame
    checks: pd.DataFrame
    #: each judge's exam accuracy (:func:`~evalkit.probes._exam_stats.exam_accuracy`; empty
    #: without an exam) and the exam plan's notes (a capped sample).
    exam: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    def untrusted(self) -> list[str]:
        """The judges an untrusted probe or exam check rules out, sorted."""
        bad = self.checks.loc[self.checks["status"] == "untrusted", "judge"]
        return sorted({str(j) for j in bad})

    def lines(self) -> list[str]:
        """One line per (judge, probe) and per judge's exam, then the judges ruled out."""
        out = [f"  {row['judge']:<16} {row['check']:<22} {row['status']:<12} {row['message']}"
               for row in self.checks.to_dict("records")]  # fmt: skip
        kinds = set(self.checks["check"]) if len(self.checks) else set()
        ran = " and ".join(
            what for what, ran in (("probes", kinds - {"exam"}), ("exam", kinds & {"exam"})) if ran
        )
        bad = self.untrusted()
        out.append(f"untrusted by the {ran}: {', '.join(bad)}" if bad else "no judge flagged")
        return out


def majority_preference(table: pd.DataFrame) -> dict[str, Side | None]:
    """Each item's preferred answer by the judges' unedited verdicts (None: a tie or none).

    >>> t = pd.DataFrame({"item_id": ["q", "q", "q", "r"], "probe": "unedited",
    ...                   "status": "ok", "verdict": ["a", "a", "b", "tie"]})
    >>> majority_preference(t)
    {'q': 'a', 'r': None}
    """
    base = table.loc[(table["probe"] == UNEDITED) & (table["status"] == "ok")]
    out: dict[str, Side | None] = {}
    for item_id, verdicts in base.groupby("item_id", sort=True)["verdict"]:
        a, b = int((verdicts == "a").sum()), int((verdicts == "b").sum())
        out[str(item_id)] = "a" if a > b else "b" if b > a else None
    return out


def qualify(
    config: EvalkitConfig,
    rootdir: Path,
    *,
    panel: str,
    dataset: Path,
    probes: Sequence[str],
    items: int,
    prompt: str = "{{ question }}",
    first: str = "answer_a",
    second: str = "answer_b",
    seed: int = 0,
    run_id: str,
    exam: int | None = None,
    reference: str = "reference",
    better: str = "better",
) -> Qualification:
    """Probe ``panel``'s judges on ``items`` seeded rows of ``dataset`` (see the module).

    ``exam`` rows (a seeded sample of those with a known answer; capped, with a note) give
    the exam's pairs, from the rows' ``reference`` and ``better`` fields.

    Raises:
        UsageError: an unknown probe, a panel that is not pairwise, a row without a field the
            prompt reads or without either answer, more items than the dataset has, an exam
            with no known-answer row, or a ``better`` value other than a or b; all found
            before any call.
    """
    cfg = config.resolved(rootdir)
    suite = Suite(
        "probe", dataset=dataset, prompt=prompt, panel=panel, probes=list(probes),
        probe_items=items, probe_seed=seed, base_dir=rootdir, gates=(),
        candidate=Recorded(column=first, name=first),
    )  # fmt: skip
    registry = JudgeRegistry(rootdir / "judges")
    resolver = Resolver(cfg.cache_dir)
    ctx = prepare_suite(suite, cfg, registry, resolver.resolve, run_id=run_id)
    if ctx.panel.mode != "pairwise":
        raise UsageError(f"--panel {panel}: judges {ctx.panel.mode}; probes need a pairwise panel")
    second_source = Recorded(column=second, name=second)
    answers = second_source.load(ctx.items, rootdir, suite.dataset_path())
    ctx = dataclasses.replace(ctx, baseline=recorded_endpoint(second_source, answers))
    assert ctx.candidate.recorded is not None
    texts_a = {k: v.text for k, v in ctx.candidate.recorded.items()}
    texts_b = {k: v.text for k, v in answers.items()}
    chosen = seeded_sample(ctx.items, items, seed=seed, name=suite.name) if probes else []
    bases = unedited_pairs(ctx, chosen, texts_a, texts_b)
    plan = None if exam is None else _exam_plan(ctx, dataset, exam, seed, texts_a, texts_b,
                                                first=first, second=second, reference=reference,
                                                better=better)  # fmt: skip
    extra = () if plan is None else plan.pairs
    client = ModelClient.from_config(cfg, locate=resolver.locate)
    out = JsonlAppender(cfg.reports_dir / run_id / PROBES_FILE, lazy=True)

    async def run() -> list[dict[str, Any]]:
        try:
            everyone = {judge.name: [*bases, *extra] for judge in ctx.panel.judges}
            rows = await probe_all(ctx, client, everyone, out.append)
            preferred = majority_preference(probe_table(rows))
            made, failed = await rewrites(ctx, client, bases, preferred)
            unmade = rewrite_failures(ctx, bases, preferred, failed)
            for row in unmade:
                out.append(row)
            edits = probe_pairs(ctx, bases, preferred, unedited=False, rewrites=made)
            return rows + unmade + await probe_all(ctx, client, edits, out.append)
        finally:
            await client.aclose()

    try:
        rows = asyncio.run(run())
    finally:
        out.close()
        client.close()
        resolver.close()
    table = probe_table(rows)
    stats, accuracy, checks = probe_findings(
        table, cfg.reliability, confidence=cfg.confidence, seed=cfg.seed
    )
    notes = () if plan is None else plan.notes
    return Qualification(cfg.reports_dir / run_id, table, stats, checks, accuracy, notes)


def _exam_plan(
    ctx: SuiteContext,
    dataset: Path,
    n: int,
    seed: int,
    texts_a: Mapping[str, str | None],
    texts_b: Mapping[str, str | None],
    *,
    first: str,
    second: str,
    reference: str,
    better: str,
) -> ExamPlan:
    """The exam of ``n`` rows, its known answers declared by the rows (see the module)."""
    if n < 1:
        raise UsageError(f"--exam {n}: the exam needs at least 1 row")
    passes = declared_passing(ctx.items, str(dataset), first=first, second=second,
                              better_field=better)  # fmt: skip
    referenced = exam_candidates(ctx.items, has_graders=False, reference_field=reference)
    if passes.empty and not referenced:
        raise UsageError(
            f"--exam {n}: exam not measurable: no known-answer items in {dataset}; give its "
            f"rows a {reference!r} field (a correct answer, --reference) or a {better!r} field "
            f"(a or b: which of {first!r} and {second!r} is correct, --better), or leave out "
            "--exam"
        )
    sources: tuple[tuple[Role, str, Mapping[str, str | None]], ...] = (
        ("candidate", first, texts_a),
        ("baseline", second, texts_b),
    )
    answers = [
        _answer(ctx, item.id, role, field, text)
        for role, field, texts in sources
        for item in ctx.items
        if (text := texts.get(item.id))
    ]
    return exam_plan(
        ctx.suite.name, ctx.items, answers, pd.DataFrame(), n=n, seed=seed,
        reference_field=reference, passes=passes,
        questions={item.id: question(ctx, item) for item in ctx.items},
    )  # fmt: skip


def _answer(ctx: SuiteContext, item_id: str, role: Role, field: str, text: str) -> Answer:
    """A dataset row's recorded answer as the exam reads it: the field name is its model."""
    return Answer(
        run_id=ctx.run_id, suite=ctx.suite.name, item_id=item_id, role=role, model=field,
        family=UNKNOWN, prompt="", text=text, status="ok", error=None, latency_s=0.0,
        input_tokens=0, output_tokens=0, cost_usd=0.0, cached=False,
    )  # fmt: skip
