"""Accepted runs: the per-item panel verdicts a later run is compared against.

``<baselines_dir>/<suite>.json`` holds the run id, when it was accepted, the models, one
record per item (item_id, verdict, abstained) and the texts kept for the Diversity gate (a
versioned, seeded sample: see :mod:`evalkit.records._texts`). It is small, text, and meant to
be committed, so that CI compares every change with the run the team last signed off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic

from evalkit.errors import UsageError
from evalkit.records._store import write_json_atomic
from evalkit.records._texts import SuiteTexts

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def baseline_path(baselines_dir: Path, suite: str) -> Path:
    """Where the accepted run of ``suite`` is kept."""
    return baselines_dir / f"{_SAFE.sub('_', suite)}.json"


def write_accepted(baselines_dir: Path, suite: str, record: Mapping[str, Any]) -> Path:
    """Record ``suite``'s accepted run (replacing the previous one atomically)."""
    path = baseline_path(baselines_dir, suite)
    write_json_atomic(path, record)
    return path


def read_accepted(baselines_dir: Path, suite: str) -> pd.DataFrame | None:
    """The accepted panel of ``suite`` (item_id, verdict, score, abstained), or None.

    For a scored suite, the scores of the accepted run's candidate (verdict empty); otherwise
    the panel verdicts (score empty).

    Raises:
        UsageError: the file exists but is not a valid accepted-run record.
    """
    path = baseline_path(baselines_dir, suite)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        frame = pd.DataFrame.from_records(data["panel"])
        if "score" in frame.columns and frame["score"].notna().any():
            # A scored suite has a row per scored model: keep the accepted candidate's.
            frame = frame.loc[frame["candidate"] == data["models"]["candidate"]["name"]]
        frame = frame.reindex(columns=["item_id", "verdict", "score", "abstained"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path}: not a valid accepted-run record ({exc}); delete it and accept a run again"
        ) from None
    frame["item_id"] = frame["item_id"].astype(str)
    return frame


def read_accepted_texts(baselines_dir: Path, suite: str) -> SuiteTexts | None:
    """The texts ``suite``'s accepted run kept, or None (no accepted run, or one without texts).

    Raises:
        UsageError: the file exists but is not JSON, or its ``texts`` is not a record this
            evalkit reads; the message names the file and the field.
    """
    path = baseline_path(baselines_dir, suite)
    if not path.is_file():
        return None
    try:
        texts = json.loads(path.read_text(encoding="utf-8")).get("texts")
        return None if texts is None else SuiteTexts.model_validate(texts)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not a valid accepted-run record ({exc}); delete it and accept a run again"
        ) from None
    except pydantic.ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise UsageError(
            f"{path}: field 'texts.{where}': {exc.errors()[0]['msg']}; delete the file and "
            "accept a run again with --evalkit-accept"
        ) from None
