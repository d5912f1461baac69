"""Gates on scored suites: no regression on mean scores, and intervals within the scale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.gates import GateInputs, MeanScore, NoRegression
from evalkit.records._baselines import read_accepted, write_accepted


def scored(scores: list[float | None], candidate: str = "cand") -> pd.DataFrame:
    """A scored suite's panel: one row per item for ``candidate`` and one for the baseline."""
    ids = [f"i{k}" for k in range(len(scores))]
    mine = pd.DataFrame(
        {"item_id": ids, "candidate": candidate, "score": scores,
         "abstained": [s is None for s in scores], "reason": None}
    )  # fmt: skip
    theirs = mine.assign(candidate="base", score=1.0, abstained=False)
    return pd.concat([mine, theirs], ignore_index=True)


def inputs(panel: pd.DataFrame, accepted: pd.DataFrame | None) -> GateInputs:
    return GateInputs(
        combined=pd.DataFrame(), panel=panel, confidence=0.95, accepted=accepted,
        candidate="cand",
    )  # fmt: skip


def test_no_regression_compares_the_candidates_mean_scores_on_a_scored_suite() -> None:
    before = scored([8.0] * 30).loc[lambda f: f["candidate"] == "cand"]
    same = NoRegression().evaluate(inputs(scored([8.0] * 30), before))
    assert (same.outcome, same.figure, same.n) == ("pass", 0.0, 30)
    worse = NoRegression(margin=0.5).evaluate(inputs(scored([6.0] * 20 + [8.0] * 10), before))
    assert worse.outcome == "fail"
    assert worse.figure == pytest.approx(-2.0 * 20 / 30)
    assert "score" in worse.message
    # An abstained item is left out, as for verdicts.
    gaps = NoRegression().evaluate(inputs(scored([8.0] * 29 + [None]), before))
    assert gaps.n == 29


def test_an_accepted_scored_run_keeps_the_candidates_scores(tmp_path: Path) -> None:
    panel = scored([7.0, 9.0], candidate="old-model")
    records = json.loads(panel.to_json(orient="records"))
    models = {"candidate": {"name": "old-model"}, "baseline": {"name": "base"}}
    write_accepted(tmp_path, "s", {"run_id": "r", "models": models, "panel": records})
    accepted = read_accepted(tmp_path, "s")
    assert accepted is not None
    assert accepted.set_index("item_id")["score"].to_dict() == {"i0": 7.0, "i1": 9.0}
    # A new candidate model is compared with the accepted candidate, whatever its name.
    now = scored([7.0, 9.0])
    result = NoRegression(min_items=1).evaluate(inputs(now, accepted))
    assert (result.figure, result.n) == (0.0, 2)
    assert np.isfinite(result.low)


def test_the_mean_score_interval_stays_on_the_scale_near_its_ceiling() -> None:
    # Scores piled at the top of a 1-10 scale: a symmetric t interval reaches past 10.
    scores = [10.0] * 17 + [4.0] * 3
    gate_inputs = inputs(scored(scores), None)
    result = MeanScore(at_least=7.0).evaluate(gate_inputs)
    assert result.figure == pytest.approx(9.1)
    assert 4.0 <= result.low < 9.1 < result.high <= 10.0
    assert "bootstrap" in result.message
    # Seeded: the same inputs give the same interval.
    assert MeanScore(at_least=7.0).evaluate(gate_inputs) == result


def test_the_mean_score_interval_has_no_width_from_a_single_item() -> None:
    result = MeanScore(min_items=1).evaluate(inputs(scored([8.0]), None))
    assert result.figure == 8.0
    assert np.isnan(result.low)
    assert np.isnan(result.high)
    assert result.outcome == "inconclusive"
