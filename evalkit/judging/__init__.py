"""Judging: judge and panel specs, prompt templates, verdict parsers and pairwise swaps.

- Specs (:class:`JudgeSpec`, :class:`PanelSpec`) are YAML files in ``judges/``, found by
  :class:`JudgeRegistry` (the project's folder first, then evalkit's packaged one) and
  validated before any call: :meth:`JudgeRegistry.panel` returns a :class:`Panel` of
  :class:`Judge` values whose templates and parsers are known to work.
- A judge judges in one mode: ``pairwise`` (A / B / tie, always in both orders, mapped back to
  the original labels by :func:`to_verdict`), ``pointwise`` (a score on the spec's scale) or
  ``reference`` (a score given a reference answer). :meth:`Judge.read` parses a reply and
  checks it against the mode and the scale; it never guesses.
- Parsers are registered by name with :func:`parser` (built-ins: ``ab``, ``rating``, ``json``,
  ``leading``) and found with :func:`get_parser`.
"""

from evalkit.judging._calls import JudgeCall, judge_calls, judge_prompt, repair_messages
from evalkit.judging._judge import PAIRWISE_VARIABLES, SHOWN, VARIABLES, Judge, Panel
from evalkit.judging._lineage import Exclusions, LineageDecision, family_policy
from evalkit.judging._pairwise import present, shown_label, to_verdict
from evalkit.judging._parsers import (
    Label,
    Parsed,
    ParserFn,
    get_parser,
    parse_ab,
    parse_json,
    parse_leading,
    parse_rating,
    parser,
    parser_names,
)
from evalkit.judging._registry import AggregationKinds, JudgeRegistry
from evalkit.judging._spec import (
    DEFAULT_REPAIR_TEMPLATE,
    Disagreement,
    FamilyPolicy,
    JudgeSpec,
    OptionOrder,
    PanelSpec,
    ScaleSpec,
    parse_spec,
)
from evalkit.judging._templates import PACKAGED_DIR, Templates

__all__ = [
    "DEFAULT_REPAIR_TEMPLATE",
    "PACKAGED_DIR",
    "PAIRWISE_VARIABLES",
    "SHOWN",
    "VARIABLES",
    "AggregationKinds",
    "Disagreement",
    "Exclusions",
    "FamilyPolicy",
    "Judge",
    "JudgeCall",
    "JudgeRegistry",
    "JudgeSpec",
    "Label",
    "LineageDecision",
    "OptionOrder",
    "Panel",
    "PanelSpec",
    "Parsed",
    "ParserFn",
    "ScaleSpec",
    "Templates",
    "family_policy",
    "get_parser",
    "judge_calls",
    "judge_prompt",
    "parse_ab",
    "parse_json",
    "parse_leading",
    "parse_rating",
    "parse_spec",
    "parser",
    "parser_names",
    "present",
    "repair_messages",
    "shown_label",
    "to_verdict",
]
