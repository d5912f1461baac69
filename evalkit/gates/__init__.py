"""Release gates: pass, fail or inconclusive, decided on intervals."""

from evalkit.gates._gates import (
    Gate,
    GateInputs,
    GateResult,
    Outcome,
    WinRate,
    decide,
    not_applicable,
)
from evalkit.gates._regression import NoRegression, item_scores, mcnemar_p, paired_bootstrap
from evalkit.gates._scores import MeanScore, PassRate
from evalkit.gates._trust import JudgesTrusted

__all__ = [
    "Gate",
    "GateInputs",
    "GateResult",
    "JudgesTrusted",
    "MeanScore",
    "NoRegression",
    "Outcome",
    "PassRate",
    "WinRate",
    "decide",
    "item_scores",
    "mcnemar_p",
    "not_applicable",
    "paired_bootstrap",
]
