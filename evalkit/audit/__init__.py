"""The bias auditor: how far each judge can be trusted, measured from the judgments table alone.

Every function here is a pure function of the judgments table (a pandas DataFrame with the
columns of :data:`evalkit.records.JUDGMENT_COLUMNS`), so the audit runs on judgments recorded
by evalkit or by anything else (see :func:`rename_columns`); it never calls a model.

- Input: :func:`validate_judgments`, :func:`rename_columns` — one clear
  :class:`~evalkit.errors.UsageError` for a bad table.
- The panel's verdicts come from :mod:`evalkit.panel` (one rule for the whole run);
  :func:`win_rate` counts them.
- Biases: :func:`position_bias` (and :func:`option_order_bias` for pointwise rubrics listed
  both ways, column ``option_order``), :func:`self_preference`, :func:`verbosity_bias`,
  :func:`length_slope`.
- Agreement: :func:`judge_agreement`, :func:`kappa_with_others`, :func:`panel_agreement`, and
  the coefficients themselves (:func:`cohen_kappa`, :func:`fleiss_kappa`,
  :func:`krippendorff_alpha`); with human labels :func:`human_agreement` and
  :func:`corrected_pass_rate`.
- Verdicts: :func:`judge_reliability` against :class:`ReliabilityThresholds`;
  :func:`run_audit` does everything at once and returns an :class:`AuditReport`.

Every rate comes with its n and an interval (:class:`Interval`, :func:`wilson_interval`).

Deterministic graders' rows (``judge_family == "deterministic"``) may share the table, but a
grader is not a judge: every statistic here leaves them out (no position bias, self-preference,
agreement, reliability verdict or panel vote for a grader).
"""

from evalkit.audit._agreement import judge_agreement, kappa_with_others, panel_agreement
from evalkit.audit._human import corrected_pass_rate, human_agreement
from evalkit.audit._intervals import Interval, wilson_interval
from evalkit.audit._kappa import CohenKappa, cohen_kappa, fleiss_kappa, krippendorff_alpha
from evalkit.audit._orders import option_order_bias, position_bias
from evalkit.audit._panel import WinRate, win_rate
from evalkit.audit._reliability import ReliabilityThresholds, judge_reliability
from evalkit.audit._report import AuditReport, run_audit
from evalkit.audit._self_preference import self_preference
from evalkit.audit._table import rename_columns, validate_judgments
from evalkit.audit._verbosity import length_slope, verbosity_bias

__all__ = [
    "AuditReport",
    "CohenKappa",
    "Interval",
    "ReliabilityThresholds",
    "WinRate",
    "cohen_kappa",
    "corrected_pass_rate",
    "fleiss_kappa",
    "human_agreement",
    "judge_agreement",
    "judge_reliability",
    "kappa_with_others",
    "krippendorff_alpha",
    "length_slope",
    "option_order_bias",
    "panel_agreement",
    "position_bias",
    "rename_columns",
    "run_audit",
    "self_preference",
    "validate_judgments",
    "verbosity_bias",
    "wilson_interval",
    "win_rate",
]
