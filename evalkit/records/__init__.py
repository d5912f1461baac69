"""The data model shared by every part of evalkit: judgments, answers and the run folder.

A user reading results needs :func:`read_run` (the typed, versioned :class:`RunRecord` of a
run folder, one :class:`SuiteRecord` per suite) and :func:`read_judgments` (the judgments
table). The rest — row types, statuses, file names, writers — is shared plumbing that evalkit's
packages import from the private module defining it.
"""

from evalkit.records._run import RunRecord, SuiteRecord
from evalkit.records._store import read_judgments, read_run

__all__ = [
    "RunRecord",
    "SuiteRecord",
    "read_judgments",
    "read_run",
]
