"""PanelRule: the one value that says how judge rows become item verdicts."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.errors import UsageError
from evalkit.panel import PanelRule


def test_the_default_rule_is_majority_with_a_majority_quorum_and_flips_as_ties() -> None:
    rule = PanelRule()
    assert (rule.aggregation, rule.disagreement) == ("majority", "tie")
    assert [rule.quorum_for(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert PanelRule(quorum=1).quorum_for(5) == 1
    assert rule.to_dict() == {
        "aggregation": "majority",
        "quorum": None,
        "disagreement": "tie",
        "weights": {"trusted": 1.0, "questionable": 0.5, "untrusted": 0.0},
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quorum": 0}, "quorum must be a whole number of judges, at least 1; got 0"),
        ({"quorum": True}, "quorum must be a whole number of judges, at least 1; got True"),
        ({"disagreement": "coin"}, "disagreement must be 'tie', 'abstain' or 'two', got 'coin'"),
    ],
)
def test_a_rule_no_panel_could_apply_is_refused_naming_the_field(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        PanelRule(**fields)  # type: ignore[arg-type]


def test_judge_weights_come_from_reliability_verdicts() -> None:
    reliability = pd.DataFrame(
        {"judge": ["a", "b", "c"], "verdict": ["trusted", "questionable", "untrusted"]}
    )
    assert PanelRule().judge_weights(reliability) == {"a": 1.0, "b": 0.5, "c": 0.0}
    with pytest.raises(UsageError, match="give no weight to untrusted"):
        PanelRule(weights={"trusted": 1.0, "questionable": 1.0}).judge_weights(reliability)
