"""The family policy: warn, exclude or error when a judge shares a family with what it judges."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit
from evalkit.errors import SpecError
from evalkit.judging import PARSERS, JudgeSpec, PanelSpec
from evalkit.judging._calls import judge_calls
from evalkit.judging._judge import Judge, Panel
from evalkit.judging._lineage import family_policy
from evalkit.records._dataset import Item

ITEMS = (
    Item("q0", {"question": "?"}),
    Item("q1", {"question": "?", "generator_family": "google"}),
    Item("q2", {"question": "?", "generator_family": "anthropic"}),
)
FAMILIES = {"candidate": "openai", "baseline": "meta"}


def judge(name: str, family: str, *, scored: bool = False) -> Judge:
    extra = {"mode": "pointwise", "scale": {"min": 1, "max": 10}} if scored else {}
    spec = JudgeSpec(name=name, model=f"x/{name}", template="t.j2", **extra)  # type: ignore[arg-type]
    return Judge(spec=spec, family=family, parse=PARSERS.get("ab"))


def panel(policy: str, *judges: Judge) -> Panel:
    spec = PanelSpec(name="p", judges=[j.name for j in judges], family_policy=policy)  # type: ignore[arg-type]
    return Panel(spec=spec, judges=judges, path=Path("judges/p.yaml"))


def apply(p: Panel):  # type: ignore[no-untyped-def]
    return family_policy(
        p,
        ITEMS,
        judge_families={j.name: j.family for j in p.judges},
        model_families=FAMILIES,  # type: ignore[arg-type]
    )


def test_warn_keeps_the_judge_and_says_so() -> None:
    decisions, excluded = apply(panel("warn", judge("gpt", "openai"), judge("claude", "anthropic")))
    assert [(d.judge, d.shared_with, d.items, d.item_ids) for d in decisions] == [
        ("gpt", "candidate", 3, ("q0", "q1", "q2")),
        ("claude", "generator", 1, ("q2",)),
    ]
    assert len(excluded) == 0
    assert decisions[0].message() == (
        "judge gpt is from the openai family, like the candidate on 3 item(s): kept (policy "
        "warn); its verdicts there may measure self-agreement"
    )


def test_exclude_drops_a_pairwise_judge_from_the_whole_item() -> None:
    gpt, claude, gemini = (
        judge("gpt", "openai"),
        judge("claude", "anthropic"),
        judge("gem", "google"),
    )
    p = panel("exclude", gpt, claude, gemini)
    decisions, excluded = apply(p)
    assert {(d.judge, d.shared_with) for d in decisions} == {
        ("gpt", "candidate"),
        ("claude", "generator"),
        ("gem", "generator"),
    }
    calls = judge_calls(ITEMS, p.judges, excluded=excluded)
    per_judge = {j.name: sorted({c.item.id for c in calls if c.judge is j}) for j in p.judges}
    assert per_judge == {"gpt": [], "claude": ["q0", "q1"], "gem": ["q0", "q2"]}
    assert (
        decisions[0]
        .message()
        .endswith("excluded for those items; its verdicts there may measure self-agreement")
    )


def test_exclude_drops_a_scoring_judge_only_from_its_own_family_answers() -> None:
    llama = judge("llama", "meta", scored=True)
    p = panel("exclude", llama)
    decisions, excluded = apply(p)
    assert [(d.shared_with, d.scored) for d in decisions] == [("baseline", True)]
    calls = judge_calls(ITEMS, p.judges, excluded=excluded)
    assert {c.role for c in calls} == {"candidate"}
    assert len(calls) == len(ITEMS)
    assert "excluded from scoring the baseline's answers" in decisions[0].message()


def test_error_stops_before_any_call_naming_the_panel_file() -> None:
    with pytest.raises(
        SpecError,
        match=r"panel 'p' \(judges/p\.yaml\): judge llama is from the meta family, like the "
        r"baseline; pick a judge from another family, or set family_policy",
    ):
        apply(panel("error", judge("claude2", "cohere"), judge("llama", "meta")))


def test_error_also_covers_the_dataset_generator() -> None:
    with pytest.raises(SpecError, match=r"judge gem is from the google family, like the generator"):
        apply(panel("error", judge("gem", "google")))


def test_unknown_families_never_match() -> None:
    decisions, excluded = apply(panel("error", judge("mystery", "unknown")))
    assert decisions == []
    assert len(excluded) == 0


def test_the_run_family_overrides_the_spec_family() -> None:
    p = panel("warn", judge("local", "unknown"))
    decisions, _ = family_policy(
        p,
        ITEMS,
        judge_families={"local": "meta"},
        model_families=FAMILIES,  # type: ignore[arg-type]
    )
    assert [d.shared_with for d in decisions] == ["baseline"]


def test_exclusions_that_leave_every_item_below_quorum_stop_the_run() -> None:
    gpt, llama = judge("gpt", "openai"), judge("llama", "meta")
    spec = PanelSpec(name="p", judges=["gpt", "llama"], quorum=1, family_policy="exclude")
    p = Panel(spec=spec, judges=(gpt, llama), path=Path("judges/p.yaml"))
    with pytest.raises(
        SpecError,
        match=r"panel 'p' \(judges/p\.yaml\): family_policy exclude leaves at most 0 judge\(s\) "
        r"on any item, fewer than the quorum of 1",
    ):
        apply(p)
    # Scoring judges keep the other model's answers, so the quorum is still reachable there.
    scored = (judge("gpt", "openai", scored=True), judge("llama", "meta", scored=True))
    decisions, excluded = apply(Panel(spec=spec, judges=scored, path=Path("judges/p.yaml")))
    assert len(decisions) == 2
    assert len(excluded) == 2 * len(ITEMS)


def test_a_family_is_one_name_however_it_is_written() -> None:
    # A dataset that says "Google " and a judge spec that says "GOOGLE" mean the family that
    # family_of calls "google": the policy must see the match (it compared spellings before).
    item = Item("q9", {"question": "?", "generator_family": "Google "})
    assert item.generator_family == "google"
    assert Item("q8", {"question": "?", "generator_family": "  "}).generator_family is None
    spec = JudgeSpec(name="g", model="x/g", template="t.j2", family="GOOGLE")  # type: ignore[arg-type]
    assert spec.family == "google"
    gemini = Judge(spec=spec, family=str(spec.family), parse=PARSERS.get("ab"))
    decisions, _ = family_policy(
        panel("warn", gemini, judge("claude", "anthropic")),
        (item,),
        judge_families={"g": "google", "claude": "anthropic"},
        model_families=FAMILIES,  # type: ignore[arg-type]
    )
    assert [(d.judge, d.shared_with, d.item_ids) for d in decisions] == [
        ("g", "generator", ("q9",))
    ]
    assert evalkit.app(lambda row: "x", version="v1", family=" OpenAI").family == "openai"
    assert evalkit.recorded(column="answer", family="Meta").family == "meta"
    assert evalkit.recorded(column="answer").family == "unknown"
