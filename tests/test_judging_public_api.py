"""The public faces of evalkit.judging and evalkit.graders: nothing leaks, nothing goes missing."""

from __future__ import annotations

import types

import pytest

import evalkit.graders
import evalkit.judging

JUDGING = {
    "AggregationKinds", "DEFAULT_REPAIR_TEMPLATE", "Disagreement", "Exclusions",
    "FamilyPolicy", "Judge", "JudgeCall", "JudgeRegistry", "JudgeSpec", "Label",
    "LineageDecision", "OptionOrder", "PACKAGED_DIR", "PAIRWISE_VARIABLES", "Panel", "PanelSpec",
    "Parsed", "ParserFn", "SHOWN", "ScaleSpec", "Templates", "VARIABLES", "family_policy",
    "get_parser", "judge_calls", "judge_prompt", "parse_ab", "parse_json", "parse_leading",
    "parse_rating", "parse_spec", "parser", "parser_names", "present", "repair_messages",
    "shown_label", "to_verdict",
}  # fmt: skip
GRADERS = {
    "Contains", "ExactMatch", "GRADER_FAMILY", "Grade", "Grader", "JsonSchema", "NotContains",
    "Numeric", "Regex", "check_fields", "check_graders", "grader_kinds", "make_grader",
    "register_grader",
}  # fmt: skip


@pytest.mark.parametrize(
    ("module", "names"), [(evalkit.judging, JUDGING), (evalkit.graders, GRADERS)]
)
def test_public_names_are_pinned(module: types.ModuleType, names: set[str]) -> None:
    assert set(module.__all__) == names
    public = {n for n in vars(module) if not n.startswith("_") and n not in ("annotations",)}
    submodules = {n for n, v in vars(module).items() if isinstance(v, types.ModuleType)}
    assert public - submodules == names
