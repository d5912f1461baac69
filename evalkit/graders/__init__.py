r"""Deterministic graders: checks of an answer that need no model.

Declare them on a suite (``graders=[ExactMatch(), Regex(r"^\d+$")]``) or build them from data
with :func:`make_grader` (``{"kind": "regex", "pattern": ...}``). Kinds live in :data:`GRADERS`:
register your own with ``@GRADERS.register("kind")``, or from a separate package through the
entry-point group ``evalkit.graders``. Every grader grades every answer of the suite (the
candidate's and the baseline's), and each result is one row of the judgments table:

- ``judge`` = the grader's name, ``judge_family`` = ``"deterministic"``;
- ``mode`` = ``"reference"`` when the grader reads a dataset field (an expected answer),
  else ``"pointwise"``;
- ``candidate`` / ``candidate_family`` = the model whose answer was graded (``baseline`` empty),
  as for every pointwise row;
- ``score`` = 1.0 (pass) or 0.0 (fail), ``parse_ok`` true, ``raw_output`` = the grader's
  detail ("expected '12', got 13"), ``prompt_hash`` = a hash of the grader's settings;
- an answer that is missing (its call failed) gives a row with ``error`` set and no score.

So a gate can combine them with judges: e.g. the pass rate of ``exact_match`` over the
candidate's rows. Judge statistics (the audit, panel scores) should leave grader rows out:
select ``judge_family != "deterministic"``.
"""

from evalkit.graders._base import GRADERS, Grade, Grader, make_grader
from evalkit.graders._builtin import Contains, ExactMatch, JsonSchema, NotContains, Numeric, Regex

__all__ = [
    "GRADERS",
    "Contains",
    "ExactMatch",
    "Grade",
    "Grader",
    "JsonSchema",
    "NotContains",
    "Numeric",
    "Regex",
    "make_grader",
]
