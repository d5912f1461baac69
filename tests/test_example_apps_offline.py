"""The app examples in suites/, checked without a model: their judges, data and retriever."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from evalkit.judging import JudgeRegistry
from evalkit.records._dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]


def suite_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "suites" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_faithfulness_judges_see_the_context() -> None:
    registry = JudgeRegistry(ROOT / "judges")
    panel = registry.panel("local-faithful", mode="pointwise")
    assert [j.name for j in panel.judges] == ["smollm2-faithful", "gemma-faithful"]
    for judge in panel.judges:
        variables = judge.variables(question="Q?", answers=("It is 27.",),
                                    context="[1] Every employee gets 27 days.")  # fmt: skip
        prompt = registry.templates.render(judge.spec.template, variables)
        assert "[1] Every employee gets 27 days." in prompt
        assert prompt.rstrip().endswith(("Reply with only the number.", "Score:"))


def test_the_retriever_finds_the_document_each_question_is_about() -> None:
    rag = suite_module("test_rag_app")
    items = load_dataset(ROOT / "suites" / "data" / "handbook_questions.jsonl")
    topics = {item.id: rag.retrieve(item.fields["question"])[0].split(".")[0] for item in items}
    assert topics == {
        "holiday-days": "Holidays at Northwind Tools",
        "holiday-carry-over": "Holidays at Northwind Tools",
        "meal-allowance": "Expenses at Northwind Tools",
        "receipts-deadline": "Expenses at Northwind Tools",
        "laptop-lock": "Security at Northwind Tools",
        "password-length": "Security at Northwind Tools",
        "lunch-hours": "The Northwind Tools office",
        "bicycles": "The Northwind Tools office",
    }
    assert rag.suite.candidate.version == "keyword-v1"


def test_the_recorded_answers_cover_every_question_once() -> None:
    recorded = suite_module("test_recorded_answers").suite
    items = recorded.items()
    answers = recorded.candidate.load(items, recorded.base_dir, recorded.dataset_path())
    assert sorted(answers) == sorted(item.id for item in items)


def test_the_prompt_variants_example_plans_each_answer_once_and_every_pair_both_orders(
    tmp_path: Path,
) -> None:
    from evalkit.config import EvalkitConfig
    from evalkit.session import EvalSession
    from evalkit.session._plan import plan_suites

    suite = suite_module("test_prompt_variants").suite
    config = EvalkitConfig(panel="local", cache_dir=tmp_path / "cache",
                           reports_dir=tmp_path / "reports")  # fmt: skip
    plan = plan_suites(EvalSession(config, ROOT), [suite])
    n = len(suite.items())
    assert n <= 6  # README command 1 stays within a few minutes on two cores
    assert [s.name for s in plan.suites] == [
        "prompt-variants/terse", "prompt-variants/explain", "prompt-variants/quiz",
    ]  # fmt: skip
    # Three variants and the baseline, each asked once per item; three pairs, both orders,
    # two judges.
    assert plan.calls("candidate") + plan.calls("baseline") == 4 * n
    assert plan.calls("judge") == 3 * n * 2 * 2
    assert not (tmp_path / "reports").exists()
