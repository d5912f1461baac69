"""The whole audit of a judgments table in one value: :func:`run_audit` → :class:`AuditReport`."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from evalkit.audit._intervals import finite_or_none
from evalkit.audit._orders import position_bias
from evalkit.audit._panel import WinRate, panel_verdicts, win_rate
from evalkit.audit._table import validate_judgments


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a DataFrame as JSON-ready records: NaN, NA and infinities become None."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): _plain(v) for k, v in row.items()} for row in records]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return finite_or_none(float(value))
    return value if isinstance(value, str) else str(value)


@dataclasses.dataclass(frozen=True, eq=False)
class AuditReport:
    """Everything the audit measured on one judgments table (preliminary: position and panel)."""

    confidence: float
    position: pd.DataFrame
    panel: pd.DataFrame
    win_rate: WinRate

    def summary_lines(self) -> list[str]:
        """Return a compact plain-text summary for the terminal."""
        wr = self.win_rate
        lines = [
            f"win rate {wr.rate:.3f} [{wr.interval.low:.3f}, {wr.interval.high:.3f}] "
            f"(n={wr.n}, abstained {wr.abstained})"
        ]
        for row in self.position.itertuples():
            lines.append(
                f"{row.judge}: flip rate {row.flip_rate:.3f} (n={row.n_items}), first-position "
                f"{row.first_position_rate:.3f} [{row.fp_low:.3f}, {row.fp_high:.3f}] "
                f"p={row.p_value:.3g}"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (no NaN: missing values are None)."""
        return {
            "confidence": self.confidence,
            "position": frame_records(self.position),
            "panel": frame_records(self.panel),
            "win_rate": self.win_rate.to_dict(),
            "summary": self.summary_lines(),
        }


def run_audit(table: pd.DataFrame, *, confidence: float = 0.95, seed: int = 0) -> AuditReport:
    """Audit a judgments table (preliminary: position bias, panel and win rate)."""
    valid = validate_judgments(table)
    n_judges = int(valid["judge"].nunique())
    panel = panel_verdicts(valid, quorum=max(1, n_judges // 2 + 1))
    return AuditReport(
        confidence=confidence,
        position=position_bias(valid, confidence),
        panel=panel,
        win_rate=win_rate(panel, confidence),
    )
