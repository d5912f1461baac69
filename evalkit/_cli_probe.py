"""``evalkit probe``: qualify a panel's judges with bias probes and the exam, before adopting it.

Thin: parse the flags, read the project's configuration (``[tool.evalkit]`` and ``EVALKIT_*``,
as a run does), call :func:`evalkit.session._qualify.qualify`, write the statistics as JSON
beside the probe table, then print one line per judge and probe, and per judge for the exam
(``--exam N``). The exit code is 1 when a probe or the exam rules a judge out, so that a CI
job can qualify a judge. Heavy imports happen inside the command.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from evalkit.errors import UsageError


def _probe(args: argparse.Namespace) -> int:
    from evalkit._runid import new_run_id
    from evalkit.config import load_config, read_pyproject
    from evalkit.records._run import table_rows
    from evalkit.records._store import write_json_atomic
    from evalkit.session._qualify import qualify

    rootdir = Path.cwd()
    names = [name.strip() for name in (args.probes or "").split(",") if name.strip()]
    if not names and args.exam is None:
        raise UsageError(
            "--probes: name at least one probe, e.g. --probes bandwagon,verbosity, or ask for "
            "the qualification exam with --exam N"
        )
    if args.items < 1:
        raise UsageError(f"--items {args.items}: probe at least 1 item")
    config = load_config(
        pyproject=read_pyproject(rootdir), environ=os.environ,
        pyproject_path=rootdir / "pyproject.toml",
    )  # fmt: skip
    result = qualify(
        config, rootdir, panel=args.panel, dataset=Path(args.dataset).resolve(), probes=names,
        items=args.items, prompt=args.prompt, first=args.first, second=args.second,
        seed=args.seed, run_id=args.run_id or f"probe-{new_run_id()}", exam=args.exam,
        reference=args.reference, better=args.better,
    )  # fmt: skip
    summary = {
        "stats": table_rows(result.stats), "checks": table_rows(result.checks),
        "exam": table_rows(result.exam), "notes": list(result.notes),
    }  # fmt: skip
    write_json_atomic(result.run_dir / "probes.json", summary)
    for note in result.notes:
        print(f"evalkit: {note}")
    what = " and ".join(w for w, asked in (("probes", names), ("the exam", args.exam)) if asked)
    print(f"{what} of panel {args.panel} on {len(set(result.table['item_id']))} items:")
    for line in result.lines():
        print(line)
    print(f"probe table: {result.run_dir / 'probes.jsonl'}")
    return 1 if result.untrusted() else 0


def add_probe_parser(sub: Any) -> None:
    """Register ``evalkit probe`` on the ``evalkit`` subparsers ``sub``."""
    probe = sub.add_parser(
        "probe", help="qualify a panel's judges with bias probes on a dataset's answer pairs"
    )
    probe.add_argument("--panel", required=True, help="a pairwise panel (judges/ or packaged)")
    probe.add_argument(
        "--dataset", required=True,
        help="JSONL/CSV/Parquet rows with the question and two answers (see --first, --second)",
    )  # fmt: skip
    probe.add_argument("--probes", help="comma-separated, e.g. bandwagon,tone")
    probe.add_argument("--items", type=int, default=20, help="rows to probe (seeded sample)")
    probe.add_argument("--prompt", default="{{ question }}", help="jinja2 question template")
    probe.add_argument("--first", default="answer_a", help="the field of the first answer")
    probe.add_argument("--second", default="answer_b", help="the field of the second answer")
    probe.add_argument(
        "--exam", type=int, metavar="N",
        help="also sit the qualification exam on N rows with a known answer (seeded sample)",
    )  # fmt: skip
    probe.add_argument(
        "--reference", default="reference", help="the field of a correct answer (exam)"
    )
    probe.add_argument(
        "--better", default="better",
        help="the field saying which answer is correct, a or b (exam: the other is wrong)",
    )  # fmt: skip
    probe.add_argument("--seed", type=int, default=0, help="seeds the sample and the edits")
    probe.add_argument("--run-id", help="the folder under the reports folder (default: new)")
    probe.set_defaults(func=_probe)
