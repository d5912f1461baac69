"""Fluent but wrong: judges measured against deterministic checks, from the judgments table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evalkit.audit._fluent import fluent_but_wrong
from evalkit.records._run import FluentRecord


def _row(item: str, judge: str, **values: object) -> dict[str, object]:
    family = "deterministic" if judge == "numeric" else f"fam-{judge}"
    base: dict[str, object] = {
        "run_id": "r", "suite": "s", "item_id": item, "mode": "reference", "candidate": "cand",
        "baseline": None, "judge": judge, "judge_family": family, "order": None, "sample": 0,
        "verdict": None, "score": None, "parse_ok": True, "error": None, "status": "ok",
        "candidate_family": "c", "baseline_family": None, "len_candidate": 10,
        "len_baseline": None, "human_label": None,
    }  # fmt: skip
    base.update(values)
    return base


def _scored(right: list[bool], scores: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for i, ok in enumerate(right):
        rows.append(_row(f"i{i}", "numeric", score=1.0 if ok else 0.0))
        rows += [_row(f"i{i}", judge, score=values[i]) for judge, values in scores.items()]
    return pd.DataFrame(rows)


def test_scored_rates_follow_each_judges_own_bar_for_a_right_answer() -> None:
    right = [True, True, True, False, False, False, False]
    table = _scored(
        right,
        {
            # right answers' median 9: wrong answers at 9, 10, 3, 2 -> 2 of 4 fooled
            "a": [9, 8, 10, 9, 10, 3, 2],
            # right answers' median 5: every wrong answer below -> never fooled
            "b": [5, 6, 4, 1, 2, 3, 1],
        },
    )
    result = fluent_but_wrong(table)
    judges = result.judges.set_index("judge")
    assert judges.loc["a", "fooled"] == 2
    assert judges.loc["a", "n_wrong"] == 4
    assert judges.loc["b", "fooled"] == 0
    assert judges.loc["b", "n_right"] == 3
    # AUC for a: of the 12 (right, wrong) pairs, right is higher in 7 (9>3, 9>2, 8>3, 8>2,
    # 10>9, 10>3, 10>2) and tied in 2 (9=9, 10=10), each tie half: 8 / 12.
    assert judges.loc["a", "auc"] == pytest.approx(8 / 12)
    assert judges.loc["b", "auc"] == pytest.approx(1.0)
    # An answer is listed when most judges who judged it were fooled: one of two is not most.
    assert result.n_wrong == 4
    assert result.n_fooled == 0
    assert result.rate == 0.0
    assert result.most_fooled() == "a"


def test_a_wrong_answer_fooling_most_judges_is_listed_with_who_was_fooled() -> None:
    table = _scored([True, False, False], {"a": [8, 8, 1], "b": [7, 9, 1], "c": [9, 1, 1]})
    result = fluent_but_wrong(table)
    assert result.n_wrong == 2
    assert result.n_fooled == 1
    listed = result.items.iloc[0]
    assert (listed["item_id"], listed["fooled_by"]) == ("i1", "a, b")
    assert result.rate == 0.5
    assert 0.0 < result.low < 0.5 < result.high < 1.0
    line = FluentRecord.model_validate(result.to_dict()).summary_line()
    assert line.startswith("fluent but wrong: 1 of 2 wrong answers fooled most judges (50% [")
    # a and b were each fooled by one of their two wrong answers: the tie goes by name.
    assert line.endswith("; most fooled: a")


def test_auc_interval_covers_chance_for_a_judge_that_ignores_correctness() -> None:
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(200):
        right = list(rng.random(60) < 0.5)
        table = _scored(right, {"a": list(rng.integers(1, 11, 60).astype(float))})
        judge = fluent_but_wrong(table).judges.iloc[0]
        covered += judge["auc_low"] <= 0.5 <= judge["auc_high"]
    # Hanley-McNeil at 95 %: coverage near nominal (ties make it a little conservative).
    assert 0.92 <= covered / 200 <= 1.0


def test_pairwise_judge_preferring_the_failing_answer_is_fooled() -> None:
    rows = []
    # i0: candidate right, baseline wrong; i1: both right (not decisive); i2: baseline right.
    checks = {"i0": (1.0, 0.0), "i1": (1.0, 1.0), "i2": (0.0, 1.0)}
    verdicts = {"x": {"i0": ("baseline", "baseline"), "i1": ("tie", "tie"),
                      "i2": ("candidate", "candidate")},
                "y": {"i0": ("candidate", "candidate"), "i1": ("tie", "tie"),
                      "i2": ("candidate", "baseline")}}  # fmt: skip
    for item, (c, b) in checks.items():
        # Graders score each answer on its own (mode reference), whatever the suite's mode.
        rows.append(_row(item, "numeric", score=c, candidate="cand"))
        rows.append(_row(item, "numeric", score=b, candidate="base"))
        for judge, by_item in verdicts.items():
            for order, verdict in zip(("AB", "BA"), by_item[item], strict=True):
                rows.append(_row(item, judge, mode="pairwise", baseline="base", order=order,
                                 verdict=verdict))  # fmt: skip
    result = fluent_but_wrong(pd.DataFrame(rows))
    judges = result.judges.set_index("judge")
    # x prefers the wrong answer on both decisive items; y is right on i0, flips on i2 (tie).
    assert judges.loc["x", "fooled"] == 2
    assert judges.loc["x", "n_wrong"] == 2
    assert judges.loc["y", "fooled"] == 0
    assert math.isnan(judges.loc["x", "auc"])
    assert result.kind == "pairwise"
    assert result.n_wrong == 2
    assert result.n_fooled == 0


def test_not_measurable_without_graders_or_without_wrong_answers() -> None:
    no_graders = _scored([True, False], {"a": [5, 5]})
    no_graders = no_graders.loc[no_graders["judge"] != "numeric"]
    assert fluent_but_wrong(no_graders).reason == "the suite has no deterministic graders"
    all_right = fluent_but_wrong(_scored([True, True], {"a": [5, 6]}))
    assert not all_right.measurable
    assert "every judged answer passed" in str(all_right.reason)
    line = FluentRecord.model_validate(all_right.to_dict()).summary_line()
    assert line == "fluent but wrong: not measured (every judged answer passed the checks)"


def test_failed_or_unparseable_rows_are_not_counted() -> None:
    table = _scored([True, False, False], {"a": [8, 9, 9]})
    table.loc[(table["item_id"] == "i2") & (table["judge"] == "a"), ["parse_ok", "score"]] = (
        False, None,
    )  # fmt: skip
    judge = fluent_but_wrong(table).judges.iloc[0]
    assert (judge["n_wrong"], judge["fooled"]) == (1, 1)
