"""The judge calls of a suite: which calls a panel makes on an item, and what each one says.

Pairwise judges compare the candidate's and the baseline's answers, always in both orders
(``AB`` then ``BA``). Pointwise and reference judges score each model's answer on its own —
the candidate's and the baseline's, so that the two can be compared and self-preference seen
from both sides — once per listing of the scale's options (``option_orders``). Every call is
repeated ``samples`` times.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from evalkit.judging._judge import Judge
from evalkit.judging._pairwise import present
from evalkit.judging._spec import OptionOrder
from evalkit.judging._templates import Templates
from evalkit.records._answers import Role
from evalkit.records._conversation import Message, earlier
from evalkit.records._dataset import Item
from evalkit.records._judgments import ORDERS, Order

#: ``(judge, item id, role)`` -> whether the judge may not see that role's answer on that item.
Excluded = Callable[[str, str, Role], bool]


@dataclasses.dataclass(frozen=True, slots=True)
class JudgeCall:
    """One call of one judge on one item.

    ``order`` is set for pairwise calls; ``role`` (whose answer is scored) for the scored modes,
    with ``option_order`` when the judge lists its options more than one way.
    """

    item: Item
    judge: Judge
    sample: int
    order: Order | None = None
    role: Role | None = None
    option_order: OptionOrder | None = None

    def roles(self) -> tuple[Role, ...]:
        """The answers the call shows: both for pairwise, else the scored one."""
        return ("candidate", "baseline") if self.role is None else (self.role,)


def judge_calls(
    items: Sequence[Item],
    judges: Sequence[Judge],
    *,
    roles: Sequence[Role] = ("candidate", "baseline"),
    excluded: Excluded | None = None,
) -> list[JudgeCall]:
    """Every call the judges make on the items, in a stable order.

    ``roles`` are the answers scored judges score (the candidate's only when the candidate
    and the baseline are the same model); ``excluded`` drops the calls a family policy forbids
    (a pairwise call is dropped when either answer is forbidden to the judge).
    """

    def barred(judge: Judge, item: Item, shown: Sequence[Role]) -> bool:
        return excluded is not None and any(excluded(judge.name, item.id, r) for r in shown)

    def of(item: Item, judge: Judge) -> Iterator[JudgeCall]:
        spec = judge.spec
        if judge.mode == "pairwise":
            if barred(judge, item, ("candidate", "baseline")):
                return
            for sample in range(spec.samples):
                for order in ORDERS:
                    yield JudgeCall(item, judge, sample, order=order)
            return
        listings: Sequence[OptionOrder | None] = (
            spec.option_orders if len(spec.option_orders) > 1 else [None]
        )
        for role in roles:
            if barred(judge, item, (role,)):
                continue
            for sample in range(spec.samples):
                for listing in listings:
                    yield JudgeCall(item, judge, sample, role=role, option_order=listing)

    return [call for item in items for judge in judges for call in of(item, judge)]


def judge_prompt(
    templates: Templates,
    call: JudgeCall,
    *,
    question: str,
    answers: Mapping[Role, str],
    reference: str | None = None,
    transcripts: Mapping[Role, Sequence[Message] | None] | None = None,
    contexts: Mapping[Role, str] | None = None,
) -> str:
    """Render the call's prompt from the question, the answers by role and the reference.

    ``transcripts`` (by role) are conversation items' transcripts; the template's
    ``conversation`` is then the messages before the judged turn: a list for a scored call,
    a pair (answer A's, answer B's, in the order shown) for a pairwise one. It is None for a
    single-turn item, or when nothing came before the judged turn. ``contexts`` holds, by
    role, what an app based its answer on (scored calls show it).

    Raises:
        SpecError: the template fails to render (checked before the run, so only a template
            edited during the run can do this).
    """
    judge = call.judge
    variables: dict[str, Any]
    before = {role: earlier((transcripts or {}).get(role)) or [] for role in call.roles()}
    conversation: Any = None
    if call.order is not None:
        shown = present(call.order, candidate=answers["candidate"], baseline=answers["baseline"])
        talks = present(call.order, candidate=before["candidate"], baseline=before["baseline"])
        conversation = talks if any(talks) else None
        variables = judge.variables(question=question, answers=shown, conversation=conversation)
    else:
        assert call.role is not None
        variables = judge.variables(
            question=question,
            answers=(answers[call.role],),
            reference=reference,
            option_order=call.option_order or judge.spec.option_orders[0],
            conversation=before[call.role] or None,
            context=(contexts or {}).get(call.role, ""),
        )
    return templates.render(judge.spec.template, variables)


def repair_messages(
    messages: Sequence[Mapping[str, str]], raw: str, repair: str
) -> tuple[Mapping[str, str], ...]:
    """The conversation of a repair call: the original one, the judge's reply, the repair."""
    return (
        *messages,
        {"role": "assistant", "content": raw},
        {"role": "user", "content": repair},
    )
