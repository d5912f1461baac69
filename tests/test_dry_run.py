"""The dry run (--evalkit-dry-run): every call counted, tokens and cost estimated, none made.

The end-to-end tests run ``pytest suites/ --evalkit-dry-run`` in a subprocess on a temporary
project whose models are served by the fake provider, so a call that slipped through would be
counted by it. The others call :func:`plan_suites` directly on suites of each mode.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _project import make_project
from _project import run_pytest as _run_pytest

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.graders import ExactMatch
from evalkit.models._litellm import estimate_cost, load_litellm
from evalkit.session import EvalSession
from evalkit.session._plan import CHARS_PER_TOKEN, Plan, PlanRow, input_tokens, plan_suites
from evalkit.testing import FakeProvider

N_ITEMS = 40


def write_project(root: Path, fake: FakeProvider, *, n_items: int = N_ITEMS, **cfg: str) -> Path:
    """A project whose candidate, baseline and two pairwise judges are the fake provider's."""
    gates = "[evalkit.gates.WinRate(at_least=0.5, min_items=5)]"
    settings = {"max_retries": 1, **cfg}
    return make_project(root, fake, n_items=n_items, gates=gates, settings=settings, panel="")


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run_pytest(root, *args, api_key="sk-dummy-for-the-dry-run", timeout=120)


def table_row(stdout: str, role: str) -> list[str]:
    """The cells of the plan's row for ``role`` (e.g. ``candidate``, ``judge fair``)."""
    pattern = re.compile(rf"^\S+\s+{re.escape(role)}\s{{2,}}(.*)$", re.M)
    match = pattern.search(stdout)
    assert match, f"no row for {role!r} in:\n{stdout}"
    return re.split(r"\s{2,}", match.group(1).strip())


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


@pytest.fixture
def fake() -> Any:
    with FakeProvider(seed=1) as provider:
        yield provider


def test_dry_run_counts_and_prices_every_call_makes_none_and_writes_nothing(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # The candidate is a priced API model; the baseline and the judges are the fake's.
    root = write_project(tmp_path, fake, candidate="openai/gpt-4o-mini", candidate_api_base="")
    proc = run_pytest(root, "--evalkit-dry-run")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "model calls: 40 candidate + 40 baseline + 160 judge = 240" in out
    # model, calls, input tokens, output tokens, cost, cached, how
    baseline = table_row(out, "baseline")
    assert baseline[:2] == ["openai/sim-writer-meta-q0.40", "40"]
    assert number(baseline[3]) == 40 * 96  # the suite's default max_tokens
    assert baseline[4:7] == ["unpriced", "0", "40 items"]
    for judge in ("fair", "first"):
        row = table_row(out, f"judge {judge}")
        assert row[:2] == [f"openai/sim-judge-{judge}", "80"]
        assert number(row[3]) == 80 * 50
        assert row[4:7] == ["unpriced", "unknown", "40 items x 2 orders x 1 sample"]
    assert "no price in litellm's table for openai/sim-writer-meta-q0.40" in out

    model, calls, tokens_in, tokens_out, cost, *_ = table_row(out, "candidate")
    assert (model, calls, number(tokens_out)) == ("openai/gpt-4o-mini", "40", 40 * 96)
    price = load_litellm().model_cost["gpt-4o-mini"]
    expected = (
        number(tokens_in) * price["input_cost_per_token"]
        + number(tokens_out) * price["output_cost_per_token"]
    )
    assert expected > 0
    assert float(cost.removeprefix("$")) == pytest.approx(expected, abs=1e-6)
    # every other model is unpriced
    assert f"estimated cost: {cost} (3 unpriced model(s) counted as $0)" in out

    assert "dry run, no call made" in out + proc.stderr
    assert "passed" not in out
    assert fake.requests() == 0
    assert not (root / "out").exists(), sorted(p.name for p in (root / "out").rglob("*"))


# In-process plans of each mode.


def likert_judge(root: Path, name: str, *, family: str, mode: str, api_base: str) -> None:
    if mode == "pairwise":
        (root / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/{name}\nfamily: {family}\napi_base: {api_base}\n"
            "template: pairwise_chat.j2\nparams: {max_tokens: 20}\nsamples: 2\n"
        )
        return
    reference = "{{ reference }}\n" if mode == "reference" else ""
    (root / "judges" / f"{name}.j2").write_text(
        "Q: {{ question }}\nA: {{ answer }}\n" + reference
        + "{% for o in options %}{{ o.score }}: {{ o.label }}\n{% endfor %}"
    )  # fmt: skip
    (root / "judges" / f"{name}.yaml").write_text(
        f"kind: judge\nmodel: openai/{name}\nfamily: {family}\nmode: {mode}\n"
        f"api_base: {api_base}\ntemplate: {name}.j2\nparser: rating\n"
        "params: {max_tokens: 20}\nsamples: 2\n"
        "scale: {labels: {1: Bad, 2: Fair, 3: Good}}\noption_orders: [ascending, descending]\n"
    )


def scored_project(
    root: Path,
    *,
    policy: str = "warn",
    mode: str = "pointwise",
    api_base: str = "http://127.0.0.1:9/v1",
    n_items: int = N_ITEMS,
) -> Path:
    """Two judges (anthropic and openai families), two samples each, in the panel ``raters``.

    Scored judges use a three-point Likert scale listed both ways.
    """
    (root / "judges").mkdir(parents=True)
    likert_judge(root, "rater-a", family="anthropic", mode=mode, api_base=api_base)
    likert_judge(root, "rater-b", family="openai", mode=mode, api_base=api_base)
    aggregation = "majority" if mode == "pairwise" else "mean"
    (root / "judges" / "raters.yaml").write_text(
        f"kind: panel\njudges: [rater-a, rater-b]\naggregation: {aggregation}\n"
        f"family_policy: {policy}\n"
    )
    rows = [{"id": f"q{i}", "question": f"Q{i}?", "reference": f"R{i}"} for i in range(n_items)]
    (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def plan(root: Path, suite: Suite, **cfg: Any) -> Plan:
    config = EvalkitConfig(**{"panel": "raters", "cache_dir": root / "cache", **cfg})
    return plan_suites(EvalSession(config, root), [suite])


def rows_by_role(result: Plan) -> dict[str, PlanRow]:
    return {row.role: row for row in result.rows}


def test_pointwise_judges_score_both_answers_in_every_option_order_and_sample(
    tmp_path: Path,
) -> None:
    root = scored_project(tmp_path)
    suite = Suite(
        "rubric", dataset=root / "data.jsonl", mode="pointwise", candidate="openai/gpt-4o-mini",
        baseline="openai/sim-writer", graders=[ExactMatch(field="reference")],
    )  # fmt: skip
    result = plan(root, suite)
    rows = rows_by_role(result)
    # 40 items x 2 answers (candidate's and baseline's) x 2 option orders x 2 samples
    for judge in ("rater-a", "rater-b"):
        assert rows[f"judge {judge}"].calls == 320
        assert rows[f"judge {judge}"].output_tokens == 320 * 20
        assert rows[f"judge {judge}"].detail == "40 items x 2 answers x 2 option orders x 2 samples"
    assert (result.calls("candidate"), result.calls("baseline"), result.calls()) == (40, 40, 720)
    grader = rows["grader exact_match"]
    assert (grader.calls, grader.cost_usd, grader.model) == (80, 0.0, "")
    assert "80 grader rows, no model call" in "\n".join(result.lines())
    assert not (root / "cache").exists()


def test_one_model_is_scored_once_and_the_family_policy_is_applied(tmp_path: Path) -> None:
    root = scored_project(tmp_path, policy="exclude", mode="reference")
    same = Suite(
        "self", dataset=root / "data.jsonl", mode="reference",
        candidate="openai/gpt-4o-mini", baseline="openai/gpt-4o-mini",
    )  # fmt: skip
    rows = rows_by_role(plan(root, same))
    # Only the candidate's answers are scored; rater-b (openai) may not score gpt-4o-mini's.
    assert rows["judge rater-a"].calls == 40 * 1 * 2 * 2
    assert rows["judge rater-b"].calls == 0
    assert rows["judge rater-b"].detail.endswith("160 left out by the family policy")


@pytest.mark.parametrize(
    ("mode", "policy"), [("pairwise", "warn"), ("pointwise", "exclude"), ("reference", "warn")]
)
def test_the_run_makes_exactly_the_planned_calls_and_its_answers_are_then_cached(
    tmp_path: Path, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch, mode: str, policy: str
) -> None:
    # The engine and the plan share the call planning; this pins that they agree.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy")
    n = 6
    root = scored_project(tmp_path, mode=mode, policy=policy, api_base=fake.base_url, n_items=n)
    config = EvalkitConfig(
        candidate="openai/sim-writer-openai-q0.80", candidate_api_base=fake.base_url,
        baseline="openai/sim-writer-meta-q0.40", baseline_api_base=fake.base_url,
        panel="raters", cache_dir=root / "cache", reports_dir=root / "reports", max_retries=0,
    )  # fmt: skip
    # A scored suite asks a baseline only when it names one; name it to plan both answers.
    suite = Suite("s", dataset="data.jsonl", base_dir=root, mode=mode,  # type: ignore[arg-type]
                  graders=[ExactMatch(field="reference")],
                  baseline="openai/sim-writer-meta-q0.40")  # fmt: skip
    before = plan_suites(EvalSession(config, root), [suite])
    assert rows_by_role(before)["candidate"].cached == 0
    run = EvalSession(config, root)
    try:
        table = run.suite_result(suite).judgments
    finally:
        run.finish()
    assert fake.requests() == before.calls()
    for row in before.rows:
        if row.kind in ("judge", "grader"):
            assert (table["judge"] == row.name).sum() == row.calls, row
    if policy == "exclude":  # rater-b (openai) may not score the openai candidate's answers
        assert rows_by_role(before)["judge rater-b"].calls == n * 1 * 2 * 2
    after = rows_by_role(plan_suites(EvalSession(config, root), [suite]))
    assert (after["candidate"].cached, after["baseline"].cached) == (n, n)
    assert after["judge rater-a"].cached is None


def test_pairwise_judge_prompts_show_both_placeholder_answers(tmp_path: Path) -> None:
    root = scored_project(tmp_path)
    (root / "judges" / "pair.yaml").write_text(
        "kind: judge\nmodel: openai/pair\nfamily: anthropic\ntemplate: pairwise_chat.j2\n"
        "params: {max_tokens: 7}\nsamples: 3\n"
    )
    (root / "judges" / "pairs.yaml").write_text("kind: panel\njudges: [pair]\n")
    suite = Suite(
        "p", dataset=root / "data.jsonl", answer_params={"max_tokens": 100},
        candidate="openai/a", baseline="openai/b",
    )  # fmt: skip
    rows = rows_by_role(plan(root, suite, panel="pairs"))
    judge = rows["judge pair"]
    assert (judge.calls, judge.output_tokens) == (40 * 2 * 3, 40 * 2 * 3 * 7)
    # Each judge prompt holds two answers of max_tokens, so ≥ 200 tokens per call.
    assert judge.input_tokens > judge.calls * 200
    assert rows["candidate"].input_tokens < 40 * 30


def test_local_models_are_planned_without_starting_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dry run started a process")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    (tmp_path / "data.jsonl").write_text('{"id": "a", "question": "Why?"}\n')
    config = EvalkitConfig(cache_dir=tmp_path / "cache")
    result = plan_suites(EvalSession(config, tmp_path), [Suite("l", dataset="data.jsonl",
                                                               base_dir=tmp_path)])  # fmt: skip
    rows = rows_by_role(result)
    assert rows["candidate"].model == "local/smollm2-135m-instruct"
    assert result.calls() == 1 + 1 + 2 + 2  # the local panel: two judges, both orders
    assert result.cost_usd == 0.0
    # The baseline, Gemma, is a base model asked with a few-shot completion prompt.
    assert rows["baseline"].input_tokens > rows["candidate"].input_tokens
    assert not (tmp_path / "cache").exists()


def test_the_plan_warns_when_the_budget_or_the_call_limit_would_stop_the_run(
    tmp_path: Path,
) -> None:
    root = scored_project(tmp_path, n_items=5)
    suite = Suite("s", dataset=root / "data.jsonl", mode="pointwise",
                  candidate="openai/gpt-4o-mini", baseline="openai/b")  # fmt: skip
    text = "\n".join(plan(root, suite, budget_usd=0.0001, max_calls=10).lines())
    assert "the estimate is above budget_usd ($0.000100)" in text
    assert "the 90 calls are more than max_calls (10)" in text
    assert "above budget_usd" not in "\n".join(plan(root, suite, budget_usd=1.0).lines())


def test_input_tokens_are_characters_over_four_rounded_up() -> None:
    from evalkit.models import ModelRequest

    chat = ModelRequest(model="m", messages=({"role": "system", "content": "abc"},
                                             {"role": "user", "content": "de"}))  # fmt: skip
    assert input_tokens(chat) == 2 == -(-5 // CHARS_PER_TOKEN)
    assert input_tokens(ModelRequest(model="m", prompt="x" * 8)) == 2


def test_estimate_cost_uses_litellms_prices_and_never_raises() -> None:
    lit = load_litellm()
    expected = sum(lit.cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=1000,
                                      completion_tokens=100))  # fmt: skip
    assert estimate_cost("openai/gpt-4o-mini", 1000, 100) == pytest.approx(expected)
    assert expected > 0
    for unpriced in ("openai/sim-writer", "local/gemma-3-270m", "not a model", ""):
        assert estimate_cost(unpriced, 1000, 100) is None
    odd = estimate_cost("openai/gpt-4o-mini", -5, 0)
    assert odd is None or odd >= 0
