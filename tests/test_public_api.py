"""evalkit's public names, pinned in one place: nothing leaks out, nothing disappears unnoticed.

Changing a list here is a decision about the public API, to be made on purpose. Plumbing that
evalkit's own packages share is imported from the private module that defines it; a package's
``__all__`` lists what a user writing suites, judges, graders or gates, or reading results, needs.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import evalkit

PUBLIC = {
    "evalkit": [
        "AppAnswer", "EvalkitError", "Suite", "__version__", "app", "gates", "graders", "recorded",
        "variant",
    ],
    "evalkit.audit": [
        "AuditReport", "Interval", "ReliabilityThresholds", "WinRateEstimate", "position_bias",
        "run_audit", "self_preference", "verbosity_bias",
    ],
    "evalkit.candidates": [],
    "evalkit.data": ["Comparison", "DiversityFigures", "compare", "compare_diversity", "diversity"],
    "evalkit.gates": [
        "Diversity", "Gate", "GateInputs", "GateResult", "JudgesTrusted", "Lineage",
        "MatchesProduction", "MeanScore", "NoRegression", "PassRate", "Robustness", "WinRate",
    ],
    "evalkit.graders": [
        "GRADERS", "Contains", "ExactMatch", "Grade", "Grader", "JsonSchema", "NotContains",
        "Numeric", "Regex", "make_grader",
    ],
    "evalkit.leaderboard": ["Leaderboard", "Standing", "leaderboard"],
    "evalkit.judging": ["JudgeRegistry", "JudgeSpec", "PARSERS", "PanelSpec", "Parsed"],
    "evalkit.models": [
        "Budget", "Completion", "ConcurrencyLimits", "ModelClient", "ModelRequest",
        "ResponseCache", "RetryPolicy", "family_of",
    ],
    "evalkit.probes": ["PROBE_COLUMNS", "ProbePair"],
    "evalkit.panel": ["AGGREGATORS", "PanelRule", "aggregator", "combine_orders", "item_verdicts"],
    "evalkit.records": ["RunRecord", "SuiteRecord", "read_judgments", "read_run"],
    "evalkit.report": ["RunData", "load_run", "render", "render_compare"],
    "evalkit.session": ["EvalSession", "summary_lines"],
}  # fmt: skip

#: The test kit keeps its own, separate list: it is not part of the library's surface.
TESTING = [
    "FakeProvider", "Fault", "JudgeParams", "Marker", "ModelBehaviour", "ReceivedRequest",
    "SimJudge", "WriterParams", "decide", "p_first", "parse_markers", "refused_base_url",
    "simulate_judgments", "simulate_pointwise", "simulate_probes", "write_answer",
]  # fmt: skip

#: Raised from 70 when three capabilities arrived together: candidates that are apps or recorded
#: answers (app, AppAnswer, recorded), the data gates (Lineage, MatchesProduction, Robustness)
#: and the leaderboard (Leaderboard, Standing, leaderboard); the session's plumbing left the
#: surface at the same time. Grow it only for what users call or read.
#: 76: the Diversity gate (the data figures became DiversityFigures) and the probe package's pair
#: and table columns (ProbePair, PROBE_COLUMNS), which a user's own probe source builds on.
#: 77: evalkit.variant, the candidate that is a model asked with its own prompt.
MAX_PUBLIC_NAMES = 77


def _packages() -> list[str]:
    """Every package of evalkit, except the test kit."""
    subpackages = pkgutil.iter_modules(evalkit.__path__)
    return sorted({"evalkit"} | {f"evalkit.{m.name}" for m in subpackages if m.ispkg} - {"evalkit.testing"})


def test_every_package_is_listed() -> None:
    assert _packages() == sorted(PUBLIC)


@pytest.mark.parametrize("name", [*sorted(PUBLIC), "evalkit.testing"])
def test_public_names_are_pinned_and_nothing_else_leaks(name: str) -> None:
    module = importlib.import_module(name)
    expected = TESTING if name == "evalkit.testing" else PUBLIC[name]
    assert sorted(module.__all__) == sorted(expected)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr} is listed but missing"
    # Subpackages and private modules are attributes too; pytest's rewriting adds "@" names.
    leaked = {
        n
        for n, v in vars(module).items()
        if not n.startswith(("_", "@"))
        and not isinstance(v, types.ModuleType)
        and n != "annotations"
        and n not in module.__all__
    }
    assert leaked == set()


def test_the_surface_stays_small() -> None:
    total = sum(len(importlib.import_module(name).__all__) for name in PUBLIC)
    assert total == sum(len(names) for names in PUBLIC.values())
    assert total <= MAX_PUBLIC_NAMES


def test_no_public_name_means_two_things() -> None:
    # A class exported under one name from two packages would be the same object, or a clash.
    seen: dict[str, object] = {}
    for name in PUBLIC:
        module = importlib.import_module(name)
        for attr in module.__all__:
            value = getattr(module, attr)
            if attr in seen and not isinstance(value, types.ModuleType):
                assert seen[attr] is value, f"{attr} names two different things"
            seen[attr] = value


def test_importing_evalkit_does_not_import_litellm() -> None:
    # Collection and --help must stay fast: litellm is imported on the first model call.
    code = "import sys, evalkit, evalkit.plugin, evalkit.cli; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_data_audit_needs_no_litellm_and_the_cli_loads_no_sklearn() -> None:
    # The layering itself is the import-linter contract; this pins the two costs a user sees.
    code = (
        "import sys, evalkit.cli; cli = sorted(m for m in ('sklearn', 'spellchecker') if m in sys.modules); "
        "import evalkit.data; print(cli, 'litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
