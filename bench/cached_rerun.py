"""Benchmark: a rerun of ``pytest suites/`` on the bundled models, answered from a warm cache.

Run ``pytest suites/`` once first (it fills ``.evalkit-cache``; several minutes on 2 cores),
then this script. It runs ``pytest suites/ -p no:cacheprovider -q --evalkit-profile`` in a
subprocess from the project root and reports:

- wall time of the whole process (imports and exit included);
- model requests made: rows of the new run's answers and judgments that did not come from the
  cache (deterministic graders and recorded answers make no request and are not counted);
- llama.cpp servers started: the child gets a private TMPDIR, and every server evalkit starts
  writes its log there (``evalkit-llama-<model>-<port>.log``), so other runs on the machine
  are not counted;
- evalkit's per-phase profile, as printed by the run.

    python bench/cached_rerun.py [--root .] [pytest args...]

The target (issue 17): 0 requests, 0 servers, under 20 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _new_run(reports: Path, before: set[str]) -> Path | None:
    runs = [p for p in reports.iterdir() if p.is_dir() and p.name not in before]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def _requests(run: Path) -> tuple[int, int]:
    """(model rows not from the cache, model rows) of a run folder's answers and judgments."""
    fresh = total = 0
    for name in ("answers.jsonl", "judgments.jsonl"):
        path = run / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("judge_family") == "deterministic" or row.get("status") == "not_run":
                continue
            if not row.get("cached", False) and row.get("calls", 1) == 0:
                continue  # an answer made without a model call (recorded answers)
            total += 1
            fresh += not row.get("cached", False)
    return fresh, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args, pytest_args = parser.parse_known_args()
    root: Path = args.root.resolve()
    reports = root / "reports"
    reports.mkdir(exist_ok=True)
    before = {p.name for p in reports.iterdir()}
    with tempfile.TemporaryDirectory(prefix="evalkit-bench-") as tmp:
        env = {**os.environ, "TMPDIR": tmp}
        cmd = [sys.executable, "-m", "pytest", "suites/", "-p", "no:cacheprovider", "-q",
               "--evalkit-profile", *pytest_args]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        servers = len(list(Path(tmp).glob("evalkit-llama-*.log")))
    run = _new_run(reports, before)
    fresh, total = _requests(run) if run else (-1, -1)
    profile = proc.stdout[proc.stdout.find("evalkit profile:") :].rstrip()
    print(f"command: {' '.join(cmd[1:])} (in {root})")
    print(f"exit code: {proc.returncode}")
    print(f"wall time: {wall:.2f} s")
    print(f"model requests made: {fresh} (of {total} model rows; the rest from the cache)")
    print(f"llama.cpp servers started: {servers}")
    print(f"run folder: {run}")
    print(profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
