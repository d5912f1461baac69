"""Probe tables of exam rows, written by hand or simulated: the exam statistics' test inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evalkit.probes import PROBE_COLUMNS


def exam_rows(rows: Sequence[tuple[str, str, str, str, str, str]]) -> pd.DataFrame:
    """A probe table from (judge, item_id, probe, target, order, verdict) rows.

    A verdict of ``None`` is a call whose reply could not be read (status ``unparseable``).
    """
    frame = pd.DataFrame(rows, columns=["judge", "item_id", "probe", "target", "order", "verdict"])
    return complete(frame.assign(sample=0))


def complete(frame: pd.DataFrame) -> pd.DataFrame:
    """The probe table's other columns, with the status read from the verdict (None: unreadable)."""
    frame = frame.assign(
        run_id="r", suite="s", kind="exam", judge_family=frame["judge"] + "-family",
        status=np.where(frame["verdict"].isna(), "unparseable", "ok"), raw_output="",
        error=None, prompt_hash="", cached=False, input_tokens=0, output_tokens=0, cost_usd=0.0,
    )  # fmt: skip
    return frame.loc[:, list(PROBE_COLUMNS)]


def simulate_exam(
    accuracy: Mapping[str, float],
    *,
    n_pairs: int,
    seed: int,
    kinds: Sequence[str] = ("exam:number", "exam:negation"),
) -> pd.DataFrame:
    """Every judge judges ``n_pairs`` exam pairs in both orders; each verdict independently
    names the target with the judge's ``accuracy`` (0.5: it cannot tell the answers apart and
    picks at random), the other answer otherwise. Targets alternate a / b as exam_pairs places
    them. Vectorised: one draw per verdict, no loop over rows.
    """
    rng = np.random.default_rng(seed)
    judges = list(accuracy)
    j, p, o = (a.ravel() for a in np.indices((len(judges), n_pairs, 2)))
    target = np.where(p % 2 == 0, "a", "b")
    right = rng.random(j.size) < np.array([accuracy[name] for name in judges])[j]
    other = np.where(target == "a", "b", "a")
    frame = pd.DataFrame(
        {
            "judge": np.array(judges)[j],
            "item_id": np.char.add("item-", (p // len(kinds)).astype(str)),
            "probe": np.array(kinds)[p % len(kinds)],
            "target": target,
            "order": np.array(["AB", "BA"])[o],
            "sample": 0,
            "verdict": np.where(right, target, other),
        }
    )
    return complete(frame)
