"""The exam's accuracy per judge and kind, and the pairs each judge got wrong."""

import math

import pytest
from _exam_tables import complete, exam_rows

from evalkit.audit._human import human_agreement
from evalkit.probes._exam_stats import exam_accuracy, exam_mistakes
from evalkit.testing import SimJudge, simulate_judgments

N, G = "exam:number", "exam:graded"


def _wilson(k: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson interval written out, for the hand computations."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


HAND = exam_rows(
    [
        # judge j: pair 1 right in both orders (1), pair 2 right once (½), pair 3 a tie and a
        # wrong pick (0), pair 4 right in the only order that could be read (1).
        ("j", "1", N, "a", "AB", "a"), ("j", "1", N, "a", "BA", "a"),
        ("j", "2", N, "b", "AB", "a"), ("j", "2", N, "b", "BA", "b"),
        ("j", "3", G, "a", "AB", "tie"), ("j", "3", G, "a", "BA", "b"),
        ("j", "4", G, "b", "AB", "b"), ("j", "4", G, "b", "BA", None),
        # judge k: nothing readable on pair 1.
        ("k", "1", N, "a", "AB", None), ("k", "1", N, "a", "BA", None),
    ]
)  # fmt: skip


def test_accuracy_per_judge_and_kind_against_a_hand_computation() -> None:
    got = exam_accuracy(HAND).set_index(["judge", "probe"])
    pooled = got.loc[("j", "exam")]
    # (1 + ½ + 0 + 1) / 4 pairs; one unreadable call.
    assert (pooled["n_pairs"], pooled["n_invalid"], pooled["correct"]) == (4, 1, 2.5)
    assert pooled["accuracy"] == pytest.approx(0.625)
    assert (pooled["low"], pooled["high"]) == pytest.approx(_wilson(2.5, 4))
    assert pooled["judge_family"] == "j-family"
    number, graded = got.loc[("j", N)], got.loc[("j", G)]
    assert (number["n_pairs"], number["accuracy"]) == (2, 0.75)
    assert (graded["n_pairs"], graded["accuracy"], graded["n_invalid"]) == (2, 0.5, 1)
    assert (graded["low"], graded["high"]) == pytest.approx(_wilson(1, 2))
    # A judge with no readable verdict is listed with n = 0 and no accuracy, not dropped.
    dead = got.loc[("k", "exam")]
    assert (dead["n_pairs"], dead["n_invalid"]) == (0, 2)
    assert math.isnan(dead["accuracy"])
    assert list(exam_accuracy(HAND)["probe"]) == ["exam", G, N, "exam", N]


def test_the_pairs_a_judge_got_wrong_worst_first() -> None:
    wrong = exam_mistakes(HAND)
    assert wrong[["judge", "item_id", "probe", "score", "verdicts"]].to_dict("records") == [
        {"judge": "j", "item_id": "3", "probe": G, "score": 0.0, "verdicts": "AB: tie, BA: b"},
        {"judge": "j", "item_id": "2", "probe": N, "score": 0.5, "verdicts": "AB: a, BA: b"},
    ]


def test_no_exam_rows_gives_empty_frames() -> None:
    probes = HAND.assign(kind="probe")
    assert exam_accuracy(probes).empty
    assert exam_mistakes(probes).empty


def test_the_rule_is_the_audits_accuracy_averaged_over_orders() -> None:
    """The same verdicts read as a judgments table with human labels give the same figures.

    Judges with position bias, ties and unreadable replies, so that every part of the rule
    (orders averaged, ties wrong, invalid calls left out) is exercised.
    """
    judges = [
        SimJudge("good", "a", quality_weight=2.0),
        SimJudge("first", "b", first_position=0.8, fail_rate=0.2),
        SimJudge("tied", "c", tie_rate=0.3),
    ]
    table = simulate_judgments(judges, n_items=150, seed=5, human_labels=True)
    table.loc[table["human_label"] == "tie", "human_label"] = None  # an exam target is a or b
    rows = table.loc[table["human_label"].notna()]
    side = {"candidate": "a", "baseline": "b", "tie": "tie"}
    probes = complete(
        rows.assign(
            probe=G, target=rows["human_label"].map(side), verdict=rows["verdict"].map(side)
        )
    )
    assert (probes["status"] != "ok").any()
    assert (probes["verdict"] == "tie").any()
    mine = exam_accuracy(probes).set_index(["probe", "judge"]).loc["exam"]
    audit = human_agreement(table, n_boot=20).set_index("rater")
    for judge in ("good", "first", "tied"):
        for ours, theirs in [("accuracy", ""), ("low", "_low"), ("high", "_high")]:
            expected = audit.loc[judge, f"accuracy_orders{theirs}"]
            assert mine.loc[judge, ours] == pytest.approx(expected, abs=1e-12)
