"""Release gates: a figure, its interval, and a pass / fail / inconclusive outcome.

A gate compares the *interval*, never the point estimate: it passes only when the whole
interval is on the right side of the threshold, fails only when the whole interval is on the
wrong side, and is inconclusive when the interval straddles the threshold or there are too few
items to say. Gates are pure: they read the suite's tables and return a :class:`GateResult`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from evalkit.audit._panel import win_rate
from evalkit.errors import UsageError
from evalkit.records._texts import SuiteTexts

Outcome = Literal["pass", "fail", "inconclusive"]


@dataclasses.dataclass(frozen=True, slots=True)
class GateInputs:
    """What a gate may look at.

    Pairwise suites: ``combined`` has one row per (item, judge) with the verdict of both
    orders combined, ``panel`` one row per item with the panel's verdict. Scored suites
    (pointwise, reference): ``combined`` is the judges' rows, ``panel`` one row per (item,
    scored model) with the panel's ``score``. ``reliability`` has one row per judge with the
    auditor's verdict and its reasons; ``accepted`` the panel verdicts of the last accepted
    run, when one was recorded; ``graded`` the deterministic graders' rows (score 1 or 0);
    ``candidate`` the name of the model under test, as the tables record it; ``inputs`` the
    clean items' questions as the candidate was asked them; ``variants`` which items are
    perturbed variants of which (see :mod:`evalkit.data._perturb`).
    """

    combined: pd.DataFrame
    panel: pd.DataFrame
    confidence: float
    reliability: pd.DataFrame | None = None
    accepted: pd.DataFrame | None = None
    seed: int = 0
    graded: pd.DataFrame | None = None
    candidate: str | None = None
    #: the suite's inputs: each clean item's question as the candidate is asked it.
    inputs: tuple[str, ...] = ()
    #: perturbed variants: variant item id -> (clean item id, perturbation).
    variants: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    #: this run's kept sample of inputs and answers, and the accepted run's (Diversity gate).
    texts: SuiteTexts | None = None
    accepted_texts: SuiteTexts | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class GateResult:
    """The outcome of one gate, with the figure and interval it was decided on."""

    name: str
    outcome: Outcome
    figure: float
    low: float
    high: float
    n: int
    threshold: float
    message: str
    #: what the gate measured beyond its figure, for the report (plain JSON-ready data).
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (NaN becomes None)."""
        data = dataclasses.asdict(self)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


@runtime_checkable
class Gate(Protocol):
    """Anything with a name that can decide an outcome from :class:`GateInputs`."""

    @property
    def name(self) -> str:
        """A short name, unique within the suite (it becomes a pytest test id)."""
        ...

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide the gate."""
        ...


@runtime_checkable
class CheckedGate(Gate, Protocol):
    """A gate with settings or files to check before any call (see :func:`check_gates`)."""

    def check(self) -> None:
        """Raise a UsageError naming the gate and what to change."""
        ...


def check_gates(gates: Iterable[Gate], *, where: str = "") -> None:
    """Check every gate that can be checked before the run spends anything.

    Raises:
        UsageError: a gate's settings or input files are wrong; the message starts with
            ``where`` and the gate's name, then says what to change.
    """
    for gate in gates:
        if isinstance(gate, CheckedGate):
            try:
                gate.check()
            except UsageError as exc:
                raise type(exc)(f"{where}gate {gate.name!r}: {exc}") from None


def name_gate(gate: Any, kind: str) -> None:
    """Give a gate without a ``name`` one derived from its kind and non-default parameters.

    Gates become pytest test ids and their results are looked up by name, so two gates of one
    kind must not share a name: ``WinRate(at_least=0.99)`` is ``win_rate(at_least=0.99)``,
    a default ``WinRate()`` plain ``win_rate``. Called from each gate's ``__post_init__``.

    >>> WinRate(at_least=0.99).name, WinRate().name, WinRate(name="strict").name
    ('win_rate(at_least=0.99)', 'win_rate', 'strict')
    """
    if gate.name:
        return
    changed = [
        f"{field.name}={_param(getattr(gate, field.name))}"
        for field in dataclasses.fields(gate)
        if field.name != "name"
        and field.metadata.get("in_name", True)
        and getattr(gate, field.name) != field.default
    ]
    derived = f"{kind}({', '.join(changed)})" if changed else kind
    # Frozen dataclasses: the name is filled once, at construction.
    object.__setattr__(gate, "name", derived)


def _param(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def not_applicable(name: str, threshold: float, why: str) -> GateResult:
    """An inconclusive result for a gate that cannot be computed on this suite."""
    return GateResult(name, "inconclusive", math.nan, math.nan, math.nan, 0, threshold, why)


def decide(low: float, high: float, threshold: float, *, n: int, min_items: int) -> Outcome:
    """Pass when the interval clears ``threshold``, fail when it misses it entirely.

    >>> decide(0.55, 0.70, 0.5, n=100, min_items=20)
    'pass'
    >>> decide(0.30, 0.45, 0.5, n=100, min_items=20)
    'fail'
    >>> decide(0.45, 0.62, 0.5, n=100, min_items=20)
    'inconclusive'
    >>> decide(0.55, 0.70, 0.5, n=10, min_items=20)
    'inconclusive'
    """
    if n < min_items or math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if low >= threshold:
        return "pass"
    if high < threshold:
        return "fail"
    return "inconclusive"


@dataclasses.dataclass(frozen=True, slots=True)
class WinRate:
    """The candidate's win rate against the baseline must be at least ``at_least``.

    Win rate = (wins + ties / 2) / items with a panel verdict; abstained items are excluded
    from n and reported. The gate passes when the lower bound of the interval reaches
    ``at_least``.
    """

    at_least: float = 0.5
    min_items: int = 20
    #: unique within the suite; by default derived from the parameters (see :func:`name_gate`).
    name: str = ""

    def __post_init__(self) -> None:
        name_gate(self, "win_rate")

    def evaluate(self, inputs: GateInputs) -> GateResult:
        """Decide from the panel verdicts."""
        if "verdict" not in inputs.panel.columns:
            return not_applicable(self.name, self.at_least, "win_rate needs a pairwise suite")
        wr = win_rate(inputs.panel, confidence=inputs.confidence)
        ci = wr.interval
        outcome = decide(ci.low, ci.high, self.at_least, n=wr.n, min_items=self.min_items)
        pct = round(inputs.confidence * 100)
        message = (
            f"win rate {ci.estimate:.3f} [{ci.low:.3f}, {ci.high:.3f}] ({pct}% Wilson) "
            f"on {wr.n} items ({wr.wins} won, {wr.ties} tied, {wr.losses} lost, "
            f"{wr.abstained} abstained); needs the lower bound >= {self.at_least}"
        )
        if wr.n < self.min_items:
            message += f"; too few items with a verdict (need {self.min_items})"
        return GateResult(
            name=self.name,
            outcome=outcome,
            figure=ci.estimate,
            low=ci.low,
            high=ci.high,
            n=wr.n,
            threshold=self.at_least,
            message=message,
        )
