"""The usage columns of a row made of several calls: a judge call and its repair, or turns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.models import Completion


def usage_columns(completions: Sequence[Completion]) -> dict[str, Any]:
    """Latency, tokens and cost summed over ``completions``; cached only if every one was.

    No completions (no call was made) is all zeros and not cached.
    """
    return {
        "latency_s": sum(c.latency_s for c in completions),
        "input_tokens": sum(c.input_tokens for c in completions),
        "output_tokens": sum(c.output_tokens for c in completions),
        "cost_usd": sum(c.cost_usd for c in completions),
        "cached": bool(completions) and all(c.cached for c in completions),
        "text_repaired": any(c.text_repaired for c in completions),
    }
