"""Running suites: resolving models, calling them, recording results, deciding gates."""

from evalkit._runid import new_run_id
from evalkit.session._finalize import finalize_run
from evalkit.session._session import DEFAULT_BASELINE, DEFAULT_CANDIDATE, EvalSession
from evalkit.session._suite import Suite
from evalkit.session._summary import summary_lines

__all__ = [
    "DEFAULT_BASELINE",
    "DEFAULT_CANDIDATE",
    "EvalSession",
    "Suite",
    "finalize_run",
    "new_run_id",
    "summary_lines",
]
