import math

import numpy as np
import pandas as pd
import pytest

from evalkit.gates import GateInputs, JudgesTrusted, MeanScore, NoRegression, PassRate, WinRate
from evalkit.gates._gates import decide
from evalkit.gates._regression import item_scores, mcnemar_p, paired_bootstrap


def panel(verdicts: list[str | None], ids: list[str] | None = None) -> pd.DataFrame:
    ids = ids or [f"i{k}" for k in range(len(verdicts))]
    return pd.DataFrame({
        "item_id": ids,
        "verdict": verdicts,
        "abstained": [v is None for v in verdicts],
        "reason": [None] * len(verdicts),
    })


def inputs(p: pd.DataFrame, **kw: object) -> GateInputs:
    return GateInputs(combined=pd.DataFrame(), panel=p, confidence=0.95, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("low", "high", "n", "expected"),
    [(0.5, 0.7, 30, "pass"), (0.3, 0.49, 30, "fail"), (0.49, 0.7, 30, "inconclusive"),
     (0.6, 0.9, 5, "inconclusive"), (math.nan, math.nan, 30, "inconclusive")],
)
def test_decide_uses_the_whole_interval(low: float, high: float, n: int, expected: str) -> None:
    assert decide(low, high, 0.5, n=n, min_items=20) == expected


def test_win_rate_gate_outcomes_follow_the_wilson_interval() -> None:
    # 70 wins of 100: Wilson 95% [0.604, 0.781] -> clears 0.5.
    strong = WinRate().evaluate(inputs(panel(["candidate"] * 70 + ["baseline"] * 30)))
    assert strong.outcome == "pass"
    assert strong.figure == pytest.approx(0.70)
    assert (strong.low, strong.high) == (pytest.approx(0.6042, abs=1e-3), pytest.approx(0.7811, abs=1e-3))
    # 55 of 100: Wilson [0.452, 0.644] straddles 0.5.
    assert WinRate().evaluate(inputs(panel(["candidate"] * 55 + ["baseline"] * 45))).outcome == "inconclusive"
    # 35 of 100: [0.264, 0.447] is wholly below.
    assert WinRate().evaluate(inputs(panel(["candidate"] * 35 + ["baseline"] * 65))).outcome == "fail"


def test_win_rate_counts_ties_as_half_and_excludes_abstentions() -> None:
    result = WinRate(min_items=1).evaluate(inputs(panel(["candidate", "tie", "baseline", None])))
    assert result.n == 3
    assert result.figure == pytest.approx(0.5)
    assert "1 abstained" in result.message


def reliability(**verdicts: str) -> pd.DataFrame:
    return pd.DataFrame({
        "judge": list(verdicts), "verdict": list(verdicts.values()),
        "reasons": [f"{v} because" for v in verdicts.values()],
    })


def test_judges_trusted_gate() -> None:
    gate = JudgesTrusted()
    p = panel(["candidate"])
    assert gate.evaluate(inputs(p, reliability=reliability(a="trusted", b="trusted"))).outcome == "pass"
    failed = gate.evaluate(inputs(p, reliability=reliability(a="trusted", b="untrusted")))
    assert failed.outcome == "fail"
    assert failed.figure == 0.5
    assert "b untrusted: untrusted because" in failed.message
    assert gate.evaluate(inputs(p, reliability=reliability(a="questionable"))).outcome == "inconclusive"
    assert JudgesTrusted(allow_questionable=True).evaluate(
        inputs(p, reliability=reliability(a="questionable"))).outcome == "pass"


def test_item_scores_and_mcnemar() -> None:
    scores = item_scores(panel(["candidate", "tie", "baseline", None]))
    assert scores.to_dict() == {"i0": 1.0, "i1": 0.5, "i2": 0.0}
    now = np.array([True] * 10 + [False] * 10)
    before = np.array([False] * 10 + [False] * 10)
    # 10 gained, 0 lost: exact two-sided p = 2 * 0.5**10
    assert mcnemar_p(now, before) == pytest.approx(2 * 0.5**10)
    assert mcnemar_p(now, now) == 1.0


def test_paired_bootstrap_covers_the_true_shift_and_is_seeded() -> None:
    diff = np.r_[np.full(60, -1.0), np.zeros(40)]  # mean -0.6
    mean, low, high = paired_bootstrap(diff, confidence=0.95, seed=1)
    assert mean == pytest.approx(-0.6)
    assert low < -0.6 < high
    assert high < -0.4  # sd of the mean is ~0.049, so the interval is about ±0.1
    assert paired_bootstrap(diff, confidence=0.95, seed=1) == (mean, low, high)


def test_no_regression_gate() -> None:
    ids = [f"i{k}" for k in range(40)]
    before = panel(["candidate"] * 30 + ["baseline"] * 10, ids)
    same = NoRegression().evaluate(inputs(before, accepted=before))
    assert same.outcome == "pass"
    assert same.figure == 0.0
    worse = panel(["baseline"] * 30 + ["baseline"] * 10, ids)
    result = NoRegression().evaluate(inputs(worse, accepted=before))
    assert result.outcome == "fail"
    assert result.figure == pytest.approx(-0.75)
    assert result.n == 40
    missing = NoRegression().evaluate(inputs(before))
    assert missing.outcome == "inconclusive"
    assert "--evalkit-accept" in missing.message


def score_panel(scores: list[float | None], candidate: str = "cand") -> pd.DataFrame:
    return pd.DataFrame({
        "item_id": [f"i{k}" for k in range(len(scores))],
        "candidate": candidate,
        "score": scores,
        "abstained": [s is None for s in scores],
        "reason": None,
    })


def test_mean_score_gate_uses_a_bootstrap_interval_on_the_candidates_scores() -> None:
    scores: list[float | None] = [8.0, 9.0] * 15  # mean 8.5, sd 0.5085, n 30
    p = pd.concat([score_panel(scores), score_panel([1.0] * 30, candidate="base")])
    result = MeanScore(at_least=7.0).evaluate(inputs(p, candidate="cand"))
    # Symmetric scores far from the scale's ends: close to the t interval (a bootstrap is a
    # little narrower: z rather than t, and the plug-in sd).
    half = 2.0452 * 0.50855 / 30**0.5  # t(0.975, 29) * sd / sqrt(n)
    assert result.outcome == "pass"
    assert result.figure == pytest.approx(8.5)
    assert (result.low, result.high) == (pytest.approx(8.5 - half, abs=0.03), pytest.approx(8.5 + half, abs=0.03))
    assert result.n == 30
    assert MeanScore(at_least=8.45).evaluate(inputs(p, candidate="cand")).outcome == "inconclusive"
    assert MeanScore(at_least=9.0).evaluate(inputs(p, candidate="cand")).outcome == "fail"
    abstaining = MeanScore(min_items=1).evaluate(inputs(score_panel([5.0, None, 6.0]), candidate="cand"))
    assert abstaining.n == 2
    assert "1 abstained" in abstaining.message
    # A pairwise panel has no scores: the gate says so rather than guess.
    assert MeanScore().evaluate(inputs(panel(["candidate"]))).outcome == "inconclusive"


def graded(rows: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"item_id": i, "judge": g, "score": s, "candidate": "cand"} for i, g, s in rows]
    )


def test_pass_rate_gate_needs_every_grader_and_counts_missing_answers_as_fails() -> None:
    rows = [(f"i{k}", "exact", 1.0) for k in range(40)] + [(f"i{k}", "regex", 1.0) for k in range(38)]
    rows += [("i38", "regex", 0.0), ("i39", "regex", None)]
    gate_inputs = inputs(panel(["tie"]), graded=graded(rows), candidate="cand")
    result = PassRate(at_least=0.8).evaluate(gate_inputs)
    assert (result.n, result.figure) == (40, pytest.approx(38 / 40))
    assert result.low == pytest.approx(0.8346, abs=1e-3)  # Wilson 95% for 38 of 40
    assert result.outcome == "pass"
    assert PassRate(at_least=0.9).evaluate(gate_inputs).outcome == "inconclusive"


def test_pass_rate_of_one_grader() -> None:
    rows = [(f"i{k}", "exact", 1.0 if k < 30 else 0.0) for k in range(40)]
    one = PassRate(at_least=0.5, grader="exact").evaluate(
        inputs(panel(["tie"]), graded=graded(rows), candidate="cand"))
    assert one.name == "pass_rate(at_least=0.5, grader=exact)"
    assert one.figure == pytest.approx(0.75)
    assert one.outcome == "pass"
    missing = PassRate(grader="nope").evaluate(inputs(panel(["tie"]), graded=graded(rows)))
    assert missing.outcome == "inconclusive"


def test_gate_names_are_derived_from_the_parameters_that_differ_from_the_defaults() -> None:
    assert WinRate().name == "win_rate"
    assert WinRate(at_least=0.5, min_items=20).name == "win_rate"
    assert WinRate(at_least=0.99).name == "win_rate(at_least=0.99)"
    assert MeanScore(at_least=5.0, min_items=10).name == "mean_score(at_least=5, min_items=10)"
    assert NoRegression(margin=0.05).name == "no_regression(margin=0.05)"
    assert JudgesTrusted(allow_questionable=True).name == "judges_trusted(allow_questionable=True)"
    assert WinRate(at_least=0.99, name="strict").name == "strict"


def test_a_suite_refuses_two_gates_with_one_name() -> None:
    from evalkit import Suite
    from evalkit.errors import UsageError

    ok = Suite("s", dataset="d.jsonl", gates=[WinRate(at_least=0.1), WinRate(at_least=0.9)])
    assert ok.gate_names() == ["win_rate(at_least=0.1)", "win_rate(at_least=0.9)"]
    twice = Suite("s", dataset="d.jsonl", gates=[WinRate(), WinRate()])
    with pytest.raises(UsageError, match="suite 's' has two gates named 'win_rate'"):
        twice.gate_names()
