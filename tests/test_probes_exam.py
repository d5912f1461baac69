"""The qualification exam's pairs: built from references, graders' rows and planted errors."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from evalkit.config import EvalkitConfig
from evalkit.errors import UsageError
from evalkit.judging import JudgeRegistry
from evalkit.probes._exam import check_exam, exam_pairs, exam_plan, max_exam_pairs
from evalkit.records._answers import Answer
from evalkit.records._dataset import Item
from evalkit.session._prepare import prepare_suite
from evalkit.session._suite import Suite


def _item(item_id: str, **fields: object) -> Item:
    return Item(item_id, {"question": f"question {item_id}?", **fields})


def _answer(item_id: str, role: str, text: str, status: str = "ok") -> Answer:
    model = "cand" if role == "candidate" else "base"
    return Answer(
        run_id="r", suite="s", item_id=item_id, role=role, model=model,  # type: ignore[arg-type]
        family=model, prompt=f"Q {item_id}?", text=text if status == "ok" else None,
        status=status, error=None, latency_s=0.0, input_tokens=0, output_tokens=0,  # type: ignore[arg-type]
        cost_usd=0.0, cached=False,
    )  # fmt: skip


def _graded(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """Graders' rows (item_id, answer model, score) beside one judge row that must be ignored."""
    graded = [
        {"suite": "s", "item_id": i, "candidate": m, "judge": "numeric",
         "judge_family": "deterministic", "score": score}
        for i, m, score in rows
    ]  # fmt: skip
    judge = {"suite": "s", "item_id": "x", "candidate": "cand", "judge": "j",
             "judge_family": "acme", "score": 1.0}  # fmt: skip
    return pd.DataFrame([*graded, judge])


def test_an_item_with_one_passing_and_one_failing_answer_gives_a_graded_pair() -> None:
    items = [_item("q1"), _item("q2")]
    answers = [
        _answer("q1", "candidate", "It is blue"), _answer("q1", "baseline", "It is green"),
        _answer("q2", "candidate", "Red"), _answer("q2", "baseline", "Red"),
    ]  # fmt: skip
    table = _graded(
        ("q1", "cand", 0.0), ("q1", "base", 1.0), ("q2", "cand", 1.0), ("q2", "base", 1.0)
    )
    pairs = [p for p in exam_pairs("s", items, answers, table) if p.probe == "exam:graded"]
    assert len(pairs) == 1
    (pair,) = pairs
    # The judges' question: the row's, not the prompt the answering model was sent.
    assert (pair.suite, pair.item_id, pair.kind, pair.question) == (
        "s",
        "q1",
        "exam",
        "question q1?",
    )
    good = pair.first if pair.target == "a" else pair.second
    bad = pair.second if pair.target == "a" else pair.first
    assert (good, bad) == ("It is green", "It is blue")


def test_planted_pairs_come_from_a_passing_answer_else_from_the_reference() -> None:
    items = [_item("q1", reference="The capital is 12 km from Paris."), _item("q2", reference="")]
    answers = [_answer("q1", "candidate", "It is 3 km away.")]
    table = _graded(("q1", "cand", 1.0))
    plan = exam_plan("s", items, answers, table, seed=0)
    by_probe = {p.probe: p for p in plan.pairs}
    assert sorted(by_probe) == ["exam:negation", "exam:number"]  # no name in the answer
    number = by_probe["exam:number"]
    good = number.first if number.target == "a" else number.second
    bad = number.second if number.target == "a" else number.first
    assert good == "It is 3 km away."
    assert bad == plan.planted[("q1", "exam:number")].text
    assert bad in {"It is 1 km away.", "It is 2 km away.", "It is 4 km away.", "It is 5 km away."}
    # Without a passing answer, the reference is the known-correct text.
    plan = exam_plan("s", items, answers, _graded(("q1", "cand", 0.0)), seed=0)
    assert {p.first if p.target == "a" else p.second for p in plan.pairs} == {
        "The capital is 12 km from Paris."
    }
    assert sorted(p.probe for p in plan.pairs) == ["exam:name", "exam:negation", "exam:number"]


def test_the_good_answer_is_first_in_half_the_pairs_and_the_plan_is_seeded() -> None:
    items = [_item(f"q{i}", reference=f"The tower is {i + 10} metres tall.") for i in range(30)]
    pairs = exam_pairs("s", items, [], pd.DataFrame(), seed=3)
    # Each reference allows a number and a negation: 60 pairs, 30 with the good answer first.
    assert len(pairs) == 60
    assert sum(p.target == "a" for p in pairs) == 30
    for probe in ("exam:number", "exam:negation"):  # balanced within each kind too
        assert sum(p.target == "a" for p in pairs if p.probe == probe) == 15
    assert pairs == exam_pairs("s", items, [], pd.DataFrame(), seed=3)
    assert pairs != exam_pairs("s", items, [], pd.DataFrame(), seed=4)
    for p in pairs:  # the placement swaps the texts, never loses one
        good, bad = (p.first, p.second) if p.target == "a" else (p.second, p.first)
        assert good.startswith("The tower is ")
        assert good != bad


def test_n_samples_items_and_a_larger_n_is_capped_with_a_note() -> None:
    items = [_item(f"q{i}", reference=f"It is {i + 10} metres tall.") for i in range(10)]
    plan = exam_plan("s", items, [], pd.DataFrame(), n=4, seed=0)
    assert len({p.item_id for p in plan.pairs}) == 4
    assert plan.n_qualifying == 10
    assert plan.notes == ()
    capped = exam_plan("s", items, [], pd.DataFrame(), n=25, seed=0)
    assert len({p.item_id for p in capped.pairs}) == 10
    assert capped.notes == (
        "suite 's': exam asked for 25 items but only 10 have a known answer (a reference, or "
        "answers the graders judged); the exam uses 10",
    )


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_a_bad_n_is_refused_naming_the_suite(n: object) -> None:
    with pytest.raises(UsageError, match=r"suite 's': exam=.* is not a number of items"):
        exam_plan("s", [_item("q", reference="It is 3.")], [], pd.DataFrame(), n=n)  # type: ignore[arg-type]


def test_no_reference_and_no_grader_is_not_measurable_before_any_call() -> None:
    items = [_item("q1"), _item("q2", reference="  ")]
    with pytest.raises(UsageError) as err:
        check_exam("arith", items, has_graders=False)
    assert str(err.value) == (
        "suite 'arith': exam not measurable: no known-answer items; give the dataset rows a "
        "`reference` field, or the suite a deterministic grader (Suite(graders=[...])), or "
        "remove exam="
    )
    check_exam("arith", items, has_graders=True)  # graders may make known answers
    check_exam("arith", [_item("q", reference="Yes.")], has_graders=False)


def test_nothing_qualifying_after_the_answers_gives_an_empty_plan_saying_why() -> None:
    items = [_item("q1", reference="Yes.")]  # nothing to plant in "Yes."
    answers = [_answer("q1", "candidate", "no", status="failed")]
    plan = exam_plan("s", items, answers, _graded(("q1", "cand", 1.0)))
    assert plan.pairs == ()
    assert plan.n_qualifying == 0
    assert plan.notes[0].startswith("suite 's': exam not measurable: no known-answer items")


def test_failed_answers_and_other_suites_are_never_exam_material() -> None:
    items = [_item("q1")]
    other = dataclasses.replace(_answer("q1", "baseline", "It is 7."), suite="other")
    answers = [_answer("q1", "candidate", "It is 9.", status="failed"), other]
    table = _graded(("q1", "cand", 1.0), ("q1", "base", 1.0))
    assert exam_pairs("s", items, answers, table) == []


def test_the_reference_is_read_from_the_suites_reference_field() -> None:
    items = [_item("q1", answer="It is 3 km away.", reference="")]
    plan = exam_plan("s", items, [], pd.DataFrame(), reference_field="answer")
    assert {p.probe for p in plan.pairs} == {"exam:number", "exam:negation"}
    with pytest.raises(UsageError, match="give the dataset rows a `answer` field"):
        check_exam(
            "s", [_item("q1", reference="It is 3.")], has_graders=False, reference_field="answer"
        )


@pytest.mark.parametrize("exam", [0, -3, 2.5, "10"])
def test_suite_refuses_an_exam_that_is_not_a_number_of_items_when_declared(
    exam: object, tmp_path: Path
) -> None:
    with pytest.raises(UsageError) as err:
        Suite("arith", dataset="data.jsonl", base_dir=tmp_path, exam=exam)  # type: ignore[arg-type]
    assert str(err.value) == (
        f"suite 'arith': exam={exam!r} is not a number of items; give a whole number of at "
        "least 1, or exam=True for every item that qualifies"
    )
    for fine in (True, False, 1, 50):
        assert Suite("arith", dataset="data.jsonl", base_dir=tmp_path, exam=fine).exam == fine


def test_suite_refuses_an_exam_on_a_scored_suite_when_declared(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        Suite("arith", dataset="d.jsonl", base_dir=tmp_path, mode="reference", exam=10)
    assert str(err.value) == (
        "suite 'arith': exam=10 needs a pairwise suite (mode 'reference' scores each answer on "
        "its own); remove exam, or judge the suite pairwise"
    )
    assert Suite("arith", dataset="d.jsonl", base_dir=tmp_path, mode="reference").exam is False


def test_an_exam_with_nothing_to_build_from_stops_the_suite_before_any_model_is_reached(
    tmp_path: Path,
) -> None:
    (tmp_path / "data.jsonl").write_text('{"id": "q1", "question": "Why?"}\n')
    reached: list[str] = []

    def resolve(model: str, **_: object) -> object:
        reached.append(model)
        raise AssertionError("no model may be reached before the exam is checked")

    suite = Suite("why", dataset="data.jsonl", base_dir=tmp_path, exam=True)
    with pytest.raises(UsageError, match=r"^suite 'why': exam not measurable: no known-answer"):
        prepare_suite(
            suite,
            EvalkitConfig(),
            JudgeRegistry(tmp_path / "judges"),
            resolve,
            run_id="r",  # type: ignore[arg-type]
        )
    assert reached == []
    # The same suite without an exam goes on to reach its models.
    with pytest.raises(AssertionError):
        prepare_suite(
            dataclasses.replace(suite, exam=False), EvalkitConfig(),
            JudgeRegistry(tmp_path / "judges"), resolve, run_id="r",  # type: ignore[arg-type]
        )  # fmt: skip
    assert reached


def test_the_dry_run_bound_covers_every_plan() -> None:
    items = [_item(f"q{i}", reference=f"Paris is {i + 10} km away.") for i in range(6)]
    answers = [
        _answer(f"q{i}", role, "It is 3 km.")
        for i in range(6)
        for role in ("candidate", "baseline")
    ]
    table = _graded(*((f"q{i}", m, float(m == "cand")) for i in range(6) for m in ("cand", "base")))
    for exam in (True, 4, 50):
        n = None if exam is True else exam
        plan = exam_plan("s", items, answers, table, n=n)
        assert len(plan.pairs) <= max_exam_pairs(len(items), exam, graded=True)
    assert max_exam_pairs(6, True, graded=True) == 24  # a graded pair and 3 planted per item
    assert max_exam_pairs(6, 4, graded=False) == 12
    assert max_exam_pairs(6, 50, graded=False) == 18


def test_the_question_shown_is_the_sessions_rendering_and_an_item_without_one_is_left_out() -> None:
    items = [_item("q1", reference="It is 3 km."), Item("q2", {"reference": "It is 4 km."})]
    plan = exam_plan("s", items, [], pd.DataFrame(), questions={"q1": "How far is it?"})
    assert {(p.item_id, p.question) for p in plan.pairs} == {("q1", "How far is it?")}
    plan = exam_plan("s", items, [], pd.DataFrame())
    assert {(p.item_id, p.question) for p in plan.pairs} == {("q1", "question q1?")}
