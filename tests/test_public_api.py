"""The public names of each package, pinned: nothing leaks out, nothing disappears unnoticed.

Changing a list here is a decision about the public API, to be made on purpose.
"""

import importlib

import pytest

PUBLIC = {
    "evalkit": ["EvalkitError", "Suite", "__version__", "gates", "graders"],
    "evalkit.gates": [
        "Gate", "GateInputs", "GateResult", "JudgesTrusted", "MeanScore", "NoRegression",
        "Outcome", "PassRate", "WinRate", "decide", "item_scores", "mcnemar_p", "not_applicable",
        "paired_bootstrap",
    ],
    "evalkit.panel": [
        "PanelRule", "aggregators", "combine_orders", "item_verdicts", "panel_verdicts",
        "register_aggregator",
    ],
    "evalkit.session": [
        "EvalSession", "RunInterrupts", "Suite",
        "finalize_run", "mark_interrupted", "new_run_id", "summary_lines",
    ],
    "evalkit.models": [
        "Budget", "Completion", "ConcurrencyLimits", "LiteLLMTransport", "LocalModel",
        "LocalModelServer", "ModelClient", "ModelRequest", "ModelTransport", "PromptStyle",
        "ResponseCache", "RetryPolicy", "UNKNOWN", "Validator", "cache_key", "estimate_cost", "family_of",
        "is_local", "local_model", "local_models", "parse_retry_after", "retry_delay",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_pinned(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(PUBLIC[name])
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr} is listed but missing"


def test_importing_evalkit_does_not_import_litellm() -> None:
    # Collection and --help must stay fast: litellm is imported on the first model call.
    import subprocess
    import sys

    code = "import sys, evalkit, evalkit.plugin, evalkit.cli; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
