"""Qualifying a panel before adopting it: bias probes on a dataset's own answer pairs, no candidate.

``evalkit probe`` (see :mod:`evalkit._cli_probe`) calls :func:`qualify`. Each dataset row
holds a question (the fields the prompt reads) and two answers to it, in the fields named
``first`` and ``second`` (by default ``answer_a`` and ``answer_b``); nothing is generated.
There is no panel verdict to say which answer is worse, so the run has two phases: every
judge judges the unedited pairs in both orders, the majority of those verdicts picks each
item's preferred answer, and then every judge judges each probe's edit of the other one. The
calls go through the same model client as a suite's (cache, budget, limits, retries), so a
rerun is free. Rows are appended to ``probes.jsonl`` in the run folder as they land.

Exam pairs (known-answer questions, ``kind="exam"``) can be judged in the first phase as they
are: pass them as ``extra`` (the hook for :func:`evalkit.probes._exam.exam_pairs`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.candidates._recorded import Recorded
from evalkit.config import EvalkitConfig
from evalkit.errors import UsageError
from evalkit.judging import JudgeRegistry
from evalkit.models import ModelClient
from evalkit.probes import ProbePair
from evalkit.probes._edits import UNEDITED
from evalkit.probes._pair import Side
from evalkit.probes._stats import probe_checks, probe_stats
from evalkit.records._store import PROBES_FILE, JsonlAppender
from evalkit.session._endpoints import Resolver, recorded_endpoint
from evalkit.session._prepare import prepare_suite
from evalkit.session._probes import (
    probe_all,
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

    def untrusted(self) -> list[str]:
        """The judges an untrusted probe check rules out, sorted."""
        bad = self.checks.loc[self.checks["status"] == "untrusted", "judge"]
        return sorted({str(j) for j in bad})

    def lines(self) -> list[str]:
        """One line per (judge, probe), then the judges the probes rule out."""
        out = [f"  {row['judge']:<16} {row['check']:<22} {row['status']:<12} {row['message']}"
               for row in self.checks.to_dict("records")]  # fmt: skip
        bad = self.untrusted()
        out.append(f"untrusted by the probes: {', '.join(bad)}" if bad else "no judge flagged")
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
    extra: Sequence[ProbePair] = (),
) -> Qualification:
    """Probe ``panel``'s judges on ``items`` seeded rows of ``dataset`` (see the module).

    Raises:
        UsageError: an unknown probe, a panel that is not pairwise, a row without a field the
            prompt reads or without either answer, or more items than the dataset has; all
            found before any call.
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
    chosen = seeded_sample(ctx.items, items, seed=seed, name=suite.name)
    bases = unedited_pairs(ctx, chosen, texts_a, texts_b)
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
    t = cfg.reliability
    stats = probe_stats(table, confidence=cfg.confidence, alpha=t.probe_alpha, seed=cfg.seed)
    return Qualification(cfg.reports_dir / run_id, table, stats, probe_checks(stats, t))
