"""The Diversity gate: what the run's texts lost against the accepted run's, with an interval."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _project import run_scored, write_scored_panel

import evalkit
from evalkit.data._diversity import FIGURES
from evalkit.data._kept import MAX_CHARS, MAX_TEXTS, keep_texts
from evalkit.errors import ConfigError, UsageError
from evalkit.gates import Diversity, GateInputs
from evalkit.gates._gates import check_gates
from evalkit.records._baselines import read_accepted_texts, write_accepted
from evalkit.records._texts import SuiteTexts
from evalkit.testing import FakeProvider

WORDS = [f"{a}{b}" for a in ("re", "un", "de", "pro", "con", "sub") for b in (
    "fund", "ship", "port", "mit", "tract", "scribe", "cover", "pair", "view", "sign",
    "turn", "charge", "form", "mark", "press", "tain", "vert", "duce", "ject", "spect",
)]  # fmt: skip


def varied(n: int, seed: int) -> list[str]:
    """Answers of 5 to 25 words drawn from 120: every text its own."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(5, 25))) + "." for _ in range(n)]


def collapsed(n: int, seed: int) -> list[str]:
    """What a model collapsed toward the mean writes: one template, one slot."""
    rng = random.Random(seed)
    return [
        f"Thanks for reaching out. Your {rng.choice(WORDS[:3])} request is being handled now."
        for _ in range(n)
    ]


def gate_inputs(
    before: list[str] | None, now: list[str], *, accepted_panel: bool | None = None
) -> GateInputs:
    questions = [f"Question {i}?" for i in range(len(now))]
    accepted_texts = None if before is None else keep_texts(questions, before, seed=0)
    has_panel = before is not None if accepted_panel is None else accepted_panel
    return GateInputs(
        combined=pd.DataFrame(),
        panel=pd.DataFrame(),
        confidence=0.95,
        accepted=pd.DataFrame({"item_id": ["q"], "verdict": ["tie"]}) if has_panel else None,
        seed=2,
        texts=keep_texts(questions, now, seed=0),
        accepted_texts=accepted_texts,
    )


@pytest.mark.parametrize("metric", FIGURES)
def test_collapsed_answers_fail_on_every_figure(metric: str) -> None:
    result = Diversity(max_drop=0.1, metric=metric).evaluate(
        gate_inputs(varied(200, 1), collapsed(200, 2))
    )
    assert result.outcome == "fail", result.message
    # Fails on the lower bound: the whole interval lies beyond max_drop.
    assert 0.1 < result.low <= result.figure <= result.high
    assert result.n == 200
    assert result.threshold == 0.1
    assert "fails when the lower bound is above 10.0%" in result.message


def test_what_was_lost_is_the_accepted_runs_texts_with_no_neighbour_now() -> None:
    before, now = varied(200, 1), collapsed(200, 2)
    result = Diversity(metric="distinct_2").evaluate(gate_inputs(before, now))
    details = result.details or {}
    assert details["kind"] == "diversity"
    assert (details["of"], details["metric"], details["n_accepted"], details["n_now"]) == (
        "answers", "distinct_2", 200, 200,
    )  # fmt: skip
    assert len(details["lost"]) == 10
    assert all(row["text"] in before and row["nearest"] in now for row in details["lost"])
    assert all(row["similarity"] < 0.3 for row in details["lost"])
    assert details["loss"]["distinct_2"]["value"] == pytest.approx(result.figure)
    json.dumps(details)  # plain data, ready for run.json


@pytest.mark.parametrize("metric", FIGURES)
def test_two_samples_of_one_source_pass(metric: str) -> None:
    result = Diversity(max_drop=0.25, metric=metric).evaluate(
        gate_inputs(varied(200, 1), varied(200, 7))
    )
    assert result.outcome == "pass", result.message
    assert result.high <= 0.25
    assert abs(result.figure) < 0.1


def test_more_diverse_answers_show_a_negative_loss_and_pass() -> None:
    result = Diversity().evaluate(gate_inputs(collapsed(200, 2), varied(200, 1)))
    assert result.outcome == "pass"
    assert result.high < 0


def test_a_loss_whose_interval_straddles_max_drop_is_inconclusive() -> None:
    mixed = varied(100, 3) + collapsed(100, 4)  # about half the accepted diversity is gone
    result = Diversity(max_drop=0.1).evaluate(gate_inputs(varied(200, 1), mixed))
    assert result.outcome == "fail"
    straddled = Diversity(max_drop=result.figure).evaluate(gate_inputs(varied(200, 1), mixed))
    assert straddled.outcome == "inconclusive"
    assert straddled.low < straddled.threshold < straddled.high


def test_inputs_are_measured_when_asked() -> None:
    questions = varied(100, 1)
    inputs = GateInputs(
        combined=pd.DataFrame(), panel=pd.DataFrame(), confidence=0.95,
        accepted=pd.DataFrame(), texts=keep_texts(collapsed(100, 2), questions, seed=0),
        accepted_texts=keep_texts(questions, questions, seed=0),
    )  # fmt: skip
    assert Diversity(of="inputs").evaluate(inputs).outcome == "fail"
    assert Diversity(of="answers").evaluate(inputs).outcome == "pass"
    assert Diversity(of="inputs").name == "diversity(of=inputs)"


def test_without_an_accepted_run_it_is_inconclusive_like_no_regression() -> None:
    result = Diversity().evaluate(gate_inputs(None, varied(50, 1)))
    assert result.outcome == "inconclusive"
    assert result.message == "no accepted run to compare with; record one with --evalkit-accept"
    old = Diversity().evaluate(gate_inputs(None, varied(50, 1), accepted_panel=True))
    assert old.outcome == "inconclusive"
    assert "accept a run again with --evalkit-accept" in old.message


def test_too_few_texts_is_inconclusive_with_the_reason() -> None:
    few = Diversity().evaluate(gate_inputs(varied(10, 1), collapsed(10, 2)))
    assert few.outcome == "inconclusive"
    assert "too few texts (need 20 on each side)" in few.message
    three = Diversity().evaluate(gate_inputs(varied(3, 1), collapsed(3, 2)))
    assert three.outcome == "inconclusive"
    assert "at least 4 are needed" in three.message


BAD = [
    (Diversity(metric="distinct_3"), r"^suite 's', gate 'diversity\(metric=distinct_3\)': "
     r"metric='distinct_3'; give one of distinct_1, distinct_2, compression_ratio"),
    (Diversity(max_drop=0.0), r"gate 'diversity\(max_drop=0\)': max_drop=0\.0; give the share"),
    (Diversity(max_drop=1.0), r"max_drop=1\.0; .* strictly between 0 and 1"),
    (Diversity(max_drop=-0.1), r"max_drop=-0\.1;"),
    (Diversity(of="outputs"), r"gate 'diversity\(of=outputs\)': of='outputs'; give 'inputs' or"),  # type: ignore[arg-type]
    (Diversity(min_items=2), r"min_items=2; give at least 4"),
]  # fmt: skip


@pytest.mark.parametrize(("gate", "message"), BAD)
def test_bad_settings_are_named_before_any_call(gate: Diversity, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_gates([gate], where="suite 's', ")


def test_kept_texts_are_a_capped_seeded_sample_cut_to_length() -> None:
    answers = [f"answer {i} " + "x" * 3000 for i in range(MAX_TEXTS + 100)]
    kept = keep_texts(["q"] * 10, answers, seed=4)
    assert (kept.answers.n, len(kept.answers.texts)) == (MAX_TEXTS + 100, MAX_TEXTS)
    assert {len(t) for t in kept.answers.texts} == {MAX_CHARS}
    assert kept == keep_texts(["q"] * 10, answers, seed=4)
    assert kept.answers != keep_texts(["q"] * 10, answers, seed=5).answers
    assert (kept.inputs.n, kept.inputs.texts, kept.version) == (10, ["q"] * 10, 1)


def test_accepted_texts_round_trip_and_a_bad_record_is_named(tmp_path: Path) -> None:
    kept = keep_texts(["a?", "b?"], ["A.", "B."], seed=3)
    write_accepted(tmp_path, "s", {"run_id": "r", "texts": kept.model_dump(mode="json")})
    assert read_accepted_texts(tmp_path, "s") == kept
    write_accepted(tmp_path, "s", {"run_id": "r"})  # accepted by an older evalkit
    assert read_accepted_texts(tmp_path, "s") is None
    assert read_accepted_texts(tmp_path, "other") is None
    bad = kept.model_dump(mode="json") | {"version": 2}
    write_accepted(tmp_path, "s", {"run_id": "r", "texts": bad})
    with pytest.raises(UsageError, match=r"s\.json: field 'texts\.version': .*accept a run again"):
        read_accepted_texts(tmp_path, "s")


def test_an_accepted_run_keeps_its_texts_and_a_collapsed_app_fails(
    tmp_path: Path, fake: FakeProvider
) -> None:
    write_scored_panel(tmp_path, fake.base_url)
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(30)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    answers = dict(zip([r["id"] for r in rows], varied(30, 1), strict=True))
    settings: dict[str, Any] = {"baselines_dir": tmp_path / "accepted"}
    gates = [Diversity(max_drop=0.2)]

    def varied_app(row: dict[str, Any]) -> str:
        return answers[row["id"]]

    def collapsed_app(row: dict[str, Any]) -> str:
        return "Thanks for reaching out. Your request is being handled now."

    first = run_scored(
        tmp_path, evalkit.app(varied_app, version="v1"), gates=gates,
        settings=settings | {"accept": True},
    )  # fmt: skip
    assert first.gate("diversity(max_drop=0.2)").outcome == "inconclusive"
    stored = json.loads((tmp_path / "accepted" / "s.json").read_text())
    texts = SuiteTexts.model_validate(stored["texts"])
    assert texts.answers.texts == [answers[r["id"]] for r in rows]
    assert texts.inputs.texts == [r["question"] for r in rows]
    same = run_scored(tmp_path, evalkit.app(varied_app, version="v1"), gates=gates,
                      settings=settings)  # fmt: skip
    assert same.gate("diversity(max_drop=0.2)").outcome == "pass"
    worse = run_scored(tmp_path, evalkit.app(collapsed_app, version="v2"), gates=gates,
                       settings=settings)  # fmt: skip
    result = worse.gate("diversity(max_drop=0.2)")
    assert result.outcome == "fail", result.message
    assert result.low > 0.2
    assert {row["text"] for row in (result.details or {})["lost"]} <= set(answers.values())


def test_the_report_shows_what_was_lost(tmp_path: Path, fake: FakeProvider) -> None:
    write_scored_panel(tmp_path, fake.base_url)
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(20)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = varied(20, 1)
    settings: dict[str, Any] = {"baselines_dir": tmp_path / "accepted"}
    gates = [Diversity(min_items=4)]
    app = evalkit.app(lambda row: before[int(row["id"][1:])], version="v1")
    run_scored(tmp_path, app, gates=gates, settings=settings | {"accept": True})
    app = evalkit.app(lambda row: "Thanks, your request is being handled.", version="v2")
    result = run_scored(tmp_path, app, gates=gates, settings=settings)
    assert result.gate("diversity(min_items=4)").outcome == "fail"
    (html,) = [
        (folder / "report.html").read_text()
        for folder in (tmp_path / "reports").iterdir()
        if "being handled" in (folder / "answers.jsonl").read_text()
    ]
    assert "Has it collapsed toward the mean?" in html
    assert "What was lost: the accepted run's answers with no near neighbour now (10)" in html
    assert sum(text in html for text in before) >= 10
