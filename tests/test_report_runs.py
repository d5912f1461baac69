"""Synthetic run folders for the report's tests and benchmark, and checks that they are valid.

:func:`write_run` writes what :meth:`EvalSession.finish` writes (judgments.jsonl,
answers.jsonl, run.json with the real audit and gates), from simulated judges with known
biases, drawn with numpy so that a 10,000-item run takes seconds. No model is called.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.audit import position_bias, run_audit
from evalkit.gates import GateInputs, WinRate
from evalkit.panel import PanelRule, combine_orders
from evalkit.panel._aggregate import panel_verdicts
from evalkit.records import read_judgments
from evalkit.records._judgments import coerce_judgments
from evalkit.records._store import ANSWERS_FILE, JUDGMENTS_FILE, RUN_FILE, write_json_atomic
from evalkit.report import load_run

_VOCABULARY = (
    "the answer follows from each step checked against facts and result is stated clearly with a "
    "short reason example where because however first second finally"
)
_WORDS = np.array(_VOCABULARY.split())


@dataclasses.dataclass(frozen=True)
class Judge:
    """A simulated judge: ``first_position`` is its share of first-slot picks when undecided."""

    name: str
    family: str
    first_position: float = 0.5
    fail_rate: float = 0.0
    tie_rate: float = 0.05


JUDGES = (
    Judge("fair", "anthropic"),
    Judge("first", "google", first_position=0.9, fail_rate=0.05),
    Judge("solid", "meta"),
)


def _texts(rng: np.random.Generator, n: int, low: int, high: int, prefix: str) -> list[str]:
    lengths = rng.integers(low, high + 1, n)
    words = _WORDS[rng.integers(0, _WORDS.size, (n, high))]
    return [f"{prefix} " + " ".join(row[:k]) for row, k in zip(words, lengths, strict=True)]


def make_tables(
    *,
    n_items: int = 60,
    judges: Sequence[Judge] = JUDGES,
    seed: int = 0,
    suite: str = "demo",
    run_id: str = "run-a",
    answer_words: tuple[int, int] = (10, 60),
    raw_words: tuple[int, int] = (3, 30),
    quality: float = 0.5,
    texts: Mapping[int, str] | None = None,
    raw: Mapping[int, str] | None = None,
    errors: Mapping[int, str] | None = None,
    tags: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A judgments table and an answers table: every judge, every item, both orders.

    ``texts`` replaces candidate answers (by item index); ``raw`` replaces the first judge's
    AB raw output; ``errors`` turns the first judge's BA call of those items into a failed
    call with that message.
    """
    rng = np.random.default_rng(seed)
    n_j = len(judges)
    ids = np.array([f"item-{i:05d}" for i in range(n_items)])
    q = rng.normal(quality, 3.0, n_items)
    len_c = rng.integers(answer_words[0], answer_words[1] + 1, n_items)
    len_b = rng.integers(answer_words[0], answer_words[1] + 1, n_items)
    shape = (n_j, n_items, 2)
    j_idx, i_idx, o_idx = (a.ravel() for a in np.indices(shape))
    first_pos = np.array([j.first_position for j in judges])[j_idx]
    # The candidate is shown first in AB: a first-slot pick is the candidate there.
    shown_first = np.where(o_idx == 0, "candidate", "baseline")
    shown_second = np.where(o_idx == 0, "baseline", "candidate")
    by_quality = np.where(
        rng.random(j_idx.size) < 1 / (1 + np.exp(-q[i_idx])), "candidate", "baseline"
    )
    by_position = np.where(rng.random(j_idx.size) < first_pos, shown_first, shown_second)
    biased = rng.random(j_idx.size) < np.abs(first_pos - 0.5) * 2
    verdict = np.where(biased, by_position, by_quality).astype(object)
    verdict[rng.random(j_idx.size) < np.array([j.tie_rate for j in judges])[j_idx]] = "tie"
    failed = rng.random(j_idx.size) < np.array([j.fail_rate for j in judges])[j_idx]
    label = np.where(
        verdict == "tie", "C", np.where((verdict == "candidate") == (o_idx == 0), "A", "B")
    )
    reasons = _texts(rng, j_idx.size, *raw_words, "Reasoning:")
    raw_output = np.array(
        [f"{r}\nVerdict: [[{lab}]]" for r, lab in zip(reasons, label, strict=True)], dtype=object
    )
    raw_output[failed] = "I cannot decide between these two answers."
    verdict[failed] = None
    error = np.where(failed, "parse: no [[A]], [[B]] or [[C]] label found", None).astype(object)
    parse_ok = ~failed
    first = (j_idx == 0) & (o_idx == 0)
    for index, text in (raw or {}).items():
        raw_output[first & (i_idx == index)] = text
    for index, message in (errors or {}).items():
        where = (j_idx == 0) & (o_idx == 1) & (i_idx == index)
        raw_output[where], verdict[where], error[where], parse_ok[where] = (
            None,
            None,
            message,
            False,
        )
    n_rows = j_idx.size
    out_tokens = rng.integers(5, 80, n_rows)
    judgments = pd.DataFrame(
        {
            "run_id": run_id, "suite": suite, "item_id": ids[i_idx], "mode": "pairwise",
            "candidate": "openai/cand-model", "candidate_family": "openai",
            "baseline": "meta/base-model", "baseline_family": "meta",
            "judge": np.array([j.name for j in judges])[j_idx],
            "judge_family": np.array([j.family for j in judges])[j_idx],
            "order": np.array(["AB", "BA"])[o_idx], "sample": 0,
            "prompt_hash": "h", "raw_output": raw_output, "verdict": verdict, "score": None,
            "parse_ok": parse_ok, "error": error, "latency_s": rng.uniform(0.1, 2.0, n_rows),
            "input_tokens": 300 + len_c[i_idx] + len_b[i_idx], "output_tokens": out_tokens,
            "cost_usd": out_tokens * 1e-6, "cached": rng.random(n_rows) < 0.25,
            "len_candidate": len_c[i_idx], "len_baseline": len_b[i_idx],
        }
    )  # fmt: skip
    prompts = [f"Question {i}: explain item {i} briefly." for i in range(n_items)]
    cand = _texts(rng, n_items, *answer_words, "Candidate:")
    for index, text in (texts or {}).items():
        cand[index] = text
    base = _texts(rng, n_items, *answer_words, "Baseline:")
    tag_pool = np.array(["math", "history", "code", "safety"])
    tag_lists = [[str(t)] for t in tag_pool[np.arange(n_items) % tag_pool.size]]
    answers = pd.concat(
        [
            pd.DataFrame(
                {
                    "run_id": run_id, "suite": suite, "item_id": ids, "role": role,
                    "model": model, "family": family, "prompt": prompts, "text": text,
                    "error": None, "latency_s": 0.5, "input_tokens": 20,
                    "output_tokens": lengths, "cost_usd": lengths * 2e-6, "cached": False,
                    **({"tags": tag_lists} if tags else {}),
                }
            )
            for role, model, family, text, lengths in (
                ("candidate", "openai/cand-model", "openai", cand, len_c),
                ("baseline", "meta/base-model", "meta", base, len_b),
            )
        ],
        ignore_index=True,
    )  # fmt: skip
    return coerce_judgments(judgments), answers


def _jsonl(path: Path, frame: pd.DataFrame) -> None:
    frame.to_json(path, orient="records", lines=True, force_ascii=False)


def write_run(
    run_dir: Path,
    *,
    n_boot: int = 100,
    status: str = "complete",
    config: Mapping[str, Any] | None = None,
    run_errors: Mapping[str, str] | None = None,
    **tables: Any,
) -> Path:
    """Write a complete run folder (see :func:`make_tables` for the keywords) and return it."""
    judgments, answers = make_tables(**tables)
    run_dir.mkdir(parents=True, exist_ok=True)
    _jsonl(run_dir / JUDGMENTS_FILE, judgments)
    _jsonl(run_dir / ANSWERS_FILE, answers)
    # Read back as the report will, so that run.json matches the files exactly.
    table = read_judgments(run_dir)
    suites = []
    for name, part in table.groupby("suite", sort=True):
        combined = combine_orders(part)
        panel = panel_verdicts(combined, quorum=2)
        gate = WinRate(at_least=0.5, min_items=20).evaluate(GateInputs(combined, panel, 0.95))
        audit = run_audit(part, n_boot=n_boot, rule=PanelRule(quorum=2))
        judges = part.groupby("judge", sort=True)["judge_family"].first()
        first = part.iloc[0]
        suites.append(
            {
                "name": name,
                "models": {
                    "candidate": {"name": first["candidate"], "family": first["candidate_family"]},
                    "baseline": {"name": first["baseline"], "family": first["baseline_family"]},
                    "panel": "sim",
                    "judges": [
                        {"name": j, "model": f"sim/{j}", "family": f} for j, f in judges.items()
                    ],
                },
                "gates": [gate.to_dict()],
                # The verdicts the gate was decided on, as EvalSession writes them.
                "panel": json.loads(
                    panel[["item_id", "verdict", "abstained", "reason"]].to_json(orient="records")
                ),
                "lineage": [
                    {
                        "judge": "solid", "family": "meta", "shared_with": "baseline",
                        "policy": "warn", "items": int(part["item_id"].nunique()),
                        "message": "judge solid is from the meta family, like the baseline",
                    }
                ],
                "position": json.loads(position_bias(part).to_json(orient="records")),
                "audit": audit.to_dict(),
            }
        )  # fmt: skip
    run = {
        "run_id": str(table["run_id"].iloc[0]),
        "status": status,
        "evalkit_version": "0.1.0",
        "config_digest": "abc123def456",
        "config": dict(config or {"panel": "sim", "confidence": 0.95}),
        "started": 1_700_000_000.0,
        "finished": 1_700_000_083.5,
        "suites": suites,
        "errors": dict(run_errors or {}),
    }
    write_json_atomic(run_dir / RUN_FILE, run)
    return run_dir


def test_a_synthetic_run_is_a_valid_run_folder(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path / "run", n_items=30))
    assert len(run.judgments) == 30 * 3 * 2
    assert set(run.answers["role"]) == {"candidate", "baseline"}
    (suite,) = run.run.suites
    assert suite.gates[0].n > 0
    assert suite.audit is not None
    verdicts = suite.audit.verdicts
    assert set(verdicts) == {"fair", "first", "solid"}


def test_the_biased_judge_is_biased(tmp_path: Path) -> None:
    judgments, _ = make_tables(n_items=200)
    audit = run_audit(judgments, n_boot=50)
    rates = audit.position.set_index("judge")["first_position_rate"]
    assert rates["first"] > 0.75 > rates["fair"]
