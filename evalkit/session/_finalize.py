"""Closing a run: merge what parallel workers wrote, write run.json, accept, render the report.

run.json and the report are each written atomically (a temporary file, then ``os.replace``),
so that a half-written one never exists, whenever the process is stopped.

Under pytest-xdist every worker appends to its own ``judgments.<worker>.jsonl`` and
``answers.<worker>.jsonl`` and leaves its suites' results in ``parts/<worker>.json``; the
controller then merges them here into the same run folder a single process would have written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from evalkit._version import __version__
from evalkit.config import EvalkitConfig
from evalkit.errors import UsageError
from evalkit.records import RunRecord, SuiteRecord, read_run
from evalkit.records._baselines import write_accepted
from evalkit.records._run import CacheOutage, ShardRecord
from evalkit.records._store import (
    ANSWERS_FILE,
    JUDGMENTS_FILE,
    PROBES_FILE,
    REPORT_FILE,
    write_json_atomic,
    write_run,
    write_text_atomic,
)
from evalkit.redaction import redact_data
from evalkit.session._handoff import HANDOFF_DIR

PARTS_DIR = "parts"


@dataclasses.dataclass(frozen=True)
class ClosedRun:
    """A run that has been closed: its record (as written to run.json) and its report."""

    record: RunRecord
    report: Path


#: The tables a run appends to as calls complete; under xdist each worker has its own piece.
TABLES = (ANSWERS_FILE, JUDGMENTS_FILE, PROBES_FILE)


def table_file(run_dir: Path, name: str, worker: str | None) -> Path:
    """The file that ``worker`` (None: a single process) appends table ``name`` to."""
    return run_dir / (name if worker is None else name.replace(".jsonl", f".{worker}.jsonl"))


def write_part(
    run_dir: Path,
    worker: str,
    suites: Sequence[SuiteRecord],
    errors: Mapping[str, str],
    shard: ShardRecord | None = None,
    cache_outages: Sequence[CacheOutage] = (),
) -> None:
    """Leave a worker's suite results (and, in a shard, which shard) for the controller.

    ``cache_outages``: the worker's response cache, if it lost it.
    """
    write_json_atomic(
        run_dir / PARTS_DIR / f"{worker}.json",
        {
            "suites": [s.model_dump(mode="json") for s in suites],
            "errors": dict(errors),
            "shard": None if shard is None else shard.model_dump(mode="json"),
            "cache_outages": [o.model_dump(mode="json") for o in cache_outages],
        },
    )


def _merge_parts(
    run_dir: Path,
) -> tuple[list[SuiteRecord], dict[str, str], ShardRecord | None, list[CacheOutage]]:
    suites: list[SuiteRecord] = []
    errors: dict[str, str] = {}
    shard: ShardRecord | None = None
    outages: list[CacheOutage] = []
    parts = sorted((run_dir / PARTS_DIR).glob("*.json")) if run_dir.is_dir() else []
    for part in parts:
        data = json.loads(part.read_text(encoding="utf-8"))
        suites.extend(SuiteRecord.model_validate(s) for s in data["suites"])
        errors.update(data["errors"])
        if data.get("shard") is not None:
            shard = ShardRecord.model_validate(data["shard"])
        outages.extend(CacheOutage.model_validate(o) for o in data.get("cache_outages", ()))
    for name in TABLES:
        pieces = sorted(run_dir.glob(name.replace(".jsonl", ".*.jsonl")))
        if not pieces:
            continue
        with (run_dir / name).open("ab") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out)
                piece.unlink()
    for folder in (PARTS_DIR, HANDOFF_DIR):
        if (run_dir / folder).is_dir():
            shutil.rmtree(run_dir / folder)
    return suites, errors, shard, outages


def finalize_run(
    run_dir: Path,
    config: EvalkitConfig,
    *,
    suites: Sequence[SuiteRecord],
    errors: Mapping[str, str],
    started: float,
    interrupted: bool,
    shard: ShardRecord | None = None,
    merged_from: Sequence[str] = (),
    cache_outages: Sequence[CacheOutage] = (),
) -> ClosedRun | None:
    """Write run.json and report.html for the run; return the record and the report's path.

    ``shard`` says which shard of a run this is (from the workers' parts if not given); a
    shard is never accepted, since its gates are partial: the merged run is.
    ``merged_from`` names the shards ``evalkit merge`` joined into this run.
    ``cache_outages``: this process's response cache, if it lost it (the workers' are in
    their parts).
    Returns None (and writes nothing) when no suite ran in this process or in any worker.
    """
    merged, worker_errors, worker_shard, worker_outages = _merge_parts(run_dir)
    shard = shard or worker_shard
    all_suites = [*suites, *merged]
    all_errors = {**errors, **worker_errors}
    if not all_suites and not all_errors and shard is None:
        return None  # a shard writes its folder even when no item fell to it
    accepted: list[str] = []
    if config.accept and not interrupted and not all_errors and shard is None:
        accepted = [
            str(write_accepted(config.baselines_dir, s.name, {
                "run_id": run_dir.name, "accepted_at": time.time(),
                **s.model_dump(mode="json", include={"models", "panel", "texts"}),
            }))
            for s in all_suites
        ]  # fmt: skip
    record = RunRecord(
        run_id=run_dir.name,
        status="interrupted" if interrupted else "complete",
        evalkit_version=__version__,
        config_digest=config.digest(),
        # An api_base may carry a password in its user part; run.json is shared.
        config=redact_data(config.model_dump(mode="json")),
        started=started,
        finished=time.time(),
        host=os.uname().nodename,
        suites=all_suites,
        errors=all_errors,
        accepted=accepted,
        shard=shard,
        merged_from=list(merged_from),
        cache_outages=[*cache_outages, *worker_outages],
    )
    # A run whose every suite stopped on bad input has written no rows; its report still says so.
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / JUDGMENTS_FILE).touch()
    write_run(run_dir, record)
    from evalkit.report import load_run, render  # here: collecting suites must not load jinja2

    write_text_atomic(run_dir / REPORT_FILE, render(load_run(run_dir)))
    return ClosedRun(record, run_dir / REPORT_FILE)


def mark_interrupted(run_dir: Path) -> ClosedRun:
    """Mark a closed run interrupted, and render its report again.

    For a signal that arrived after :func:`finalize_run` had decided the run was complete.
    """
    record = read_run(run_dir)
    if record is None:
        raise UsageError(f"{run_dir}: no run.json to mark interrupted")
    record = record.model_copy(update={"status": "interrupted"})
    write_run(run_dir, record)
    from evalkit.report import load_run, render  # here: collecting suites must not load jinja2

    write_text_atomic(run_dir / REPORT_FILE, render(load_run(run_dir)))
    return ClosedRun(record, run_dir / REPORT_FILE)
