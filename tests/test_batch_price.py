"""The batch price: litellm's where its table lists one, else half the list price; in the dry run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.models._batch_price import batch_cost
from evalkit.models._litellm import estimate_cost, load_litellm
from evalkit.session import EvalSession
from evalkit.session._plan import plan_suites

LISTED = "openai/gpt-4o-mini"  # litellm lists a batch price
ASSUMED = "openai/gpt-4"  # litellm lists only the interactive price
UNBATCHED = "anthropic/claude-haiku-4-5"  # priced, but litellm cannot create its batches


def test_a_listed_batch_price_is_litellms_and_an_unlisted_one_is_half_the_list_price() -> None:
    price = load_litellm().model_cost["gpt-4o-mini"]
    listed = batch_cost(LISTED, 1000, 100)
    assert listed.cost_usd == pytest.approx(
        1000 * price["input_cost_per_token_batches"] + 100 * price["output_cost_per_token_batches"]
    )
    assert not listed.assumed
    full = estimate_cost(ASSUMED, 1000, 100)
    assert full is not None
    assert batch_cost(ASSUMED, 1000, 100).cost_usd == pytest.approx(full / 2)
    assert batch_cost(ASSUMED, 1000, 100).assumed
    assert batch_cost("openai/sim-judge-x", 1000, 100).cost_usd is None


def test_the_dry_run_shows_the_batch_price_beside_the_interactive_price(tmp_path: Path) -> None:
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "j.yaml").write_text(
        f"kind: judge\nmodel: {UNBATCHED}\nfamily: anthropic\ntemplate: pairwise_chat.j2\n"
        "params: {max_tokens: 20}\n"
    )
    (tmp_path / "judges" / "p.yaml").write_text("kind: panel\njudges: [j]\n")
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(10)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = EvalkitConfig(panel="p", cache_dir=tmp_path / "cache")
    suite = Suite("s", dataset=tmp_path / "data.jsonl", candidate=LISTED, baseline=ASSUMED)
    plan = plan_suites(EvalSession(config, tmp_path), [suite])
    by_role = {row.role: row for row in plan.rows}
    candidate, baseline, judge = by_role["candidate"], by_role["baseline"], by_role["judge j"]
    assert all(row.cost_usd for row in (candidate, baseline, judge))  # all three are priced
    price = load_litellm().model_cost["gpt-4o-mini"]
    assert candidate.batch_cost_usd == pytest.approx(
        candidate.input_tokens * price["input_cost_per_token_batches"]
        + candidate.output_tokens * price["output_cost_per_token_batches"]
    )
    assert baseline.batch_cost_usd == pytest.approx(baseline.cost_usd / 2)
    assert judge.batch_cost_usd == judge.cost_usd  # sent interactively in batch mode too
    assert (candidate.batched, baseline.batched, judge.batched) == (True, True, False)
    total = candidate.batch_cost_usd + baseline.batch_cost_usd + judge.cost_usd
    assert plan.batch_cost_usd == pytest.approx(total)
    lines = plan.lines()
    at = next(i for i, line in enumerate(lines) if line.startswith("estimated cost: "))
    assert lines[at + 1] == (
        f"estimated cost as provider batches (execution = batch): ${plan.batch_cost_usd:.6f}"
    )
    assert (
        f"  note: no batch price in litellm's table for {ASSUMED}: batch price taken as 50% of "
        "the interactive price"
    ) in lines
    assert (
        f"  note: {UNBATCHED}: no batch API through litellm, so at the interactive price in the "
        "batch estimate too"
    ) in lines
