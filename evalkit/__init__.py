"""evalkit: an LLM evaluation harness whose judge panels are audited before they gate a release.

Suites are pytest modules; see :class:`Suite`. Everything else is reached through the
subpackages: ``evalkit.gates``, ``evalkit.audit``, ``evalkit.judging``, ``evalkit.models``.
"""

from evalkit import gates, graders
from evalkit._pytest_tests import Suite
from evalkit._version import __version__
from evalkit.candidates._answer import AppAnswer
from evalkit.candidates._app import app
from evalkit.candidates._recorded import recorded
from evalkit.candidates._variant import variant
from evalkit.errors import EvalkitError

__all__ = [
    "AppAnswer",
    "EvalkitError",
    "Suite",
    "__version__",
    "app",
    "gates",
    "graders",
    "recorded",
    "variant",
]
