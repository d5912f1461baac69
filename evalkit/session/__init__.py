"""Running suites: resolving models, calling them, recording results, deciding gates.

The plugin's plumbing (signals, merging xdist workers' results) is imported from the private
modules that define it; what is listed here is what a program driving a run needs.
"""

from evalkit.session._session import EvalSession
from evalkit.session._summary import summary_lines

__all__ = [
    "EvalSession",
    "summary_lines",
]
