"""The bias auditor: pure functions of the judgments table (WIP)."""

from evalkit.audit._agreement import judge_agreement, mean_kappa_by_judge, panel_agreement
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
from evalkit.audit._table import rename_columns, validate_judgments

__all__ = [
    "Aggregator",
    "AuditReport",
    "CohenKappa",
    "Interval",
    "WinRate",
    "aggregators",
    "cohen_kappa",
    "combine_orders",
    "fleiss_kappa",
    "judge_agreement",
    "krippendorff_alpha",
    "mean_kappa_by_judge",
    "option_order_bias",
    "panel_agreement",
    "panel_verdicts",
    "position_bias",
    "register_aggregator",
    "rename_columns",
    "run_audit",
    "validate_judgments",
    "wilson_interval",
    "win_rate",
]
