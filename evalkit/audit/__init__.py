"""The bias auditor: pure functions of the judgments table (WIP)."""

from evalkit.audit._agreement import judge_agreement, mean_kappa_by_judge, panel_agreement
from evalkit.audit._human import corrected_pass_rate, human_agreement
from evalkit.audit._intervals import Interval, wilson_interval
from evalkit.audit._kappa import CohenKappa, cohen_kappa, fleiss_kappa, krippendorff_alpha
from evalkit.audit._orders import combine_orders, option_order_bias, position_bias
from evalkit.audit._panel import (
    Aggregator,
    WinRate,
    aggregators,
    panel_verdicts,
    register_aggregator,
    win_rate,
)
from evalkit.audit._report import AuditReport, run_audit
from evalkit.audit._self_preference import self_preference
from evalkit.audit._table import rename_columns, validate_judgments
from evalkit.audit._verbosity import length_slope, verbosity_bias

__all__ = [
    "Aggregator",
    "AuditReport",
    "CohenKappa",
    "Interval",
    "WinRate",
    "aggregators",
    "cohen_kappa",
    "combine_orders",
    "corrected_pass_rate",
    "fleiss_kappa",
    "human_agreement",
    "judge_agreement",
    "krippendorff_alpha",
    "length_slope",
    "mean_kappa_by_judge",
    "option_order_bias",
    "panel_agreement",
    "panel_verdicts",
    "position_bias",
    "register_aggregator",
    "rename_columns",
    "run_audit",
    "self_preference",
    "validate_judgments",
    "verbosity_bias",
    "wilson_interval",
    "win_rate",
]
