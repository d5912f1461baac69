"""The unit of active judge testing: a pair of answers whose fair verdict is known."""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

Side = Literal["a", "b"]

#: Columns of the probe table: one row per (pair, judge, order, sample). ``verdict`` and
#: ``target`` name answers by their place in :class:`ProbePair` (``a`` = ``first``), whatever
#: order they were shown in, so that rows of both orders compare directly.
PROBE_COLUMNS: Final = (
    "run_id", "suite", "item_id", "probe", "kind", "judge", "judge_family", "order", "sample",
    "target", "verdict", "status", "raw_output", "error", "prompt_hash", "cached",
    "input_tokens", "output_tokens", "cost_usd",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class ProbePair:
    """Two answers to one question, built so that the verdict a fair judge gives is known.

    - A **probe** (``kind="probe"``) is a pair the panel already judged with one controlled
      edit (padding, a fake citation, a bandwagon note, ...): ``target`` is the edited answer,
      and a robust judge's verdict does not move toward it.
    - An **exam** question (``kind="exam"``) pairs a known-good answer with a known-bad one (one
      that fails the suite's references or graders, or a copy with a planted factual error):
      ``target`` is the good answer, and a competent judge picks it.

    ``probe`` names the probe (``verbosity``, ``bandwagon``, ...) or the exam's kind of error
    (``exam:number``, ``exam:negation``, ...). ``note`` is text added to the judge's prompt (the
    bandwagon probe's "most people preferred ..."); empty for edits of the answers themselves.
    """

    suite: str
    item_id: str
    probe: str
    kind: Literal["probe", "exam"]
    question: str
    first: str
    second: str
    target: Side
    note: str = ""
