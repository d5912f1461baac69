"""The data gates: does the eval set look like production; is it judged by its own family."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from evalkit.errors import ConfigError, DatasetError
from evalkit.gates import Gate, GateInputs, Lineage, MatchesProduction
from evalkit.gates._gates import check_gates

CLEAN = [
    "What is the capital of {}?", "Could you explain how {} works in detail?",
    "Please describe the history of {}.", "Which factors influence {} the most?",
    "How does {} compare with its closest alternative?",
]  # fmt: skip
TYPED = [
    "hi where is my {} order??", "{} not working pls help", "u guys ship {} to canada",
    "ok so {} broke again lol", "need refund for {} asap thx",
]  # fmt: skip
TOPICS = ["paris", "photosynthesis", "the printer", "a mortgage", "bluetooth", "the invoice"]


def _texts(templates: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(templates).format(f"{rng.choice(TOPICS)} {rng.randint(1, 99)}") for _ in range(n)
    ]


def _write(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def _inputs(texts: list[str], combined: pd.DataFrame | None = None) -> GateInputs:
    frame = combined if combined is not None else pd.DataFrame()
    return GateInputs(combined=frame, panel=pd.DataFrame(), confidence=0.95, inputs=tuple(texts))


def test_synthetic_inputs_fail_against_typed_production(tmp_path: Path) -> None:
    prod = _write(tmp_path / "prod.jsonl", _texts(TYPED, 300, seed=1))
    gate = MatchesProduction(prod)
    result = gate.evaluate(_inputs(_texts(CLEAN, 300, seed=2)))
    assert result.outcome == "fail"
    assert result.low >= 0.75
    assert result.details is not None
    assert result.details["kind"] == "matches_production"
    assert result.details["classifier"]["auc"]["value"] == result.figure
    assert "AUC" in result.message


def test_inputs_drawn_like_production_pass(tmp_path: Path) -> None:
    pool = _texts(TYPED + CLEAN, 600, seed=3)
    prod = _write(tmp_path / "prod.jsonl", pool[:300])
    result = MatchesProduction(prod).evaluate(_inputs(pool[300:]))
    assert result.outcome == "pass"
    assert result.high < 0.75
    assert result.low <= 0.5 <= result.high


def test_production_path_is_resolved_against_the_declaring_module() -> None:
    gate = MatchesProduction("data/prod.jsonl")
    assert gate.path() == Path(__file__).resolve().parent / "data" / "prod.jsonl"
    # The path is not part of the derived name: it would become a pytest id.
    assert gate.name == "matches_production"
    assert MatchesProduction("p.jsonl", max_auc=0.6).name == "matches_production(max_auc=0.6)"


BAD_GATES = [
    (lambda d: MatchesProduction(d / "missing.jsonl"), DatasetError,
     r"^suite 's', gate 'matches_production': .*missing\.jsonl: no such file; check the path$"),
    (lambda d: MatchesProduction(d / "p.csv", max_auc=0.4), ConfigError,
     r"^suite 's', gate 'matches_production\(max_auc=0\.4\)': max_auc=0\.4; give a value above"),
    (lambda d: MatchesProduction(d / "p.csv", field="body"), DatasetError,
     r"p\.csv: no field 'body'; its columns are text$"),
    (lambda d: MatchesProduction(d / "p.txt"), DatasetError, r"p\.txt: unsupported file type"),
    (lambda d: Lineage(at_most=1.5), ConfigError, r"gate 'lineage\(at_most=1\.5\)': at_most=1\.5;"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "error", "message"), BAD_GATES)
def test_bad_gate_settings_are_named_before_any_call(
    tmp_path: Path, make: Callable[[Path], Gate], error: type[Exception], message: str
) -> None:
    (tmp_path / "p.csv").write_text("text\nhello there\n")
    (tmp_path / "p.txt").write_text("hello there\n")
    with pytest.raises(error, match=message):
        check_gates([make(tmp_path)], where="suite 's', ")


def _combined(judge_families: dict[str, str], generator: str | None) -> pd.DataFrame:
    rows = [
        {"suite": "s", "item_id": f"i{i}", "judge": judge, "judge_family": family,
         "generator_family": generator, "verdict": "candidate"}
        for i in range(4) for judge, family in judge_families.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_lineage_counts_items_judged_by_the_generators_family() -> None:
    table = _combined({"gemma": "google", "smol": "huggingface"}, "google")
    result = Lineage().evaluate(_inputs([], table))
    assert (result.outcome, result.figure, result.n) == ("fail", 1.0, 4)
    assert "(gemma)" in result.message
    # A judge without a verdict on the item does not count.
    table.loc[table["judge"] == "gemma", "verdict"] = None
    assert Lineage().evaluate(_inputs([], table)).figure == 0.0
    half = _combined({"gemma": "google"}, "google")
    half.loc[half["item_id"].isin(["i0", "i1"]), "generator_family"] = "meta"
    assert Lineage(at_most=0.5).evaluate(_inputs([], half)).outcome == "pass"
    assert Lineage(at_most=0.4).evaluate(_inputs([], half)).outcome == "fail"


def test_lineage_is_inconclusive_without_generator_families() -> None:
    result = Lineage().evaluate(_inputs([], _combined({"gemma": "google"}, None)))
    assert result.outcome == "inconclusive"
    assert "generator_family" in result.message
