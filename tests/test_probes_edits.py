"""The bias probes' edits: pure, seeded, one cue each, on the answer the panel did not prefer."""

from __future__ import annotations

import re

import pytest

from evalkit import Suite
from evalkit.errors import UsageError
from evalkit.probes import ProbePair
from evalkit.probes._edits import (
    CUES,
    PADDING_WORDS,
    PROBES,
    UNEDITED,
    EditContext,
    edit_pair,
    shown_note,
)

BASE = ProbePair("s", "q1", UNEDITED, "probe", "What is 2+2?", "It is 4.", "It is 5.", "a")
NAMES = sorted(n for n in PROBES.names() if n in CUES)


def _cue(name: str, family: str = "google") -> re.Pattern[str]:
    return re.compile(CUES[name].replace("{family}", family))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("preferred", ["a", "b"])
def test_each_probe_edits_only_the_worse_answer_and_leaves_its_cue(
    name: str, preferred: str
) -> None:
    ctx = EditContext(preferred=preferred, judge_family="google", seed=3)  # type: ignore[arg-type]
    pair = edit_pair(name, BASE, ctx)
    worse = "b" if preferred == "a" else "a"
    assert (pair.probe, pair.kind, pair.target) == (name, "probe", worse)
    edited = {"a": pair.first, "b": pair.second}
    original = {"a": BASE.first, "b": BASE.second}
    if name == "bandwagon":  # a note to the judge; the answers are untouched
        assert (pair.first, pair.second) == (BASE.first, BASE.second)
        assert _cue(name).search(shown_note(pair, first_shown="a"))
        return
    # The original content is kept whole: the edit only adds, at the end.
    assert edited[worse].startswith(original[worse] + " ")
    assert _cue(name).search(edited[worse])
    assert not _cue(name).search(edited[preferred])
    if name != "identity":  # identity signs both answers, the other with a rival family
        assert edited[preferred] == original[preferred]
    else:
        assert "a openai model" in edited[preferred]


@pytest.mark.parametrize("name", NAMES)
def test_edits_are_seeded(name: str) -> None:
    tied = EditContext(preferred=None, seed=1)
    assert edit_pair(name, BASE, tied) == edit_pair(name, BASE, tied)
    # With no preference, the target is a coin seeded by the item: both sides come up.
    sides = {
        edit_pair(name, ProbePair("s", f"q{i}", UNEDITED, "probe", "?", "x", "y", "a"), tied).target
        for i in range(20)
    }
    assert sides == {"a", "b"}


def test_verbosity_pads_with_the_stated_number_of_words() -> None:
    pair = edit_pair("verbosity", BASE, EditContext(preferred="a"))
    assert len(pair.second.split()) == len(BASE.second.split()) + PADDING_WORDS


def test_identity_claims_the_judges_own_family() -> None:
    pair = edit_pair("identity", BASE, EditContext(preferred="a", judge_family="openai"))
    assert pair.second.endswith("(Answer written by GPT-4o, a openai model.)")
    assert pair.first.endswith("(Answer written by Claude, a anthropic model.)")


def test_the_bandwagon_note_names_the_target_as_the_judge_sees_it() -> None:
    pair = edit_pair("bandwagon", BASE, EditContext(preferred="a"))  # target b
    assert shown_note(pair, first_shown="a").endswith("preferred answer B.")
    assert shown_note(pair, first_shown="b").endswith("preferred answer A.")


def test_an_unknown_probe_is_refused_when_the_suite_is_declared() -> None:
    with pytest.raises(UsageError) as info:
        Suite("s", dataset="d.jsonl", probes=["verbosity", "bandwagn"])
    message = str(info.value)
    assert message.startswith("suite 's': unknown probe 'bandwagn'; known probes: ")
    for name in NAMES:
        assert name in message
    assert "did you mean 'bandwagon'?" in message
    with pytest.raises(UsageError, match="unknown probe 'unedited'"):
        Suite("s", dataset="d.jsonl", probes=[UNEDITED])


def test_probes_on_a_scored_suite_or_on_no_items_are_refused() -> None:
    with pytest.raises(UsageError, match="need a pairwise suite"):
        Suite("s", dataset="d.jsonl", mode="pointwise", probes=["tone"])
    with pytest.raises(UsageError, match="probe_items=0; use 1 or more items"):
        Suite("s", dataset="d.jsonl", probes=["tone"], probe_items=0)
    assert Suite("s", dataset="d.jsonl", probes=["tone"]).probes == ["tone"]


def test_self_rewrite_puts_the_judges_paraphrase_in_place_of_the_worse_answer() -> None:
    ctx = EditContext(preferred="a", judge_family="google", rewrite="Four is not it; five.")
    pair = edit_pair("self-rewrite", BASE, ctx)
    assert (pair.first, pair.second, pair.target) == (BASE.first, "Four is not it; five.", "b")
    with pytest.raises(UsageError, match="needs the judge's paraphrase"):
        edit_pair("self-rewrite", BASE, EditContext(preferred="a"))
