"""Stopping a run cleanly: on Ctrl-C or SIGTERM, or when the next call would break the budget.

:class:`StoppableCaller` stands between the engine and the model client. Once stopped, it
refuses every new call with :class:`~evalkit.errors.CallNotMade`, which the engine records as
a row that says why it has no verdict; calls already in flight finish (or time out) normally,
so everything that was paid for is kept. When the client refuses a call because the budget is
spent, only calls that would cost money are refused: answers already in the cache still come
back, and the refusals are counted so that the cost of the rest can be estimated. Signals
reach it through :meth:`evalkit.session._signals.RunInterrupts.stopping`.
"""

from __future__ import annotations

from collections.abc import Callable

from evalkit.errors import BudgetExceeded, CallNotMade
from evalkit.models import Completion, ModelClient, ModelRequest


class StoppableCaller:
    """A model client that can be told to make no more calls."""

    def __init__(self, client: ModelClient) -> None:
        self.client = client
        #: why the run stopped (``interrupted``), or None while it runs.
        self.stopped: str | None = None
        #: calls refused because the budget was spent.
        self.over_budget = 0
        self.budget_message: str | None = None

    def stop(self, reason: str) -> None:
        """Refuse every call from now on (the first reason given is kept)."""
        if self.stopped is None:
            self.stopped = reason
        self.client.stop(reason)

    async def complete(
        self, request: ModelRequest, *, validate: Callable[[Completion], bool] | None = None
    ) -> Completion:
        """As :meth:`ModelClient.complete`, unless the run has stopped.

        Raises:
            CallNotMade: the run was stopped, or this call would break the budget.
        """
        if self.stopped is not None:
            raise CallNotMade(self.stopped)
        try:
            return await self.client.complete(request, validate=validate)
        except BudgetExceeded as exc:
            self.over_budget += 1
            self.budget_message = str(exc)
            raise CallNotMade(f"budget reached ({exc})") from exc

    def estimate_rest_usd(self) -> float:
        """What the refused calls would have cost, at the average paid call so far."""
        budget = self.client.budget
        if budget.calls == 0:
            return 0.0
        return self.over_budget * budget.spent_usd / budget.calls
