"""evalkit.data descriptors, checked against values worked out by hand."""

from __future__ import annotations

import pytest

from evalkit.data._descriptors import DESCRIPTORS, descriptor_frames
from evalkit.data._shift import describe_direction

EVAL = [
    "Where is my refund? I returned the headphones last week.",
    "Can you ship to Canada?",
]
PROD = [
    "hi i returnd the thing last week but whers my refund also do u ship to canada now",
    "pls check https://shop.example/orders 🙂",
    "my code `print(x)` fails",
]


@pytest.fixture(scope="module")
def frames():  # type: ignore[no-untyped-def]
    return descriptor_frames(EVAL, PROD)


def test_surface_descriptors_by_hand(frames) -> None:  # type: ignore[no-untyped-def]
    ev, prod = frames
    first = ev.iloc[0]
    assert first["chars"] == 56
    assert first["words"] == 10
    # 45 letters, 2 capitals (W, I)
    assert first["lower_share"] == pytest.approx(43 / 45)
    assert first["punctuation"] == pytest.approx(2 / 56)  # "?" and "."
    assert first["terminal_punctuation"] == 1
    assert first["sentences"] == 2
    assert first["question"] == 1
    assert first["several_requests"] == 0
    assert first["chat_register"] == 0
    assert first["misspelling_rate"] == 0
    rough = prod.iloc[0]
    assert rough["words"] == 18
    assert rough["lower_share"] == 1
    assert rough["terminal_punctuation"] == 0
    assert rough["sentences"] == 1
    assert rough["question"] == 0  # no "?" and it does not open like a question
    assert rough["several_requests"] == 1  # "also"
    assert rough["chat_register"] == 1  # "hi", "u"
    # judged: 15 of 18 words ("i" is one letter, "hi" and "u" are chat); misspelt: returnd, whers
    assert rough["misspelling_rate"] == pytest.approx(2 / 15)
    assert rough["has_misspelling"] == 1
    link = prod.iloc[1]
    assert (link["url"], link["emoji"], link["code"]) == (1, 1, 0)
    assert (prod.iloc[2]["code"], prod.iloc[2]["url"]) == (1, 0)
    assert list(ev.columns) == [d.name for d in DESCRIPTORS]


def test_oov_rate_is_against_production_and_leave_one_out_for_production(frames) -> None:  # type: ignore[no-untyped-def]
    ev, prod = frames
    # "Can you ship to Canada?": can, you, ship, to, canada — production has ship, to, canada
    assert ev.iloc[1]["oov_rate"] == pytest.approx(2 / 5)
    # "my code `print(x)` fails": my, code, print, x, fails; only "my" is in another production text
    assert prod.iloc[2]["oov_rate"] == pytest.approx(4 / 5)


def test_empty_and_symbol_only_texts_give_zeros_not_nan() -> None:
    ev, prod = descriptor_frames(["", "?!"], ["ok", "   "])
    assert not ev.isna().any().any()
    assert not prod.isna().any().any()
    assert ev.iloc[0]["sentences"] == 0
    assert ev.iloc[0]["lower_share"] == 0


def test_direction_in_words() -> None:
    by_name = {d.name: d for d in DESCRIPTORS}
    assert (
        describe_direction(by_name["chars"], 84.0, 36.5)
        == "are 2.3\u00d7 longer in characters (84 vs 36.5)"
    )
    assert describe_direction(by_name["has_misspelling"], 0.05, 0.30) == (
        "are 6.0\u00d7 less likely to contain a misspelling (5% vs 30%)"
    )
    assert describe_direction(by_name["emoji"], 0.1, 0.0).endswith("production has none")
    # Close to 1 a factor would round to "1.0x": the difference is given in percent.
    assert describe_direction(by_name["chars"], 52.0, 50.0).startswith("are 4% longer")
