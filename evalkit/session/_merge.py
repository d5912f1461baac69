"""``evalkit merge``: the shards of a run joined into one run folder, decided on the whole.

Each shard (``pytest --evalkit-shard=K/N``) ran a part of every suite's items and wrote a run
folder whose run.json says which shard of which run it is. The merge checks that the folders
are the N shards of one run — same run group, settings, evalkit version and datasets, each
shard once, none missing, none stopped — before it writes anything. It then appends their
tables (judgments, answers, and any other ``*.jsonl`` table) into one folder, and decides every
suite as the session does at the end of a run (:meth:`EvalSession.analyse_recorded` and
:meth:`EvalSession.finish`): the audit, the panel verdicts and the gates are computed on the
whole table, never averaged from the shards' partial ones.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from evalkit.config import EvalkitConfig
from evalkit.errors import UsageError
from evalkit.records import RunRecord, read_run
from evalkit.records._answers import Answer
from evalkit.records._judgments import coerce_judgments
from evalkit.records._run import ShardRecord, SuiteSource
from evalkit.records._shard import dataset_digest
from evalkit.records._store import (
    ANSWERS_FILE,
    JUDGMENTS_FILE,
    PROBES_FILE,
    RUN_FILE,
    iter_jsonl,
    read_table,
)
from evalkit.session._finalize import ClosedRun
from evalkit.session._group import suites_of
from evalkit.session._session import EvalSession
from evalkit.session._suite import Suite


@dataclasses.dataclass(frozen=True)
class Shard:
    """A run folder that holds one shard of a run, and its run.json."""

    path: Path
    record: RunRecord

    @property
    def spec(self) -> ShardRecord:
        """Which shard of which run it is."""
        assert self.record.shard is not None
        return self.record.shard

    @property
    def label(self) -> str:
        """``shard 2/8 (reports/…)``: how messages name it."""
        return f"shard {self.spec.index}/{self.spec.count} ({self.path})"


@dataclasses.dataclass(frozen=True)
class MergedRun:
    """The merged run folder, and the exit code a single run of the same items gives."""

    closed: ClosedRun
    exit_code: int


def read_shards(folders: Sequence[Path]) -> list[Shard]:
    """Read and check the run folders given to ``evalkit merge``; in shard order.

    Raises:
        UsageError: a folder is not a shard (no run.json, or a run that was not sharded), a
            shard stopped (interrupted, or a suite could not run), shards belong to
            different runs (run group, settings, evalkit version, datasets, number of
            shards), a shard is given twice or missing; the message names them.
    """
    if not folders:
        raise UsageError("no run folder given; pass the folders of every shard of the run")
    shards = [_read_shard(folder) for folder in folders]
    first = shards[0]
    for what, value in (
        ("number of shards", lambda s: s.spec.count),
        ("evalkit version", lambda s: s.record.evalkit_version),
        ("settings (config digest)", lambda s: s.record.config_digest),
        ("datasets", lambda s: {n: v.dataset_digest for n, v in s.spec.suites.items()}),
        ("run group", lambda s: s.spec.group),
    ):
        other = [s for s in shards if value(s) != value(first)]
        if other:
            raise UsageError(
                f"the shards are not of one run: their {what} differ: {first.label} has "
                f"{value(first)!r}, {other[0].label} has {value(other[0])!r}; merge the shards "
                "of one run (give all shards the same EVALKIT_RUN_GROUP, settings and data)"
            )
    by_index: dict[int, Shard] = {}
    for shard in shards:
        if shard.spec.index in by_index:
            raise UsageError(
                f"shard {shard.spec.index}/{shard.spec.count} is given twice: "
                f"{by_index[shard.spec.index].path} and {shard.path}; pass each shard once"
            )
        by_index[shard.spec.index] = shard
    count = first.spec.count
    missing = [k for k in range(1, count + 1) if k not in by_index]
    if missing:
        names = ", ".join(f"{k}/{count}" for k in missing)
        raise UsageError(
            f"missing shard(s) {names} of run group {first.spec.group}: only "
            f"{len(by_index)} of {count} given; pass every shard's folder (rerun the missing "
            "ones with --evalkit-shard=K/N)"
        )
    return [by_index[k] for k in sorted(by_index)]


def _read_shard(folder: Path) -> Shard:
    """One folder given to the merge, checked to be a finished shard."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; pass the run folders the shards wrote")
    record = read_run(folder)
    if record is None:
        raise UsageError(
            f"{folder}: not a shard: it has no {RUN_FILE}; pass the run folders that "
            "`pytest --evalkit-shard=K/N` wrote"
        )
    if record.shard is None:
        raise UsageError(
            f"{folder}: not a shard: run {record.run_id} was not run with --evalkit-shard; "
            "pass only the folders of the shards of one run"
        )
    shard = Shard(folder, record)
    if record.status != "complete":
        raise UsageError(f"{shard.label} was {record.status}; run that shard again")
    if record.errors:
        suite, message = next(iter(record.errors.items()))
        raise UsageError(
            f"{shard.label} could not run suite {suite!r}: {message}; fix it and run that "
            "shard again"
        )
    return shard


def merge_shards(
    shards: Sequence[Shard],
    out: Path,
    *,
    rootdir: Path,
    folders: EvalkitConfig,
    ci: bool,
) -> MergedRun:
    """Join ``shards`` (from :func:`read_shards`) into the run folder ``out``, decided whole.

    The run uses the shards' settings, except the folders (cache, reports, accepted runs),
    which are ``folders``' (the project's, where the merge runs). Each suite is imported
    from its module under ``rootdir``, as the shards recorded it.

    Raises:
        UsageError: ``out`` already holds files, or is one of the shards; a suite's module
            cannot be found or declares no suite of that name.
    """
    out = out.resolve()
    if any(out == s.path.resolve() for s in shards):
        raise UsageError(f"-o {out}: is one of the shards; name a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(
            f"-o {out}: already exists and is not an empty folder; name a new folder, so that "
            "nothing in it is overwritten"
        )
    first = shards[0]
    suites = [_load_suite(rootdir, name, s) for name, s in first.spec.suites.items()]
    config = EvalkitConfig.model_validate(
        {**first.record.config, "shard": None, "reports_dir": out.parent}
        | {k: getattr(folders, k) for k in ("cache_dir", "baselines_dir")}
    )
    _join_tables([s.path for s in shards], out)
    session = EvalSession(config, rootdir, ci=ci, run_id=out.name)
    session.started = min(s.record.started or 0.0 for s in shards)
    session.merged_from = tuple(s.record.run_id for s in shards)
    session.shard_outages = tuple(o for s in shards for o in s.record.cache_outages)
    table = coerce_judgments(read_table(out / JUDGMENTS_FILE))
    probes = read_table(out / PROBES_FILE) if (out / PROBES_FILE).is_file() else None
    answers = _answers(out)
    for suite in suites:
        # A suite with candidates ran as its pairs (sub-suites); each is decided, then the
        # group's leaderboard is fitted over them, as at the end of a run.
        names = suites_of(suite, config.baseline)
        if not table["suite"].isin([s.name for s in names]).any():
            continue  # no item of it in any shard: the run would not have run it either
        session.analyse_recorded(suite, table, answers, probes)
        for one in names:
            stopped = [s.record.suite(one.name).stopped for s in shards if _ran(s, one.name)]
            if any(stopped):
                session.stops[one.name] = "; ".join(m for m in stopped if m)
    closed = session.finish()
    assert closed is not None
    return MergedRun(closed, run_exit_code(session))


def _ran(shard: Shard, suite: str) -> bool:
    return any(s.name == suite for s in shard.record.suites)


def run_exit_code(session: EvalSession) -> int:
    """The exit code pytest gives the same run: 1 when a gate's or an item's test fails.

    Each test ends as the session concludes it (:meth:`EvalSession.gate_conclusion`,
    :meth:`EvalSession.item_conclusion`); 0 when none fails.
    """
    for result in session.results.values():
        if any(session.gate_conclusion(g).status == "failed" for g in result.gates):
            return 1
        items = result.answers.get("candidate", {})
        if any(session.item_conclusion(result, i).status == "failed" for i in items):
            return 1
    return 1 if session.errors else 0


def _load_suite(rootdir: Path, name: str, source: SuiteSource) -> Suite:
    """The suite ``name`` declared in ``source.module`` (relative to ``rootdir``), imported.

    Raises:
        UsageError: the module is missing or declares no suite of that name, or the suite's
            items are not those the shards asked.
    """
    path = rootdir / source.module
    if not path.is_file():
        raise UsageError(
            f"suite {name!r}: its module {path} does not exist; run `evalkit merge` in the "
            "project's root (or pass --rootdir), on the commit the shards ran"
        )
    spec = importlib.util.spec_from_file_location(f"_evalkit_merge_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    # As pytest imports a test module: its folder first on the path, for its own helpers.
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    for value in vars(mod).values():
        if isinstance(value, Suite) and value.name == name:
            if dataset_digest(value.items()) != source.dataset_digest:
                raise UsageError(
                    f"suite {name!r}: its items in {value.dataset_path()} are not those the "
                    "shards asked (the dataset changed since); run `evalkit merge` on the "
                    "commit the shards ran"
                )
            return value
    raise UsageError(
        f"suite {name!r}: {path} declares no suite of that name; run `evalkit merge` on the "
        "commit the shards ran"
    )


def _join_tables(folders: Sequence[Path], out: Path) -> None:
    """Append every shard's ``*.jsonl`` tables into ``out``, file by file, in shard order."""
    out.mkdir(parents=True, exist_ok=True)
    names = sorted({p.name for folder in folders for p in folder.glob("*.jsonl")})
    for name in names:
        with (out / name).open("wb") as dst:
            for folder in folders:
                if (folder / name).is_file():
                    data = (folder / name).read_bytes()
                    dst.write(data if not data or data.endswith(b"\n") else data + b"\n")


def _answers(out: Path) -> dict[str, dict[str, dict[str, Answer]]]:
    """The merged answers by suite, role and item id (as a run keeps them)."""
    fields = {f.name for f in dataclasses.fields(Answer)}
    by_suite: dict[str, dict[str, dict[str, Answer]]] = {}
    path = out / ANSWERS_FILE
    for row in iter_jsonl(path) if path.is_file() else ():
        values = {k: v for k, v in row.items() if k in fields}
        if values.get("transcript") is not None:
            values["transcript"] = tuple(values["transcript"])
        answer = Answer(**values)
        by_suite.setdefault(answer.suite, {}).setdefault(answer.role, {})[answer.item_id] = answer
    return by_suite
