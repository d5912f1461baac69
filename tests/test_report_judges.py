"""The judge dashboard explains each figure with the quantities the figure is made of."""

from __future__ import annotations

import pytest

from evalkit.report._judges import judge_rows


def audit_with(self_preference: dict[str, object]) -> dict[str, object]:
    return {
        "reliability": [{"judge": "gemma", "judge_family": "google", "verdict": "trusted"}],
        "self_preference": [{"judge": "gemma", "measurable": True, **self_preference}],
    }


def test_a_share_is_explained_by_the_two_shares_it_is_the_difference_of() -> None:
    sp = {"mode": "pairwise", "unit": "share", "own_favour": 2 / 3, "others_favour": 0.5}
    (row,) = judge_rows(audit_with({**sp, "self_preference": 2 / 3 - 0.5}))
    assert row["self_preference_note"] == "own 66.7% vs others 50.0%"


def test_scores_are_printed_as_scores_not_percentages() -> None:
    sp = {"mode": "pointwise", "unit": "score", "own_favour": 10.0, "others_favour": 7.0}
    (row,) = judge_rows(audit_with({**sp, "self_preference": 3.0}))
    assert row["self_preference_note"] == "own 10.00 vs others 7.00 (mean score)"
    assert "%" not in row["self_preference_note"]


@pytest.mark.parametrize("unit", ["share", "score"])
def test_an_unmeasured_self_preference_has_no_note(unit: str) -> None:
    (row,) = judge_rows(audit_with({"unit": unit, "measurable": False, "reason": "no judge"}))
    assert row["self_preference_note"] is None
