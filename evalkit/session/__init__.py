"""Running suites: resolving models, calling them, recording results, deciding gates."""

from evalkit.session._session import DEFAULT_BASELINE, DEFAULT_CANDIDATE, EvalSession, new_run_id
from evalkit.session._suite import Suite
from evalkit.session._summary import summary_lines

__all__ = [
    "DEFAULT_BASELINE",
    "DEFAULT_CANDIDATE",
    "EvalSession",
    "Suite",
    "new_run_id",
    "summary_lines",
]
