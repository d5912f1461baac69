"""Judging through the session: a whole suite, and every bad input stopped before any call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _project import write_pairwise_panel

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.errors import EvalkitError
from evalkit.gates import Lineage, MatchesProduction, Robustness
from evalkit.graders import Contains, Numeric, Regex
from evalkit.records._judgments import JUDGMENT_COLUMNS
from evalkit.session import EvalSession
from evalkit.session._summary import suite_lines
from evalkit.testing import FakeProvider, JudgeParams

CANDIDATE = "openai/sim-writer-openai-q0.90"
BASELINE = "openai/sim-writer-meta-q0.30"
N_ITEMS = 6


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        yield provider


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    write_pairwise_panel(tmp_path, fake.base_url, {"fair": "anthropic", "first": "openai"})
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def session(root: Path, fake: FakeProvider) -> EvalSession:
    config = EvalkitConfig(
        candidate=CANDIDATE,
        candidate_api_base=fake.base_url,
        baseline=BASELINE,
        baseline_api_base=fake.base_url,
        panel="p",
        cache_dir=root / "cache",
        reports_dir=root / "reports",
        max_retries=0,
        backoff_s=0.01,
    )
    return EvalSession(config, root)


def suite(root: Path, **fields: Any) -> Suite:
    return Suite("s", dataset="data.jsonl", base_dir=root, **fields)


def test_a_pairwise_suite_with_graders_and_a_lineage_warning(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root, graders=[Contains(text="⟦sim")]))
    finally:
        run.finish()
    table = result.judgments
    judges = table[table["judge_family"] != "deterministic"]
    graders = table[table["judge_family"] == "deterministic"]
    assert len(judges) == N_ITEMS * 2 * 2
    assert len(graders) == N_ITEMS * 2
    assert graders["score"].eq(1.0).all()
    assert judges["parse_ok"].all()
    # The judge from the candidate's family is kept, and the decision is in the results.
    assert [(d.judge, d.shared_with, d.items) for d in result.lineage] == [
        ("first", "candidate", N_ITEMS)
    ]
    on_disk = [json.loads(line) for line in (run.run_dir / "judgments.jsonl").open()]
    assert len(on_disk) == len(table)
    assert set(JUDGMENT_COLUMNS) <= set(on_disk[0])


def test_judges_preferring_the_answer_that_fails_the_check_are_fluent_but_wrong(
    root: Path, fake: FakeProvider
) -> None:
    # The check passes only the weak baseline's answers, so a judge that prefers the fluent,
    # stronger candidate picks the answer that fails it on every item.
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root, graders=[Regex("quality=0[.]30", name="check")]))
    finally:
        closed = run.finish()
    table = result.judgments
    # Fooled: both orders chose the candidate (a flip is a tie, which fools no one).
    pairwise = table[table["mode"] == "pairwise"]
    chose = pairwise.assign(chose=pairwise["verdict"].eq("candidate").fillna(False))
    both = chose.groupby(["judge", "item_id"])["chose"].all()
    fooled = both.groupby("judge").sum().to_dict()
    fluent = result.audit.fluent_but_wrong if result.audit else None
    assert fluent is not None
    assert fluent.kind == "pairwise"
    assert fluent.n_wrong == N_ITEMS
    per_judge = dict(zip(fluent.judges["judge"], fluent.judges["fooled"], strict=True))
    assert per_judge == fooled
    assert max(fooled.values()) > 0
    record = result.record().audit
    assert record is not None
    assert record.fluent_but_wrong is not None
    line = f"  {record.fluent_but_wrong.summary_line()}"
    assert line in suite_lines(result.record())
    assert closed is not None
    assert "Fluent but wrong" in closed.report.read_text()


def test_data_gates_in_a_run_reach_the_record_and_the_report(
    root: Path, fake: FakeProvider
) -> None:
    typed = [f"hi where is my order {i} pls" for i in range(40)]
    (root / "prod.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in typed))
    gates = [MatchesProduction(root / "prod.jsonl", max_auc=0.9), Lineage()]
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root, gates=gates))
    finally:
        closed = run.finish()
    matches, lineage = result.record().gates
    # "Question 3?" against "hi where is my order 3 pls": told apart on every held-out text.
    assert (matches.name, matches.outcome, matches.figure) == ("matches_production(max_auc=0.9)",
                                                               "fail", 1.0)  # fmt: skip
    assert matches.details is not None
    assert matches.details["n_eval"] == N_ITEMS
    assert matches.details["n_prod"] == len(typed)
    # The dataset records no generator family.
    assert lineage.outcome == "inconclusive"
    assert closed is not None
    page = closed.report.read_text()
    assert "Does this eval set look like your users?" in page
    assert "hi where is my order" in page
    # The production messages are one kind of request the suite never asks.
    assert "kinds of request" in matches.message
    assert "Kinds of request, uncovered first" in page


def test_a_suite_with_perturbations_judges_each_variant_and_gates_the_drop(
    root: Path, fake: FakeProvider
) -> None:
    (root / "prod.jsonl").write_text("".join(json.dumps({"text": f"hey {i} pls"}) + "\n"
                                             for i in range(20)))  # fmt: skip
    gates = [Robustness(min_items=N_ITEMS), MatchesProduction(root / "prod.jsonl")]
    run = session(root, fake)
    try:
        result = run.suite_result(suite(root, perturbations=["lowercase", "typos"], gates=gates))
    finally:
        closed = run.finish()
    answers = result.answers["candidate"]
    assert len(answers) == N_ITEMS * 3
    assert answers["q0~typos"].prompt != answers["q0"].prompt
    robust, matches = result.record().gates
    assert robust.details is not None
    rows = {r["perturbation"]: r["n"] for r in robust.details["perturbations"]}
    assert rows == {"lowercase": N_ITEMS, "typos": N_ITEMS}
    # The data comparison looks at the clean inputs only.
    assert matches.details is not None
    assert matches.details["n_eval"] == N_ITEMS
    assert closed is not None
    assert "Does the score survive real input?" in closed.report.read_text()


def test_a_run_whose_only_suite_stopped_on_bad_input_still_closes_with_its_record(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    with pytest.raises(EvalkitError):
        run.suite_result(suite(root, prompt="{{ questoin }}"))
    closed = run.finish()
    assert closed is not None
    assert list(closed.record.errors) == ["s"]
    assert "missing field 'questoin'" in closed.record.errors["s"]
    assert closed.report.is_file()
    assert fake.requests() == 0


def write(root: Path, name: str, text: str) -> None:
    (root / "judges" / name).write_text(text)


Breakage = Callable[[Path], dict[str, Any]]


def unknown_key(root: Path) -> dict[str, Any]:
    with (root / "judges" / "fair.yaml").open("a") as fh:
        fh.write("temprature: 0\n")
    return {}


def undefined_variable(root: Path) -> dict[str, Any]:
    write(root, "t.j2", "{{ answer_a }} {{ answer_b }} {{ rubric }}")
    with (root / "judges" / "fair.yaml").open("a") as fh:
        fh.write("template: t.j2\n")
    text = (root / "judges" / "fair.yaml").read_text().replace("template: pairwise_chat.j2\n", "")
    write(root, "fair.yaml", text)
    return {}


def unknown_parser(root: Path) -> dict[str, Any]:
    with (root / "judges" / "first.yaml").open("a") as fh:
        fh.write("parser: abc\n")
    return {}


def missing_judge(root: Path) -> dict[str, Any]:
    write(root, "p.yaml", "kind: panel\njudges: [fair, ghost]\n")
    return {}


def big_quorum(root: Path) -> dict[str, Any]:
    write(root, "p.yaml", "kind: panel\njudges: [fair, first]\nquorum: 3\n")
    return {}


def score_aggregation(root: Path) -> dict[str, Any]:
    write(root, "p.yaml", "kind: panel\njudges: [fair, first]\naggregation: mean\n")
    return {}


def family_error(root: Path) -> dict[str, Any]:
    write(root, "p.yaml", "kind: panel\njudges: [fair, first]\nfamily_policy: error\n")
    return {}


def no_reference(root: Path) -> dict[str, Any]:
    write(root, "p.yaml", "kind: panel\njudges: [fair]\nvariants: {reference: local-reference}\n")
    return {"mode": "reference"}


def no_variant(root: Path) -> dict[str, Any]:
    return {"mode": "pointwise"}


def grader_field(root: Path) -> dict[str, Any]:
    return {"graders": [Numeric(field="answer")]}


def grader_name(root: Path) -> dict[str, Any]:
    return {"graders": [Regex("x", name="fair")]}


def prompt_variable(root: Path) -> dict[str, Any]:
    # The rows are checked for the fields the prompt reads: a misspelt variable is a missing field.
    return {"prompt": "{{ questoin }}"}


def prompt_variable_unchecked(root: Path) -> dict[str, Any]:
    # With the required fields given, a variable they leave out is caught when the prompt renders.
    return {"prompt": "{{ questoin }}", "required_fields": ["question"]}


def missing_production(root: Path) -> dict[str, Any]:
    return {"gates": [MatchesProduction(root / "prod.jsonl")]}


BAD_INPUTS: list[tuple[Breakage, str]] = [
    (unknown_key, r"fair\.yaml: unknown key 'temprature'"),
    (undefined_variable, r"fair\.yaml: template: template 't\.j2' uses an undefined variable"),
    (unknown_parser, r"first\.yaml: parser: unknown parser 'abc'"),
    (missing_judge, r"p\.yaml: judges: no judge named 'ghost'"),
    (big_quorum, r"p\.yaml: quorum: 3 is larger than the panel \(2 judges\)"),
    (score_aggregation, r"p\.yaml: aggregation: 'mean' combines scores"),
    (family_error, r"p\.yaml\): judge first is from the openai family, like the candidate"),
    (no_reference, r"data\.jsonl: item 'q0' has no 'reference' field"),
    (no_variant, r"p\.yaml: panel 'p' judges pairwise, but the suite is pointwise"),
    (grader_field, r"data\.jsonl: item 'q0' has no field 'answer', which grader 'numeric'"),
    (grader_name, r"grader name 'fair' is used twice"),
    (prompt_variable, r"data\.jsonl:1: missing field 'questoin' \(the suite's prompt uses it\)"),
    (prompt_variable_unchecked, r"suite 's' prompt, item 'q0': undefined variable"),
    (missing_production, r"suite 's', gate 'matches_production': .*prod\.jsonl: no such file"),
]


@pytest.mark.parametrize(
    ("breakage", "message"), BAD_INPUTS, ids=[b.__name__ for b, _ in BAD_INPUTS]
)
def test_bad_input_is_one_clear_error_before_any_call(
    root: Path, fake: FakeProvider, breakage: Breakage, message: str
) -> None:
    fields = breakage(root)
    with pytest.raises(EvalkitError, match=message):
        session(root, fake).suite_result(suite(root, **fields))
    assert fake.requests() == 0
