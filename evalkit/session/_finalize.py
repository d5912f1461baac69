"""Closing a run: merge what parallel workers wrote, write run.json, accept, render the report.

run.json and the report are each written atomically (a temporary file, then ``os.replace``),
so that a half-written one never exists, whenever the process is stopped.

Under pytest-xdist every worker appends to its own ``judgments.<worker>.jsonl`` and
``answers.<worker>.jsonl`` and leaves its suites' results in ``parts/<worker>.json``; the
controller then merges them here into the same run folder a single process would have written.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit._version import __version__
from evalkit.config import EvalkitConfig
from evalkit.records import (
    ANSWERS_FILE,
    JUDGMENTS_FILE,
    REPORT_FILE,
    RUN_FILE,
    write_accepted,
    write_json_atomic,
    write_text_atomic,
)
from evalkit.report import load_run, render
from evalkit.session._handoff import HANDOFF_DIR

PARTS_DIR = "parts"


def worker_files(run_dir: Path, worker: str) -> tuple[Path, Path]:
    """The answers and judgments files a worker appends to."""
    return (
        run_dir / ANSWERS_FILE.replace(".jsonl", f".{worker}.jsonl"),
        run_dir / JUDGMENTS_FILE.replace(".jsonl", f".{worker}.jsonl"),
    )


def write_part(
    run_dir: Path, worker: str, suites: Sequence[Mapping[str, Any]], errors: Mapping[str, str]
) -> None:
    """Leave a worker's suite results for the controller to merge."""
    write_json_atomic(
        run_dir / PARTS_DIR / f"{worker}.json", {"suites": list(suites), "errors": dict(errors)}
    )


def _merge_parts(run_dir: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    suites: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    parts = sorted((run_dir / PARTS_DIR).glob("*.json")) if run_dir.is_dir() else []
    for part in parts:
        data = json.loads(part.read_text(encoding="utf-8"))
        suites.extend(data["suites"])
        errors.update(data["errors"])
    for name in (ANSWERS_FILE, JUDGMENTS_FILE):
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
    return suites, errors


def finalize_run(
    run_dir: Path,
    config: EvalkitConfig,
    *,
    suites: Sequence[Mapping[str, Any]],
    errors: Mapping[str, str],
    started: float,
    interrupted: bool,
) -> dict[str, Any] | None:
    """Write run.json and report.html for the run; return run.json's content.

    Returns None (and writes nothing) when no suite ran in this process or in any worker.
    """
    merged, worker_errors = _merge_parts(run_dir)
    all_suites = [*suites, *merged]
    all_errors = {**errors, **worker_errors}
    if not all_suites and not all_errors:
        return None
    run: dict[str, Any] = {
        "run_id": run_dir.name,
        "status": "interrupted" if interrupted else "complete",
        "evalkit_version": __version__,
        "config_digest": config.digest(),
        "config": config.model_dump(mode="json"),
        "started": started,
        "finished": time.time(),
        "suites": all_suites,
        "errors": all_errors,
        "host": os.uname().nodename,
    }
    if config.accept and not interrupted and not all_errors:
        run["accepted"] = [
            str(write_accepted(config.baselines_dir, s["name"], {
                "run_id": run_dir.name, "accepted_at": time.time(),
                "models": s["models"], "panel": s["panel"],
            }))
            for s in all_suites
        ]  # fmt: skip
    # A run whose every suite stopped on bad input has written no rows; its report still says so.
    (run_dir / JUDGMENTS_FILE).touch()
    write_json_atomic(run_dir / RUN_FILE, run)
    write_text_atomic(run_dir / REPORT_FILE, render(load_run(run_dir)))
    run["report"] = str(run_dir / REPORT_FILE)
    return run


def mark_interrupted(run_dir: Path) -> dict[str, Any]:
    """Mark a closed run interrupted, and render its report again; return run.json's content.

    For a signal that arrived after :func:`finalize_run` had decided the run was complete.
    """
    run: dict[str, Any] = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    run["status"] = "interrupted"
    write_json_atomic(run_dir / RUN_FILE, run)
    write_text_atomic(run_dir / REPORT_FILE, render(load_run(run_dir)))
    run["report"] = str(run_dir / REPORT_FILE)
    return run
