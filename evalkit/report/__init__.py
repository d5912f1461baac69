"""The HTML report: a pure render of a run folder, and a comparison of two runs.

- :func:`load_run` reads a run folder into :class:`RunData`;
- :func:`render` turns it into one self-contained HTML page;
- :func:`render_compare` puts two runs side by side;
- :func:`redact` is the credential scrubber every shown string goes through.
"""

from evalkit.report._compare import render_compare
from evalkit.report._load import RunData, load_run
from evalkit.report._render import render

__all__ = [
    "RunData",
    "load_run",
    "render",
    "render_compare",
]
