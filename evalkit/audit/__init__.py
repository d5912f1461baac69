"""The bias auditor: how far each judge can be trusted, measured from the judgments table alone.

Every function here is a pure function of the judgments table (a pandas DataFrame with the
columns of the judgments table, see ``evalkit.records``), so the audit runs on judgments
recorded by evalkit or by anything else (``evalkit audit FILE``); it never calls a model.

- :func:`run_audit` does everything at once and returns an :class:`AuditReport`: the panel's
  win rate (a :class:`WinRateEstimate`, counted from :mod:`evalkit.panel`'s item verdicts),
  each judge's biases and agreement, and a reliability verdict per judge against
  :class:`ReliabilityThresholds`.
- The three biases on their own: :func:`position_bias`, :func:`self_preference`,
  :func:`verbosity_bias`.

Every rate comes with its n and an :class:`Interval`.

Deterministic graders' rows (``judge_family == "deterministic"``) may share the table, but a
grader is not a judge: every statistic here leaves them out (no position bias, self-preference,
agreement, reliability verdict or panel vote for a grader).
"""

from evalkit.audit._intervals import Interval
from evalkit.audit._orders import position_bias
from evalkit.audit._panel import WinRateEstimate
from evalkit.audit._reliability import ReliabilityThresholds
from evalkit.audit._report import AuditReport, run_audit
from evalkit.audit._self_preference import self_preference
from evalkit.audit._verbosity import verbosity_bias

__all__ = [
    "AuditReport",
    "Interval",
    "ReliabilityThresholds",
    "WinRateEstimate",
    "position_bias",
    "run_audit",
    "self_preference",
    "verbosity_bias",
]
