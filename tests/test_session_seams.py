"""The session's seams: it knows nothing of pytest, prepares a suite in one place, takes its
default models from the config, and plans local models through the model layer's public hook.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import evalkit
from evalkit import Suite
from evalkit.config import EvalkitConfig, load_config
from evalkit.errors import ConfigError, EvalkitError
from evalkit.gates import GateResult
from evalkit.models._local import LocalModelServer
from evalkit.records._answers import Answer
from evalkit.session import EvalSession
from evalkit.session._endpoints import Resolver
from evalkit.session._plan import plan_suites
from evalkit.session._result import Conclusion, SuiteResult

ROOT = Path(__file__).resolve().parents[1]


def test_importing_evalkit_and_its_session_imports_no_pytest() -> None:
    code = (
        "import sys, evalkit, evalkit.session, evalkit.config, evalkit.models; "
        "print(sorted(m for m in ('pytest', '_pytest') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_import_contract_keeps_pytest_out_of_every_layer_below_the_plugin() -> None:
    # lint-imports (tests/test_house_rules.py) enforces the contract; this pins its reach.
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in contracts["contracts"] if c["type"] == "layers")["layers"]
    below_plugin = {m.strip() for layer in layers[1:] for m in layer.split("|")}
    assert "evalkit.session" in below_plugin
    forbidding = [
        c for c in contracts["contracts"]
        if c["type"] == "forbidden" and "pytest" in c["forbidden_modules"]
    ]  # fmt: skip
    assert len(forbidding) == 1
    assert below_plugin <= set(forbidding[0]["source_modules"])
    assert not forbidding[0].get("allow_indirect_imports", False)


def test_a_suite_that_cannot_run_is_an_evalkit_error_naming_it_every_time(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text('{"id": "a"}\n')
    config = EvalkitConfig(cache_dir=tmp_path / "cache", reports_dir=tmp_path / "reports")
    session = EvalSession(config, tmp_path)
    suite = Suite("s", dataset="data.jsonl", base_dir=tmp_path)
    for _ in range(2):  # the second test of the suite gets the same message, no second try
        with pytest.raises(EvalkitError, match=r"^suite 's': .*data\.jsonl:1: missing field"):
            session.suite_result(suite)
    assert list(session.errors) == ["s"]
    assert not (tmp_path / "reports").exists(), "a suite with a bad input writes nothing"


def _gate(outcome: str) -> GateResult:
    return GateResult("win", outcome, 0.5, 0.4, 0.6, 30, 0.5, "win rate 0.50")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "ci", "policy", "expected"),
    [
        ("pass", True, None, Conclusion("passed")),
        ("fail", False, "warn", Conclusion("failed", "FAIL: win rate 0.50")),
        ("inconclusive", False, None, Conclusion("skipped", "INCONCLUSIVE: win rate 0.50")),
        ("inconclusive", True, None, Conclusion("failed", "INCONCLUSIVE: win rate 0.50")),
        ("inconclusive", True, "warn", Conclusion("skipped", "INCONCLUSIVE: win rate 0.50")),
        ("inconclusive", False, "fail", Conclusion("failed", "INCONCLUSIVE: win rate 0.50")),
    ],
)
def test_a_gate_conclusion_is_returned_not_raised(
    tmp_path: Path, outcome: str, ci: bool, policy: str | None, expected: Conclusion
) -> None:
    config = EvalkitConfig(inconclusive=policy)  # type: ignore[arg-type]
    session = EvalSession(config, tmp_path, ci=ci)
    assert session.gate_conclusion(_gate(outcome)) == expected


def _answer(item_id: str, role: str, text: str | None) -> Answer:
    return Answer(
        run_id="r", suite="s", item_id=item_id, role=role, model=f"openai/{role}",  # type: ignore[arg-type]
        family="openai", prompt="Why?", text=text, status="ok" if text else "failed",
        error=None if text else "failed: 500 from the provider", latency_s=0.1,
        input_tokens=1, output_tokens=1, cost_usd=0.0, cached=False,
    )  # fmt: skip


def test_an_item_fails_when_the_candidate_gave_no_answer_not_when_the_baseline_did() -> None:
    answers = {
        "candidate": {"a": _answer("a", "candidate", "Yes."), "b": _answer("b", "candidate", None)},
        "baseline": {"a": _answer("a", "baseline", None), "b": _answer("b", "baseline", "No.")},
    }
    empty = pd.DataFrame(columns=["item_id", "judge", "order", "status", "verdict", "error",
                                  "raw_output", "abstained", "reason"])  # fmt: skip
    result = SuiteResult(
        name="s", judgments=empty, answers=answers, combined=empty, panel=empty,
        position=empty, audit=None, gates=(), lineage=(), models={},
    )  # fmt: skip
    assert result.item_conclusion("a") == Conclusion("passed")  # the baseline's failure is no fault
    failed = result.item_conclusion("b")
    assert failed.status == "failed"
    assert failed.message.splitlines()[:3] == [
        "the candidate gave no answer: failed: 500 from the provider",
        "candidate (openai/candidate): failed: 500 from the provider",
        "baseline (openai/baseline): No.",
    ]


def test_an_item_fails_when_no_judge_call_gave_a_verdict_because_the_calls_failed() -> None:
    ids = ("both", "one_ok", "unreadable", "mixed", "no_rows")
    answers = {"candidate": {i: _answer(i, "candidate", "Yes.") for i in ids}}
    rows = [
        ("both", "j1", "failed", "unavailable: connection refused"),
        ("both", "j2", "failed", "timeout: no answer in 30 s"),
        ("one_ok", "j1", "ok", None),
        ("one_ok", "j2", "failed", "unavailable: connection refused"),
        ("unreadable", "j1", "unparseable", None),
        ("mixed", "j1", "unparseable", None),
        ("mixed", "j2", "not_run", "not_run: the budget of $1.00 is spent"),
    ]
    table = pd.DataFrame(
        [{"item_id": i, "judge": j, "order": None, "status": st, "verdict": "tie" if st == "ok"
          else None, "error": e, "raw_output": None} for i, j, st, e in rows]
    )  # fmt: skip
    empty = pd.DataFrame(columns=["item_id", "verdict", "abstained", "reason"])
    result = SuiteResult(
        name="s", judgments=table, answers=answers, combined=empty, panel=empty,
        position=empty, audit=None, gates=(), lineage=(), models={},
    )  # fmt: skip
    outcomes = {i: result.item_conclusion(i) for i in ids}
    assert {i: c.status for i, c in outcomes.items()} == {
        "both": "failed",  # an outage: the item was never evaluated
        "one_ok": "passed",
        "unreadable": "passed",  # the judge replied: a fact about the judge, for the audit
        "mixed": "failed",
        "no_rows": "passed",  # nothing to judge it with (e.g. graders only on other items)
    }
    assert outcomes["both"].message.splitlines()[:3] == [
        "no judge could evaluate the item: unavailable: connection refused",
        "candidate (openai/candidate): Yes.",
        "  j1 [None]: failed: unavailable: connection refused  (raw: None)",
    ]
    assert outcomes["mixed"].message.splitlines()[0] == (
        "no judge could evaluate the item: not_run: the budget of $1.00 is spent"
    )


def test_the_user_facing_suite_is_the_sessions_declaration_with_tests() -> None:
    from evalkit.session._suite import Suite as Declaration

    assert issubclass(evalkit.Suite, Declaration)
    assert not hasattr(Declaration, "tests")


def test_the_default_models_are_set_in_the_config_and_an_empty_one_is_refused() -> None:
    config = EvalkitConfig()
    assert (config.candidate, config.baseline) == (
        "local/smollm2-135m-instruct",
        "local/gemma-3-270m",
    )
    assert (
        load_config(pyproject={"baseline": "openai/gpt-4o-mini"}).baseline == "openai/gpt-4o-mini"
    )
    with pytest.raises(
        ConfigError, match=r"pyproject\.toml \[tool\.evalkit\] candidate: empty model name"
    ):
        load_config(pyproject={"candidate": ""})
    with pytest.raises(ConfigError, match=r"option --evalkit-baseline: empty value"):
        load_config(cli={"baseline": " "})


@pytest.fixture
def no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.mark.usefixtures("no_process")
def test_a_local_model_is_planned_without_starting_it_or_assembling_its_file(
    tmp_path: Path,
) -> None:
    server = LocalModelServer(tmp_path / "cache")
    endpoint = Resolver(tmp_path / "cache", local=server).resolve("local/gemma-3-270m")
    assert (endpoint.model, endpoint.api_base) == ("openai/gemma-3-270m", None)
    assert endpoint.cache_scope == LocalModelServer.cache_scope("local/gemma-3-270m")
    with pytest.raises(ConfigError, match=r"unknown local model 'local/nope'"):
        Resolver(tmp_path / "cache", local=server).resolve("local/nope")
    server.close()
    assert server.starts == 0
    assert not (tmp_path / "cache").exists()


@pytest.mark.usefixtures("no_process")
def test_preflight_dry_run_and_run_refuse_a_bad_model_alike_before_starting_any(
    tmp_path: Path,
) -> None:
    # The three prepare the suite with one function, which resolves the candidate and the
    # baseline before the judges: the run used to start the local judges' servers first.
    (tmp_path / "data.jsonl").write_text('{"id": "a", "question": "Why?"}\n')
    config = EvalkitConfig(cache_dir=tmp_path / "cache", reports_dir=tmp_path / "reports")
    suite = Suite("s", dataset="data.jsonl", base_dir=tmp_path, candidate="local/nope")
    unknown = r"unknown local model 'local/nope'; the bundled ones are"
    with pytest.raises(ConfigError, match=unknown):
        EvalSession(config, tmp_path).preflight([suite])
    with pytest.raises(ConfigError, match=unknown):
        plan_suites(EvalSession(config, tmp_path), [suite])
    with pytest.raises(EvalkitError, match=rf"^suite 's': {unknown}"):
        EvalSession(config, tmp_path).suite_result(suite)
