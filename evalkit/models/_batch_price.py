"""What a call costs through a provider's batch API: litellm's batch price, else half the list.

litellm's price table carries batch prices (``input_cost_per_token_batches``,
``output_cost_per_token_batches``) for some models; OpenAI and Anthropic both price their
batch APIs at 50 % of the interactive price, so for a model without a batch price in the
table evalkit assumes that half, and says so (:attr:`BatchPrice.assumed`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Final

from evalkit.models._litellm import estimate_cost, load_litellm

#: The share of the interactive price assumed when litellm lists no batch price.
ASSUMED_SHARE: Final = 0.5


@dataclasses.dataclass(frozen=True, slots=True)
class BatchPrice:
    """The batch cost of a call; ``assumed`` when it is half the interactive price."""

    cost_usd: float | None
    assumed: bool


def batch_cost(model: str, input_tokens: int, output_tokens: int) -> BatchPrice:
    """Return what one call of ``model`` costs through a batch API, in USD.

    ``cost_usd`` is None when litellm has no price at all for the model (as
    :func:`~evalkit.models._litellm.estimate_cost`). Never raises.
    """
    listed = _listed(model)
    if listed is not None:
        per_in, per_out = listed
        return BatchPrice(per_in * input_tokens + per_out * output_tokens, assumed=False)
    full = estimate_cost(model, input_tokens, output_tokens)
    return BatchPrice(None if full is None else full * ASSUMED_SHARE, assumed=True)


def _listed(model: str) -> tuple[float, float] | None:
    """Return the batch prices per input and output token litellm lists for ``model``."""
    try:
        info = load_litellm().get_model_info(model=model)
        per_in = float(info.get("input_cost_per_token_batches"))
        per_out = float(info.get("output_cost_per_token_batches"))
    except Exception:  # no model info, or no batch price in it
        return None
    if not (math.isfinite(per_in) and math.isfinite(per_out) and per_in >= 0 and per_out >= 0):
        return None
    return per_in, per_out
