"""The `evalkit` command: --help is instant, audit reads foreign tables, errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.cli import main

HEAVY = ("litellm", "statsmodels", "scipy", "sklearn", "evalkit.report")


def test_help_imports_nothing_heavy_and_lists_the_commands() -> None:
    # --help stays fast because it imports none of the heavy libraries; checked by what is
    # imported, not by a stopwatch that a loaded machine would break.
    code = (
        "import runpy, sys\n"
        "sys.argv = ['evalkit', '--help']\n"
        "try:\n"
        "    runpy.run_module('evalkit.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out
    for command in ("report", "audit", "compare", "data"):
        assert command in out


def foreign_table(path: Path) -> Path:
    """A judgments table from another tool: its own column names, no evalkit extras."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        for grader in ("g1", "g2"):
            for order in ("AB", "BA"):
                # g2 picks whatever is shown first; g1 is fair and prefers the candidate.
                pick = ("candidate" if order == "AB" else "baseline") if grader == "g2" else (
                    "candidate" if rng.random() < 0.7 else "baseline")
                rows.append({"question_id": f"q{i}", "grader_model": grader, "position": order,
                             "choice": pick, "run": "r1", "set": "s", "kind": "pairwise"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_audit_of_a_foreign_csv_with_column_mapping(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    table = foreign_table(tmp_path / "theirs.csv")
    out = tmp_path / "audit.json"
    code = main([
        "audit", str(table), "--map", "item_id=question_id", "--map", "judge=grader_model",
        "--map", "order=position", "--map", "verdict=choice", "--map", "run_id=run",
        "--map", "suite=set", "--map", "mode=kind", "-o", str(out),
    ])
    assert code == 0
    audit = json.loads(out.read_text())
    verdicts = audit["verdicts"]
    assert verdicts["g2"] == "untrusted"  # always picks the first slot: flips on every item
    position = {p["judge"]: p for p in audit["position"]}
    assert position["g2"]["first_position_rate"] == 1.0
    assert position["g2"]["consistency"] == 0.0
    assert "g2" in capsys.readouterr().out


def test_bad_map_and_missing_file_are_one_line_errors(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["audit", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    table = foreign_table(tmp_path / "t.csv")
    assert main(["audit", str(table), "--map", "item_id"]) == 2
    err = capsys.readouterr().err
    assert "--map 'item_id': write it as OURS=THEIRS" in err
    assert "Traceback" not in err
