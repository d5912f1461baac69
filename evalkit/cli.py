"""The ``evalkit`` command: re-render a run's report, or audit a judgments table.

Thin on purpose: each subcommand parses its arguments and calls one library function. Heavy
imports (pandas, statsmodels) happen inside the subcommands so that ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit._cli_audit import add_audit_parser, add_log_options, report_log
from evalkit._cli_cache import add_cache_parser
from evalkit._cli_data import add_data_parser
from evalkit._cli_merge import add_merge_parser
from evalkit._cli_probe import add_probe_parser
from evalkit._version import __version__
from evalkit.errors import EvalkitError, UsageError

if TYPE_CHECKING:
    import pandas as pd


def _output(value: str, flag: str = "-o") -> Path:
    """The file ``flag`` names, checked before any work is done.

    Raises:
        UsageError: it is a folder, or sits below a file.
    """
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{flag} {value}: is a folder; name a file in it instead")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {value}: cannot be written, because {parent} is a file")
    return path


def _judgments(source: Path) -> pd.DataFrame:
    """Read the judgments table at ``source`` (a file or a run folder), validated.

    An empty file gives an empty table, unvalidated: whether that is an error is the caller's.

    Raises:
        UsageError: the file cannot be read or the table is invalid; the message names it.
    """
    from evalkit.audit._table import validate_judgments
    from evalkit.records._judgments import coerce_judgments
    from evalkit.records._store import JUDGMENTS_FILE, read_table

    table = read_table(source)
    if table.empty:
        return table
    try:
        return coerce_judgments(validate_judgments(table))
    except UsageError as exc:
        raise UsageError(
            f"{source / JUDGMENTS_FILE if source.is_dir() else source}: {exc}"
        ) from None


def _check_run(run_dir: Path) -> None:
    """Refuse a run folder whose run.json or judgments cannot be rendered, before rendering.

    Raises:
        UsageError: run.json cannot be read as a run record, or the judgments table is
            invalid; the message names the file and what to do.
    """
    from evalkit.records import read_run

    _judgments(run_dir)
    read_run(run_dir)


def _report(args: argparse.Namespace) -> int:
    from evalkit.records._store import REPORT_FILE, write_text_atomic
    from evalkit.report import load_run, render

    if Path(args.run_dir).is_file():  # a judge log recorded elsewhere
        return report_log(args)
    run_dir = Path(args.run_dir)
    out = _output(args.output) if args.output else run_dir / REPORT_FILE
    _check_run(run_dir)
    write_text_atomic(out, render(load_run(run_dir)))
    print(f"report: {out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from evalkit.records._store import write_text_atomic
    from evalkit.report import load_run, render_compare

    before, after = Path(args.run_a), Path(args.run_b)
    out = _output(args.output) if args.output else after / f"compare-{before.resolve().name}.html"
    _check_run(before)
    _check_run(after)
    write_text_atomic(out, render_compare(load_run(before), load_run(after)))
    print(f"comparison: {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``evalkit`` command."""
    parser = argparse.ArgumentParser(
        prog="evalkit",
        description="LLM evaluation with audited judge panels. Suites run with `pytest suites/`.",
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="re-render a run's report.html from its folder")
    report.add_argument(
        "run_dir", help="a run folder, e.g. reports/20261125-160000-ab12, or a judge log file"
    )
    report.add_argument(
        "-o", "--output",
        help="where to write the HTML (default: in the run folder; for a log, LOG.report.html)",
    )  # fmt: skip
    add_log_options(report)
    report.set_defaults(func=_report)

    compare = sub.add_parser(
        "compare", help="compare two runs: gates, changed item verdicts, judge drift"
    )
    compare.add_argument("run_a", help="the earlier run folder")
    compare.add_argument("run_b", help="the later run folder")
    compare.add_argument(
        "-o", "--output", help="where to write the HTML (default: in RUN_B, compare-<RUN_A>.html)"
    )
    compare.set_defaults(func=_compare)

    add_audit_parser(sub)
    add_data_parser(sub)
    add_cache_parser(sub)
    add_probe_parser(sub)
    add_merge_parser(sub)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a file (in tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (2 for bad input, with a one-line message)."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except EvalkitError as exc:
        print(f"evalkit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # stdout closed early (`evalkit audit ... | head`): not an error
        _silence_stdout()
        return 0
    except OSError as exc:  # a file the checks above could not foresee (permissions, disk full)
        print(f"evalkit: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
