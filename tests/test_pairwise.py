from __future__ import annotations

import itertools

from evalkit.judging._pairwise import present, shown_label, to_verdict


def test_present_swaps_only_in_ba() -> None:
    assert present("AB", candidate="c", baseline="b") == ("c", "b")
    assert present("BA", candidate="c", baseline="b") == ("b", "c")


def test_mapping_table() -> None:
    assert [
        to_verdict(o, lab) for o, lab in itertools.product(("AB", "BA"), ("A", "B", "tie"))
    ] == [
        "candidate",
        "baseline",
        "tie",
        "baseline",
        "candidate",
        "tie",
    ]


def test_round_trip_for_every_order_and_verdict() -> None:
    for order in ("AB", "BA"):
        for verdict in ("candidate", "baseline", "tie"):
            assert to_verdict(order, shown_label(order, verdict)) == verdict


def test_a_judge_that_always_says_a_is_inconsistent_after_mapping() -> None:
    # Pure position bias: "A" in both orders maps to opposite verdicts.
    assert {to_verdict("AB", "A"), to_verdict("BA", "A")} == {"candidate", "baseline"}


def test_every_pairwise_call_runs_in_both_orders_per_sample() -> None:
    from evalkit.judging import PARSERS, JudgeSpec
    from evalkit.judging._calls import judge_calls
    from evalkit.judging._judge import Judge
    from evalkit.records._dataset import Item

    spec = JudgeSpec(name="j", model="m", template="t", samples=2)
    judge = Judge(spec=spec, family="openai", parse=PARSERS.get("ab"))
    items = [Item("q0", {}), Item("q1", {})]
    calls = judge_calls(items, [judge])
    assert [(c.item.id, c.sample, c.order, c.role) for c in calls] == [
        (item, sample, order, None)
        for item in ("q0", "q1")
        for sample in (0, 1)
        for order in ("AB", "BA")
    ]


def test_scored_calls_cover_each_answer_and_listing() -> None:
    from evalkit.judging import PARSERS, JudgeSpec
    from evalkit.judging._calls import judge_calls
    from evalkit.judging._judge import Judge
    from evalkit.records._dataset import Item

    spec = JudgeSpec(
        name="j", model="m", template="t", mode="pointwise", parser="rating",
        scale={"labels": {1: "no", 2: "yes"}}, option_orders=["ascending", "descending"],
    )  # fmt: skip
    judge = Judge(spec=spec, family="openai", parse=PARSERS.get("rating"))
    calls = judge_calls([Item("q0", {})], [judge])
    assert [(c.role, c.option_order, c.order) for c in calls] == [
        ("candidate", "ascending", None),
        ("candidate", "descending", None),
        ("baseline", "ascending", None),
        ("baseline", "descending", None),
    ]
    single = judge_calls([Item("q0", {})], [judge], roles=("candidate",))
    assert {c.role for c in single} == {"candidate"}
