import itertools

from evalkit.judging import present, shown_label, to_verdict


def test_present_swaps_only_in_ba() -> None:
    assert present("AB", candidate="c", baseline="b") == ("c", "b")
    assert present("BA", candidate="c", baseline="b") == ("b", "c")


def test_mapping_table() -> None:
    assert [to_verdict(o, lab) for o, lab in itertools.product(("AB", "BA"), ("A", "B", "tie"))] == [
        "candidate", "baseline", "tie", "baseline", "candidate", "tie",
    ]


def test_round_trip_for_every_order_and_verdict() -> None:
    for order in ("AB", "BA"):
        for verdict in ("candidate", "baseline", "tie"):
            assert to_verdict(order, shown_label(order, verdict)) == verdict


def test_a_judge_that_always_says_a_is_inconsistent_after_mapping() -> None:
    # Pure position bias: "A" in both orders maps to opposite verdicts.
    assert {to_verdict("AB", "A"), to_verdict("BA", "A")} == {"candidate", "baseline"}
