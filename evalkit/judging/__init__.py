"""Judging: turn (item, answers) into judge calls and judge answers into verdict rows."""

from evalkit.judging._pairwise import present, shown_label, to_verdict
from evalkit.judging._parsers import Label, Parsed, ParserFn, get_parser, parse_ab, parser
from evalkit.judging._registry import PAIRWISE_VARIABLES, Judge, JudgeRegistry, Panel
from evalkit.judging._spec import FamilyPolicy, JudgeSpec, PanelSpec, parse_spec
from evalkit.judging._templates import PACKAGED_DIR, Templates

__all__ = [
    "PACKAGED_DIR",
    "PAIRWISE_VARIABLES",
    "FamilyPolicy",
    "Judge",
    "JudgeRegistry",
    "JudgeSpec",
    "Label",
    "Panel",
    "PanelSpec",
    "Parsed",
    "ParserFn",
    "Templates",
    "get_parser",
    "parse_ab",
    "parse_spec",
    "parser",
    "present",
    "shown_label",
    "to_verdict",
]
