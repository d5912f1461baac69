"""Active tests of the judges: controlled bias probes and a qualification exam with known answers.

Each probe or exam question is a :class:`ProbePair` — two answers to one of the suite's
questions, built so that the verdict a fair judge should give is known (an edit that should not
move it, or a better answer that should win). The session has every judge judge each pair in
both orders; the rows land in the probe table (:data:`PROBE_COLUMNS`) that the statistics read.
"""

from evalkit.probes._pair import PROBE_COLUMNS, ProbePair

__all__ = ["PROBE_COLUMNS", "ProbePair"]
