"""``evalkit audit FILE``: audit the judges of a judge log recorded anywhere.

Thin: check the flags, read the log (:func:`evalkit.audit._input.load_log`), apply the counting
conventions, call :func:`evalkit.audit.run_audit` (pooled, and per group with ``--by``), write
``-o`` and then print. The JSON is written before anything is printed, so that a closed stdout
(``evalkit audit ... | head``) cannot lose it. Heavy imports happen inside the command.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.audit._conventions import Conventions
    from evalkit.audit._input import Log


def _audit_table(
    table: pd.DataFrame, conventions: Conventions, confidence: float, seed: int, n_boot: int
) -> tuple[dict[str, Any], list[str]]:
    """The audit of ``table`` under ``conventions``: its JSON record and its summary lines."""
    from evalkit.audit import run_audit
    from evalkit.audit._swap import swap_signature, swap_warnings
    from evalkit.audit._table import judges_only
    from evalkit.panel import combine_orders
    from evalkit.records._run import AuditSummary

    rows = conventions.apply(table)
    report = run_audit(
        rows, confidence=confidence, seed=seed, n_boot=n_boot, rule=conventions.rule(rows)
    )
    warnings = swap_warnings(swap_signature(combine_orders(judges_only(rows), "tie")))
    # The same model as a run record's audit, so that both read back alike.
    record = AuditSummary.model_validate(report.to_dict()).model_dump(mode="json")
    return {**record, "warnings": warnings}, [*warnings, *report.summary_lines()]


def _read_log(
    args: argparse.Namespace, path: Path, *, keep: list[str], all_columns: bool = False
) -> tuple[Log, Conventions]:
    """The log at ``path`` under the command's --map/--map-file, and the chosen conventions.

    Raises:
        UsageError: a flag, the mapping or the log is bad, or the log has no rows.
    """
    from evalkit.audit._conventions import Conventions
    from evalkit.audit._input import load_log
    from evalkit.audit._mapping import load_map_file, parse_map
    from evalkit.errors import UsageError

    conventions = Conventions(flip=args.flip, missing=args.missing)
    maps = [*(load_map_file(Path(args.map_file)) if args.map_file else [])]
    maps += [parse_map(spec) for spec in args.map or ()]
    log = load_log(path, maps, keep=keep, all_columns=all_columns)
    if log.table.empty:
        raise UsageError(f"{path}: the file is empty; there are no judgments to audit")
    return log, conventions


def report_log(args: argparse.Namespace) -> int:
    """``evalkit report FILE``: the full HTML report of a judge log recorded elsewhere."""
    from evalkit.cli import _output
    from evalkit.records._store import write_text_atomic
    from evalkit.report import render
    from evalkit.report._load import log_run

    path = Path(args.run_dir)
    out = _output(args.output) if args.output else path.with_name(f"{path.name}.report.html")
    log, conventions = _read_log(args, path, keep=[], all_columns=True)
    rows = conventions.apply(log.table)
    html = render(log_run(path, rows, seed=0, rule=conventions.rule(rows)))
    write_text_atomic(out, html)
    for line in [*(f"note: {n}" for n in log.notes), conventions.describe(log.table)]:
        print(line)
    print(f"report: {out}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from evalkit.cli import _output
    from evalkit.config import check_confidence
    from evalkit.errors import UsageError
    from evalkit.records._store import write_json_atomic

    confidence = check_confidence(args.confidence, "--confidence")
    if args.n_boot < 1:
        raise UsageError(f"--n-boot {args.n_boot}: give a number of resamples, at least 1")
    output = _output(args.output) if args.output else None
    log, conventions = _read_log(args, Path(args.file), keep=[args.by] if args.by else [])
    head = [*(f"note: {n}" for n in log.notes), conventions.describe(log.table)]
    # The whole log's default decides the groups' too: every group is counted alike.
    conventions = dataclasses.replace(conventions, flip=conventions.flip_for(log.table))
    audit = (log.table, conventions, confidence, args.seed, args.n_boot)
    record, lines = _audit_table(*audit)
    lines = [*head, *lines]
    if args.by:
        groups: dict[str, Any] = {}
        for value, part in log.table.groupby(args.by, sort=True, dropna=False):
            name = "(empty)" if value is None or value != value else str(value)
            groups[name], part_lines = _audit_table(part, *audit[1:])
            lines += [f"{args.by} = {name} ({len(part)} rows):", *(f"  {x}" for x in part_lines)]
        record["by"] = {"column": args.by, "groups": groups}
    record["log"] = {"file": str(args.file), "notes": list(log.notes), "conventions": head[-1]}
    if output:
        write_json_atomic(output, record, indent=None)
        lines.append(f"audit: {args.output}")
    for line in lines:
        print(line)
    return 0


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """The options that say how to read and count a judge log (``audit``, ``report FILE``)."""
    parser.add_argument(
        "--map", action="append", metavar="OURS=THEIRS",
        help="read column THEIRS as evalkit's column OURS (repeatable); OURS=THEIRS:1=candidate,"
        "2=baseline translates values, OURS=@VALUE sets a constant, OURS=A+B joins columns, "
        "OURS=#TEXT takes a text's length in words (len_candidate=#output_2)",
    )  # fmt: skip
    parser.add_argument("--map-file", help="a YAML file of such mappings, for reuse")
    parser.add_argument(
        "--flip", choices=("tie", "abstain", "two"), default=None,
        help="what a judge's two orders disagreeing count as: a tie (default), no vote, or two "
        "verdicts, one per order (default for a log with one order per item)",
    )  # fmt: skip
    parser.add_argument(
        "--missing", choices=("missing", "tie"), default="missing",
        help="what a row without a verdict counts as (default: missing)",
    )  # fmt: skip


def add_audit_parser(sub: Any) -> None:
    """Add ``evalkit audit`` to the command's subparsers."""
    audit = sub.add_parser(
        "audit",
        help="audit the judges of a judge log (JSONL/JSON/CSV/Parquet, maybe gzipped)",
        description=(
            "Audit the judges of a judge log recorded anywhere. See `--map` to read a log's own "
            "column names and values."
        ),
    )
    audit.add_argument("file", help="a judge log, or a run folder")
    add_log_options(audit)
    audit.add_argument("--by", metavar="COLUMN", help="also audit each group of this column")
    audit.add_argument("--confidence", type=float, default=0.95, help="interval level")
    audit.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    audit.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    audit.add_argument("-o", "--output", help="also write the audit as JSON here")
    audit.set_defaults(func=_audit)
