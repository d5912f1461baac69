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
        items = suite.items()
        gate_names = suite.gate_names()
    except UsageError as exc:
        # Reported as this module's collection error, in one line, and pytest stops
        # before any test runs: nothing is spent on a suite with a broken dataset.
        raise pytest.Collector.CollectError(f"evalkit: {exc}") from None

    @pytest.mark.parametrize("evalkit_item_id", [i.id for i in items])
    def test_item(evalkit_item_id: str, evalkit_session: EvalSession) -> None:
        result = _suite_result(evalkit_session, suite)
        # The message holds both answers and every verdict: a traceback would only add noise,
        # forty times over when a provider is down.
        _conclude(evalkit_session.item_conclusion(result, evalkit_item_id), pytrace=False)

    @pytest.mark.parametrize("evalkit_gate", gate_names)
    def test_gate(
        evalkit_gate: str,
        evalkit_session: EvalSession,
        record_property: Callable[[str, object], None],
    ) -> None:
        result = _suite_result(evalkit_session, suite)
        gate = result.gate(evalkit_gate)
        # JUnit XML carries each gate's figures as properties of its test case.
        for key in ("outcome", "figure", "low", "high", "n", "threshold"):
            record_property(f"evalkit_{key}", getattr(gate, key))
        _conclude(evalkit_session.gate_conclusion(gate), pytrace=False)

    test_item.evalkit_suite = suite  # type: ignore[attr-defined]
    test_gate.evalkit_suite = suite  # type: ignore[attr-defined]
    test_item.__doc__ = f"Each item of suite {suite.name!r} is answered and judged."
    test_gate.__doc__ = f"The release gates of suite {suite.name!r}."
    return test_item, test_gate


def _suite_result(session: EvalSession, suite: _Declaration) -> SuiteResult:
    """The suite's result; a suite that could not run fails the test with the session's message."""
    import pytest

    try:
        return session.suite_result(suite)
    except EvalkitError as exc:
        pytest.fail(str(exc), pytrace=False)


def _conclude(conclusion: Conclusion, *, pytrace: bool) -> None:
    """End the running test as ``conclusion`` says (a passed one just returns)."""
    import pytest

    if conclusion.status == "failed":
        pytest.fail(conclusion.message, pytrace=pytrace)
    if conclusion.status == "skipped":
        pytest.skip(conclusion.message)
