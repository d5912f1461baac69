"""Running suites: resolving models, calling them, recording results, deciding gates."""

from evalkit.session._finalize import finalize_run, mark_interrupted
from evalkit.session._session import EvalSession
from evalkit.session._signals import RunInterrupts
from evalkit.session._summary import summary_lines

__all__ = [
    "EvalSession",
    "RunInterrupts",
    "finalize_run",
    "mark_interrupted",
    "summary_lines",
]
