"""Reading a run folder back into memory, for rendering without a single model call."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.records import read_answers, read_judgments, read_run


@dataclasses.dataclass(frozen=True)
class RunData:
    """Everything the report shows: run.json, the judgments table and the answers table."""

    run_dir: Path
    run: dict[str, Any]
    judgments: pd.DataFrame
    answers: pd.DataFrame


def load_run(run_dir: Path) -> RunData:
    """Read ``run_dir``'s run.json, judgments.jsonl and answers.jsonl.

    Raises:
        UsageError: the folder holds no judgments file.
    """
    return RunData(
        run_dir=run_dir,
        run=read_run(run_dir),
        judgments=read_judgments(run_dir),
        answers=read_answers(run_dir),
    )
