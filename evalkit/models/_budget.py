"""A run's spending limit: money and number of calls, checked before every model call."""

from __future__ import annotations

import threading

from evalkit.config import EvalkitConfig
from evalkit.errors import BudgetExceeded


class Budget:
    """Counts calls and spend, shared by every client of a run, and refuses calls past the limit.

    A call is refused once ``max_calls`` calls have been started, or once the recorded spend
    has reached ``budget_usd`` (a zero budget therefore still allows free calls, e.g. to local
    models). Cost is known only after a call returns, so calls already in flight when the limit
    is reached still finish: the overshoot is at most the calls in flight. Cache hits are not
    calls and cost nothing. Thread-safe.
    """

    def __init__(self, budget_usd: float | None = None, max_calls: int | None = None) -> None:
        self.budget_usd = budget_usd
        self.max_calls = max_calls
        self._lock = threading.Lock()
        self._calls = 0
        self._spent_usd = 0.0

    @classmethod
    def from_config(cls, config: EvalkitConfig) -> Budget:
        """Take ``budget_usd`` and ``max_calls`` from the run's config."""
        return cls(config.budget_usd, config.max_calls)

    @property
    def calls(self) -> int:
        """Calls started so far (retries of one call count once)."""
        return self._calls

    @property
    def spent_usd(self) -> float:
        """Spend recorded so far, in US dollars."""
        return self._spent_usd

    def reserve(self, model: str) -> None:
        """Count one more call to ``model``, or refuse it.

        Raises:
            BudgetExceeded: the call limit or the spending limit has been reached.
        """
        with self._lock:
            if self.max_calls is not None and self._calls >= self.max_calls:
                raise BudgetExceeded(
                    f"max_calls={self.max_calls} reached before calling {model}; raise max_calls "
                    "(EVALKIT_MAX_CALLS) or rerun: finished calls are cached and are not repeated"
                )
            if (
                self.budget_usd is not None
                and self._spent_usd > 0
                and self._spent_usd >= self.budget_usd
            ):
                raise BudgetExceeded(
                    f"budget_usd={self.budget_usd:g} reached (${self._spent_usd:.4f} spent over "
                    f"{self._calls} calls) before calling {model}; raise budget_usd "
                    "(EVALKIT_BUDGET_USD) or rerun: finished calls are cached and are not repeated"
                )
            self._calls += 1

    def record(self, cost_usd: float) -> None:
        """Add the cost of a finished call."""
        with self._lock:
            self._spent_usd += cost_usd
