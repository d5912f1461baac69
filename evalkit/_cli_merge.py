"""``evalkit merge RUN_DIR...``: join the shards of a run into one run, and gate on it.

Thin: read the project's folders, check the shards (:func:`evalkit.session._merge.read_shards`),
merge them (:func:`evalkit.session._merge.merge_shards`), print the summary a run prints, and
exit with the code the same run in one process gives.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def add_merge_parser(sub: Any) -> None:
    """Add the ``merge`` subcommand to the ``evalkit`` parser's subparsers ``sub``."""
    merge = sub.add_parser(
        "merge",
        help="join the shards of a run (pytest --evalkit-shard=K/N) into one run; gate on it",
    )
    merge.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="every shard's run folder")
    merge.add_argument(
        "-o", "--output",
        help="the merged run folder (new or empty; default: a new run folder in reports/)",
    )  # fmt: skip
    merge.add_argument(
        "--rootdir", default=".",
        help="the project's root, where pyproject.toml and the suites are (default: here)",
    )  # fmt: skip
    merge.set_defaults(func=_merge)


def _merge(args: argparse.Namespace) -> int:
    from evalkit._runid import new_run_id
    from evalkit.config import in_ci, load_config, read_pyproject
    from evalkit.session import summary_lines
    from evalkit.session._merge import merge_shards, read_shards

    rootdir = Path(args.rootdir).resolve()
    project = load_config(
        pyproject=read_pyproject(rootdir),
        environ=os.environ,
        pyproject_path=rootdir / "pyproject.toml",
    ).resolved(rootdir)
    shards = read_shards([Path(p) for p in args.run_dirs])
    out = Path(args.output) if args.output else project.reports_dir / new_run_id()
    merged = merge_shards(shards, out, rootdir=rootdir, folders=project, ci=in_ci(os.environ))
    for line in summary_lines(merged.closed):
        print(line)
    return merged.exit_code
