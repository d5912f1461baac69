"""Release gates: pass, fail or inconclusive, decided on intervals."""

from evalkit.gates._gates import Gate, GateInputs, GateResult, Outcome, WinRate, decide

__all__ = ["Gate", "GateInputs", "GateResult", "Outcome", "WinRate", "decide"]
