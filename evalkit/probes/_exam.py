"""The qualification exam: pairs of answers whose better one is known, built from the suite's data.

Two sources of known answers (pure functions of the items, their answers and the judgments
table; nothing is judged here):

- **graded** (probe ``exam:graded``): an item whose two answers (candidate and baseline) were
  both graded by the suite's deterministic graders, one passing every grader, the other failing
  one. An answer passes when every usable grader row of it scores 1 (the rule of the
  ``PassRate`` gate and of fluent-but-wrong); a grader that failed to run makes it unknown.
- **planted** (``exam:number``, ``exam:negation``, ``exam:name``): a known-correct text — an
  answer that passes the graders, else the row's ``reference`` — against a copy of it with one
  planted error (:mod:`evalkit.probes._plant`), one pair per kind the text allows.

The good answer's place is balanced: in each kind of question, half the pairs (one more at
most) show it first, in a seeded order, so a judge that always picks one position scores one
half. A seeded
sample of ``n`` items is drawn from those that give a pair; an ``n`` larger than that is
capped, with a note.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import pandas as pd

from evalkit.errors import UsageError
from evalkit.graders._base import GRADER_FAMILY
from evalkit.probes._pair import ProbePair, Side
from evalkit.probes._plant import PLANTERS, NamePool, Planted, name_pool
from evalkit.records._answers import Answer
from evalkit.records._dataset import Item

#: The probe name of each kind of exam question; planted kinds follow :data:`PLANTERS`.
GRADED: Final = "exam:graded"
EXAM_PROBES: Final = (GRADED, *(f"exam:{kind}" for kind in PLANTERS))


def not_measurable(suite: str, reference_field: str = "reference") -> str:
    """The message for a suite that asks for an exam but has nothing to build it from."""
    return (
        f"suite {suite!r}: exam not measurable: no known-answer items; give the dataset rows a "
        f"`{reference_field}` field, or the suite a deterministic grader "
        "(Suite(graders=[...])), or remove exam="
    )


def capped(suite: str, asked: int, known: int) -> str:
    """The note for an exam that asks for more items than the ``known`` ones that qualify."""
    return (
        f"suite {suite!r}: exam asked for {asked} items but only {known} have a known answer "
        f"(a reference, or answers the graders judged); the exam uses {known}"
    )


def exam_size(suite: str, exam: bool | int) -> int | None:
    """How many items ``Suite(exam=...)`` asks for: None for all that qualify, 0 for no exam.

    Raises:
        UsageError: ``exam`` is neither True, False nor a whole number of at least 1.
    """
    if exam is True or exam is False:
        return None if exam else 0
    if not isinstance(exam, int) or exam < 1:
        raise UsageError(_bad_size(suite, exam))
    return exam


def _bad_size(suite: str, exam: object) -> str:
    return (
        f"suite {suite!r}: exam={exam!r} is not a number of items; give a whole number of at "
        "least 1, or exam=True for every item that qualifies"
    )


def max_exam_pairs(n_items: int, exam: bool | int, *, graded: bool) -> int:
    """At most how many pairs the exam of a suite of ``n_items`` items asks each judge.

    Known before any answer exists (for the dry run's estimate): a sampled item gives at most
    one graded pair (when the suite has graders) and one planted pair per kind of error.
    """
    size = n_items if exam is True else min(int(exam), n_items)
    return size * (int(graded) + len(PLANTERS))


def exam_candidates(
    items: Sequence[Item], *, has_graders: bool, reference_field: str = "reference"
) -> list[Item]:
    """The items that may give an exam pair, as far as is known before any answer exists.

    With graders, every item (a passing answer can be planted, a passing and a failing one
    paired); without, only the items with a non-empty ``reference_field``.
    """
    if has_graders:
        return list(items)
    return [item for item in items if _reference(item, reference_field)]


def check_exam(
    suite: str, items: Sequence[Item], *, has_graders: bool, reference_field: str = "reference"
) -> None:
    """Check, before any call, that the exam can be built from the suite's data.

    Raises:
        UsageError: no item has a non-empty ``reference_field`` and the suite has no grader
            (see :func:`not_measurable`).
    """
    if not exam_candidates(items, has_graders=has_graders, reference_field=reference_field):
        raise UsageError(not_measurable(suite, reference_field))


@dataclasses.dataclass(frozen=True, slots=True)
class ExamPlan:
    """The exam's pairs, how many items could give one, and notes for the user.

    ``planted`` maps each planted pair's (item_id, probe) to its :class:`Planted` edit, for the
    report's highlight of the difference.
    """

    suite: str
    pairs: tuple[ProbePair, ...]
    n_qualifying: int
    notes: tuple[str, ...] = ()
    planted: dict[tuple[str, str], Planted] = dataclasses.field(default_factory=dict)


def _reference(item: Item, field: str) -> str:
    value = item.fields.get(field)
    return value.strip() if isinstance(value, str) else ""


def _rng(seed: int, label: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\0exam\0{label}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def answers_passing(suite: str, judgments: pd.DataFrame) -> pd.Series:
    """Per (item_id, model): True when every usable grader row of that answer scored 1.

    Rows of other suites, of judges and graders without a score are left out; an answer no
    grader scored is absent (unknown, neither right nor wrong).
    """
    if judgments.empty or "judge_family" not in judgments.columns:
        return pd.Series(dtype=bool)
    rows = judgments.loc[
        (judgments["suite"] == suite)
        & (judgments["judge_family"] == GRADER_FAMILY)
        & judgments["score"].notna()
    ]
    return (rows.groupby(["item_id", "candidate"])["score"].min() >= 1.0).rename("passes")


def declared_passing(
    items: Sequence[Item], where: str, *, first: str, second: str, better_field: str = "better"
) -> pd.Series:
    """Per (item_id, answer field): the correctness a row declares of its two answers.

    For rows that hold two answers (``evalkit probe``'s datasets), in the fields ``first``
    and ``second``: ``better_field`` = ``a`` says the answer in ``first`` is correct and the
    one in ``second`` is not; ``b`` the reverse. A row without the field (or with it empty)
    declares nothing. The series has :func:`answers_passing`'s shape, with the field names as
    the models, so :func:`exam_plan` (``passes=``) pairs the two answers (``exam:graded``)
    and plants its errors in the correct one.

    >>> rows = [Item("q1", {"better": "b"}), Item("q2", {})]
    >>> declared_passing(rows, "d.jsonl", first="x", second="y").to_dict()
    {('q1', 'x'): False, ('q1', 'y'): True}

    Raises:
        UsageError: a value other than ``a`` or ``b``, naming ``where``, the item and the field.
    """
    known: dict[tuple[str, str], bool] = {}
    for item in items:
        value = item.fields.get(better_field)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        side = value.strip().lower() if isinstance(value, str) else value
        if side not in ("a", "b"):
            raise UsageError(
                f"{where}, item {item.id!r}: field {better_field!r} is {value!r}; write a (the "
                f"answer in {first!r} is the correct one) or b (the one in {second!r}), or leave "
                "it empty when neither is known to be wrong"
            )
        known[(item.id, first)] = side == "a"
        known[(item.id, second)] = side == "b"
    if not known:
        return pd.Series(dtype=bool, name="passes")
    index = pd.MultiIndex.from_tuples(list(known), names=["item_id", "candidate"])
    return pd.Series(list(known.values()), index=index, dtype=bool, name="passes")


def _graded_pair(question: str, answers: Sequence[Answer], passes: pd.Series) -> ProbePair | None:
    known = [
        (a, bool(passes[(a.item_id, a.model)])) for a in answers if (a.item_id, a.model) in passes
    ]
    good = [a for a, ok in known if ok]
    bad = [a for a, ok in known if not ok]
    if not good or not bad:
        return None
    g, b = good[0], bad[0]
    return ProbePair(g.suite, g.item_id, GRADED, "exam", question, str(g.text), str(b.text), "a")


def _correct_text(
    item: Item, answers: Sequence[Answer], passes: pd.Series, reference_field: str
) -> str:
    """A known-correct text: an answer the graders pass (real output), else the reference."""
    for a in answers:
        if passes.get((a.item_id, a.model), False):
            return str(a.text)
    return _reference(item, reference_field)


def _item_pairs(
    suite: str,
    item: Item,
    answers: Sequence[Answer],
    passes: pd.Series,
    names: NamePool,
    seed: int,
    reference_field: str,
    question: str,
) -> list[tuple[ProbePair, Planted | None]]:
    if not question:
        return []
    out: list[tuple[ProbePair, Planted | None]] = []
    graded = _graded_pair(question, answers, passes)
    if graded is not None:
        out.append((graded, None))
    good = _correct_text(item, answers, passes, reference_field)
    if good:
        for kind, plant in PLANTERS.items():
            planted = plant(good, seed, question, names)
            if planted is not None:
                pair = ProbePair(
                    suite, item.id, f"exam:{kind}", "exam", question, good, planted.text, "a"
                )
                out.append((pair, planted))
    return out


def _question(item: Item, questions: Mapping[str, str] | None) -> str:
    if questions is not None and item.id in questions:
        return questions[item.id]
    value = item.fields.get("question")
    return value if isinstance(value, str) else ""


def _placed(pair: ProbePair, target: Side) -> ProbePair:
    """The pair with its good answer (built as ``first``) moved to ``target``."""
    if target == "a":
        return pair
    return dataclasses.replace(pair, first=pair.second, second=pair.first, target="b")


def _balanced(pairs: Sequence[ProbePair], suite: str, seed: int) -> tuple[ProbePair, ...]:
    """The pairs with the good answer first in half of each kind, in a seeded order.

    Balanced per kind, not only overall, so that a judge that always picks one position
    scores one half on every kind, not more on one and less on another by chance.
    """
    places: dict[int, Side] = {}
    for probe in sorted({p.probe for p in pairs}):
        mine = [i for i, p in enumerate(pairs) if p.probe == probe]
        sides: list[Side] = ["a" if k % 2 == 0 else "b" for k in range(len(mine))]
        _rng(seed, f"places:{suite}:{probe}").shuffle(sides)
        places.update(zip(mine, sides, strict=True))
    return tuple(_placed(p, places[i]) for i, p in enumerate(pairs))


def exam_plan(
    suite: str,
    items: Sequence[Item],
    answers: Iterable[Answer],
    judgments: pd.DataFrame,
    *,
    n: int | None = None,
    seed: int = 0,
    reference_field: str = "reference",
    questions: Mapping[str, str] | None = None,
    passes: pd.Series | None = None,
) -> ExamPlan:
    """Build the exam of one suite (see the module docstring).

    ``answers`` are the suite's answers (only ``ok`` ones with text count); ``judgments`` its
    judgments table (only the graders' rows are read). ``questions`` is each item's question
    as the judges are shown it, by item id (the session renders the suite's prompt); by
    default the row's ``question`` field; an item without a question gives no pair.
    ``passes`` is the answers' known correctness (:func:`declared_passing`); by default the
    graders' verdicts in ``judgments`` (:func:`answers_passing`). ``n``
    items are sampled (all when None); an ``n`` beyond the items that qualify is capped, with
    a note. With no item qualifying, the plan has no pairs and its note says the exam is not
    measurable.

    Raises:
        UsageError: ``n`` is not a positive whole number.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise UsageError(_bad_size(suite, n))
    usable = [a for a in answers if a.suite == suite and a.status == "ok" and a.text]
    by_item: dict[str, list[Answer]] = {}
    for a in sorted(usable, key=lambda a: (a.item_id, a.role != "candidate", a.model)):
        by_item.setdefault(a.item_id, []).append(a)
    passes = answers_passing(suite, judgments) if passes is None else passes
    references = [_reference(item, reference_field) for item in items]
    names = name_pool([*(a.text or "" for a in usable), *references])
    built = {
        item.id: made
        for item in items
        if (
            made := _item_pairs(
                suite,
                item,
                by_item.get(item.id, []),
                passes,
                names,
                seed,
                reference_field,
                _question(item, questions),
            )
        )
    }
    if not built:
        return ExamPlan(suite, (), 0, (not_measurable(suite, reference_field),))
    chosen = sorted(built)
    notes = []
    if n is not None and n > len(chosen):
        notes.append(capped(suite, n, len(chosen)))
    elif n is not None:
        chosen = sorted(_rng(seed, f"sample:{suite}").sample(chosen, n))
    drawn = [pp for item_id in chosen for pp in built[item_id]]
    pairs = _balanced([pair for pair, _ in drawn], suite, seed)
    planted = {(p.item_id, p.probe): edit for p, edit in drawn if edit is not None}
    return ExamPlan(suite, pairs, len(built), tuple(notes), planted)


def exam_pairs(
    suite: str,
    items: Sequence[Item],
    answers: Iterable[Answer],
    judgments: pd.DataFrame,
    *,
    n: int | None = None,
    seed: int = 0,
    reference_field: str = "reference",
    questions: Mapping[str, str] | None = None,
) -> list[ProbePair]:
    """The exam's pairs for the runner to judge: :func:`exam_plan`'s, as a list."""
    plan = exam_plan(
        suite,
        items,
        answers,
        judgments,
        n=n,
        seed=seed,
        reference_field=reference_field,
        questions=questions,
    )
    return list(plan.pairs)
