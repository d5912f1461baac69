"""Release gates: pass, fail or inconclusive, decided on intervals."""

from evalkit.gates._data import Lineage, MatchesProduction, Robustness
from evalkit.gates._diversity import Diversity
from evalkit.gates._gates import Gate, GateInputs, GateResult, WinRate
from evalkit.gates._regression import NoRegression
from evalkit.gates._scores import MeanScore, PassRate
from evalkit.gates._trust import JudgesTrusted

__all__ = [
    "Diversity",
    "Gate",
    "GateInputs",
    "GateResult",
    "JudgesTrusted",
    "Lineage",
    "MatchesProduction",
    "MeanScore",
    "NoRegression",
    "PassRate",
    "Robustness",
    "WinRate",
]
