"""The bias auditor: pure functions of the judgments table (WIP)."""

from evalkit.audit._intervals import Interval, wilson_interval
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
    "Interval",
    "WinRate",
    "aggregators",
    "combine_orders",
    "option_order_bias",
    "panel_verdicts",
    "position_bias",
    "register_aggregator",
    "rename_columns",
    "run_audit",
    "validate_judgments",
    "wilson_interval",
    "win_rate",
]
