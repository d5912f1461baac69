"""evalkit.data's public names, pinned; it needs no litellm, and `evalkit --help` no sklearn."""

from __future__ import annotations

import subprocess
import sys

import evalkit.data

PUBLIC = [
    "DESCRIPTORS", "ClassifierTest", "Comparison", "Descriptor", "DescriptorShift", "Diversity",
    "DiversityChange", "Estimate", "Neighbour", "Texts", "classifier_test", "compare",
    "compare_diversity", "compression_ratio", "delong_auc", "describe_direction",
    "descriptor_frames", "distinct_n", "diversity", "near_duplicate_flags", "openings", "read_texts",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert sorted(evalkit.data.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(evalkit.data, name)


def test_the_data_audit_needs_no_litellm_and_the_cli_loads_no_sklearn() -> None:
    # The layering itself is the import-linter contract; this pins the two costs a user sees.
    code = (
        "import sys, evalkit.cli; cli = sorted(m for m in ('sklearn', 'spellchecker') if m in sys.modules); "
        "import evalkit.data; print(cli, 'litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
