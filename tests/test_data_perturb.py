"""Production-like variants of eval inputs, and the Robustness gate on their paired drop."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pandas as pd
import pytest

from evalkit import Suite
from evalkit.data._perturb import PERTURBATIONS, perturb_text, variant_of, with_variants
from evalkit.errors import DatasetError, UsageError
from evalkit.gates import GateInputs, Robustness
from evalkit.records._dataset import Item

TEXT = "Could you please tell me when the Invoice arrives? Thanks for your help."


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_each_perturbation_is_seeded_and_changes_the_text(name: str) -> None:
    once = perturb_text(TEXT, name, seed=1, key="q1", other="Where is my parcel?")
    assert once == perturb_text(TEXT, name, seed=1, key="q1", other="Where is my parcel?")
    assert once != TEXT


def _one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter dropped, doubled, or two neighbours swapped."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
    short, long_ = sorted((a, b), key=len)
    return len(long_) == len(short) + 1 and any(
        long_[:i] + long_[i + 1 :] == short for i in range(len(long_))
    )


def test_what_each_perturbation_does() -> None:
    def p(name: str, text: str = TEXT, key: str = "q1") -> str:
        return perturb_text(text, name, seed=0, key=key, other="Where is my parcel?")

    assert p("lowercase") == TEXT.lower()
    assert not set(p("no_punctuation")) & (set(string.punctuation) - {"'", "/"})
    assert p("abbreviations") == "Could u pls tell me when the Invoice arrives? thx for ur help."
    assert p("merged_intents").endswith(" where is my parcel?")
    assert p("merged_intents").startswith("Could you please tell me when the Invoice arrives")
    chat = p("chat_register")
    assert chat == chat.lower()
    assert not chat.endswith(".")
    assert " u pls " in chat
    # Typos: the same words, one of the 8 long ones misspelt by a single edit.
    typos = p("typos").split(" ")
    changed = [(a, b) for a, b in zip(TEXT.split(" "), typos, strict=True) if a != b]
    assert len(changed) == 1
    assert _one_edit(*changed[0])
    # Other keys give other typos, but as many.
    others = {p("typos", key=f"q{i}") for i in range(20)}
    assert len(others) > 5


def test_variants_follow_their_item_and_keep_the_reference() -> None:
    items = [
        Item("a", {"question": "What is two plus two?", "reference": "Four."}),
        Item("b", {"question": "Name a prime number.", "reference": "Seven."}),
    ]
    out = with_variants(items, ["lowercase", "typos"], ["question"], seed=0, source="d.jsonl")
    assert [i.id for i in out] == ["a", "a~lowercase", "a~typos", "b", "b~lowercase", "b~typos"]
    assert out[1].fields["question"] == "what is two plus two?"
    assert all(i.fields["reference"] in ("Four.", "Seven.") for i in out)
    assert [variant_of(i) for i in out[:3]] == [None, ("a", "lowercase"), ("a", "typos")]


def test_bad_perturbation_input_is_named(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "Hi?"}) + "\n")
    with pytest.raises(
        UsageError, match=r"suite 's': unknown perturbation 'typo'; choose from typos"
    ):
        Suite("s", dataset=data, perturbations=["typo"]).items()
    with pytest.raises(UsageError, match=r"perturbations must be a list of names"):
        Suite("s", dataset=data, perturbations="typos").items()
    data.write_text(json.dumps({"id": "a", "question": "Hi?", "perturbation": "x"}) + "\n")
    with pytest.raises(DatasetError, match=r"d\.jsonl: item 'a' has a field 'perturbation'"):
        Suite("s", dataset=data, perturbations=["typos"]).items()
    rows = [{"id": "a", "question": "Hi there?"}, {"id": "a~typos", "question": "Yo?"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DatasetError, match=r"item id 'a~typos' is also the id of the typos"):
        Suite("s", dataset=data, perturbations=["typos"]).items()


def test_conversations_are_perturbed_in_every_user_turn(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    chat = [
        {"role": "system", "content": "You are Support. Reply Politely."},
        {"role": "user", "content": "Hello, I Ordered a Lamp."},
        {"role": "assistant", "content": "Thank You. How Can I Help?"},
        {"role": "user", "content": "Where Is It?"},
    ]
    rows = [
        {"id": "m", "messages": chat},
        {"id": "t", "turns": ["Can You Help Me?", "Please Check My Refund."]},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    suite = Suite("s", dataset=data, perturbations=["lowercase", "merged_intents"])
    by_id = {item.id: item for item in suite.items()}
    assert list(by_id) == [
        "m", "m~lowercase", "m~merged_intents", "t", "t~lowercase", "t~merged_intents",
    ]  # fmt: skip
    low = by_id["m~lowercase"].conversation
    assert low is not None
    # Every user message is perturbed; the system and assistant messages and the roles stay.
    assert [dict(m) for m in low.prefix] == [
        chat[0], {"role": "user", "content": "hello, i ordered a lamp."}, chat[2],
    ]  # fmt: skip
    assert low.turns == ("where is it?",)
    assert variant_of(by_id["m~lowercase"]) == ("m", "lowercase")
    turns = by_id["t~lowercase"].conversation
    assert turns is not None
    assert turns.turns == ("can you help me?", "please check my refund.")
    # A second request is joined onto the final turn only, taken from the next row's.
    merged = by_id["m~merged_intents"].conversation
    assert merged is not None
    assert merged.prefix[1]["content"] == chat[1]["content"]
    assert merged.turns[0].startswith("Where Is It")
    assert merged.turns[0].endswith("please Check My Refund.")
    # The clean conversations are untouched.
    assert by_id["t"].conversation is not None
    assert by_id["t"].conversation.turns == ("Can You Help Me?", "Please Check My Refund.")


def test_conversation_variants_are_seeded_and_agree_turn_by_turn(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    turns = ["Could you please check my invoice number?", "Thanks, when does delivery happen?"]
    data.write_text(json.dumps({"id": "t", "turns": turns}) + "\n")

    def variants(seed: int) -> dict[str, tuple[str, ...]]:
        suite = Suite(
            "s", dataset=data, perturbations=["typos"], judge_turns="each", perturbation_seed=seed
        )
        return {i.id: i.conversation.turns for i in suite.items() if i.conversation is not None}

    once = variants(0)
    assert once == variants(0)
    assert list(once) == ["t#t1", "t#t1~typos", "t#t2", "t#t2~typos"]
    # Turn 1 reads the same in both turn items' variants: one conversation, typed once.
    assert once["t#t1~typos"][0] == once["t#t2~typos"][0] != turns[0]
    assert once["t#t2~typos"][1] != turns[1]
    assert any(variants(s)["t#t2~typos"] != once["t#t2~typos"] for s in range(1, 6))


def _inputs(verdicts: dict[str, str], variants: dict[str, tuple[str, str]]) -> GateInputs:
    panel = pd.DataFrame(
        {"item_id": list(verdicts), "verdict": list(verdicts.values()), "abstained": False}
    )
    return GateInputs(
        combined=pd.DataFrame(), panel=panel, confidence=0.95, variants=variants, seed=3
    )


def test_robustness_drop_per_perturbation() -> None:
    verdicts, variants = {}, {}
    for i in range(40):
        verdicts[f"q{i}"] = "candidate"
        verdicts[f"q{i}~typos"] = "baseline" if i % 2 else "candidate"  # loses half
        verdicts[f"q{i}~lowercase"] = "candidate"  # loses nothing
        variants[f"q{i}~typos"], variants[f"q{i}~lowercase"] = (f"q{i}", "typos"), (
            f"q{i}", "lowercase",
        )  # fmt: skip
    result = Robustness(max_drop=0.1).evaluate(_inputs(verdicts, variants))
    assert result.outcome == "fail"
    assert result.figure == pytest.approx(0.5)
    assert 0.1 < result.low < 0.5 < result.high < 0.9
    rows = {r["perturbation"]: r for r in (result.details or {})["perturbations"]}
    assert (rows["lowercase"]["drop"], rows["lowercase"]["outcome"]) == (0.0, "pass")
    assert (rows["typos"]["n"], rows["typos"]["clean"], rows["typos"]["perturbed"]) == (
        40, 1.0, 0.5,
    )  # fmt: skip
    only = Robustness(max_drop=0.1, perturbation="lowercase").evaluate(_inputs(verdicts, variants))
    assert (only.outcome, only.figure, only.n) == ("pass", 0.0, 40)
    assert only.name == "robustness(max_drop=0.1, perturbation=lowercase)"
    few = Robustness(min_items=50).evaluate(_inputs(verdicts, variants))
    assert few.outcome != "pass"


def test_robustness_without_variants_is_inconclusive_with_the_fix() -> None:
    result = Robustness().evaluate(_inputs({"q0": "candidate"}, {}))
    assert result.outcome == "inconclusive"
    assert "set perturbations=[...] on the suite" in result.message
