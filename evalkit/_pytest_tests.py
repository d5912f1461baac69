"""A suite as pytest sees it: :class:`Suite` and the two test functions it hands to pytest.

Suites are declared in ordinary pytest modules::

    suite = evalkit.Suite(
        "capitals",
        dataset="data/capitals.jsonl",
        prompt="{{ question }}",
        gates=[evalkit.gates.WinRate(at_least=0.5)],
    )
    test_item, test_gate = suite.tests()

:meth:`Suite.tests` returns two test functions for pytest to collect: one test per dataset row
(so ``-k`` and ``--lf`` work on items) and one test per gate. Nothing runs at import time; the
session evaluates the whole suite in one concurrent batch the first time one of its tests runs,
and this module turns what it returns into passes, fails and skips.

pytest is imported only when the tests are built, so ``import evalkit`` does not import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from evalkit.errors import EvalkitError, UsageError
from evalkit.session._group import check_candidates
from evalkit.session._suite import Suite as _Declaration

if TYPE_CHECKING:
    from evalkit.session import EvalSession
    from evalkit.session._result import Conclusion, SuiteResult

TestFn = Callable[..., None]


class Suite(_Declaration):
    """The declaration of an eval suite (see the module docstring)."""

    def tests(self) -> tuple[TestFn, TestFn]:
        """Return (per-item test, per-gate test) for pytest to collect from the suite module.

        Raises:
            pytest.Collector.CollectError: the dataset or the gates are invalid; pytest
                reports it as the module's collection error, in one line.
        """
        return suite_tests(self)


def suite_tests(suite: _Declaration) -> tuple[TestFn, TestFn]:
    """The per-item and per-gate test functions of ``suite`` (see :meth:`Suite.tests`).

    Raises:
        pytest.Collector.CollectError: the dataset or the gates are invalid.
    """
    import pytest

    try:
        labels = check_candidates(suite)
        items = suite.items()
        gate_names = suite.gate_names()
    except UsageError as exc:
        # Reported as this module's collection error, in one line, and pytest stops
        # before any test runs: nothing is spent on a suite with a broken dataset.
        raise pytest.Collector.CollectError(f"evalkit: {exc}") from None
    # A suite of several candidates has each item and gate once per candidate, with the
    # candidate's label first in the test id (``test_gate[terse:win_rate]``).
    whose: list[str | None] = [*labels] if labels else [None]
    item_ids = [(who, i.id) for who in whose for i in items]
    gate_ids = [(who, g) for who in whose for g in gate_names]

    @pytest.mark.parametrize("evalkit_item_id", item_ids, ids=_ids(item_ids))
    def test_item(evalkit_item_id: tuple[str | None, str], evalkit_session: EvalSession) -> None:
        who, item_id = evalkit_item_id
        result = _suite_result(evalkit_session, suite, who)
        # The message holds both answers and every verdict: a traceback would only add noise,
        # forty times over when a provider is down.
        _conclude(evalkit_session.item_conclusion(result, item_id), pytrace=False)

    @pytest.mark.parametrize("evalkit_gate", gate_ids, ids=_ids(gate_ids))
    def test_gate(
        evalkit_gate: tuple[str | None, str],
        evalkit_session: EvalSession,
        record_property: Callable[[str, object], None],
    ) -> None:
        who, name = evalkit_gate
        result = _suite_result(evalkit_session, suite, who)
        gate = result.gate(name)
        # JUnit XML carries each gate's figures as properties of its test case.
        for key in ("outcome", "figure", "low", "high", "n", "threshold"):
            record_property(f"evalkit_{key}", getattr(gate, key))
        _conclude(evalkit_session.gate_conclusion(gate), pytrace=False)

    test_item.evalkit_suite = suite  # type: ignore[attr-defined]
    test_gate.evalkit_suite = suite  # type: ignore[attr-defined]
    test_item.__doc__ = f"Each item of suite {suite.name!r} is answered and judged."
    test_gate.__doc__ = f"The release gates of suite {suite.name!r}."
    return test_item, test_gate


def _ids(params: list[tuple[str | None, str]]) -> list[str]:
    """Test ids: the item or gate, after the candidate's label in a multi-candidate suite."""
    return [name if who is None else f"{who}:{name}" for who, name in params]


def _suite_result(session: EvalSession, suite: _Declaration, who: str | None) -> SuiteResult:
    """The suite's result, or candidate ``who``'s pair's in a multi-candidate suite.

    A suite that could not run fails the test with the session's message.
    """
    import pytest

    try:
        if who is None:
            return session.suite_result(suite)
        return session.group_result(suite).pair(who)
    except EvalkitError as exc:
        pytest.fail(str(exc), pytrace=False)


def _conclude(conclusion: Conclusion, *, pytrace: bool) -> None:
    """End the running test as ``conclusion`` says (a passed one just returns)."""
    import pytest

    if conclusion.status == "failed":
        pytest.fail(conclusion.message, pytrace=pytrace)
    if conclusion.status == "skipped":
        pytest.skip(conclusion.message)
