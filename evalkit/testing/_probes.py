"""A whole probe table drawn from simulated judges, without a request: for the probe statistics.

Each item is a pair whose answer ``a`` is better by a quality difference drawn from a standard
normal (so ``b`` is better about half the time); the panel's preference is the better answer,
so each probe edits the worse one (as :func:`evalkit.probes.edit_pair` does). Every judge
judges the unedited pair and each probe's edited pair in both orders, each verdict an
independent draw of the model of :mod:`evalkit.testing._bias` (as the per-request judges of
:func:`~evalkit.testing._sim.decide` draw them: the swapped or edited prompt is a new draw);
an edit changes nothing the model sees (no quality, no length) except its cue, which the judge
follows with its ``follow_rate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalkit.probes import PROBE_COLUMNS
from evalkit.probes._edits import UNEDITED
from evalkit.testing._bias import JudgeParams, sigmoid, verdict_logit


def _draw(
    params: JudgeParams, quality: np.ndarray, order: str, rng: np.random.Generator
) -> np.ndarray:
    """One verdict per item (``a``, ``b`` or ``tie``), for ``order`` AB (a first) or BA."""
    n = len(quality)
    u_override, u_tie, u_noise, u_coin, u_pick = rng.random((5, n))
    shown = quality if order == "AB" else -quality
    picks_first = u_pick < sigmoid(verdict_logit(params, shown, np.zeros(n), np.zeros(n)))
    picks_first = np.where(u_noise < params.noise, u_coin < 0.5, picks_first)
    forced = u_override < params.override_probability
    picks_first = np.where(forced, params.prefers_first, picks_first)
    first, second = ("a", "b") if order == "AB" else ("b", "a")
    out = np.where(picks_first, first, second).astype(object)
    out[(u_tie < params.tie_rate) & ~forced] = "tie"
    return out


def simulate_probes(
    judges: Sequence[JudgeParams],
    *,
    probes: Sequence[str],
    n_items: int,
    seed: int = 0,
    suite: str = "sim",
) -> pd.DataFrame:
    """A probe table (:data:`evalkit.probes.PROBE_COLUMNS`) of ``judges`` on ``n_items`` pairs.

    Holds the ``unedited`` rows and one edited pair per probe and item, both orders, one
    sample, every call ``ok``. The same arguments give the same table.
    """
    rng = np.random.default_rng(seed)
    quality = rng.standard_normal(n_items)
    worse = np.where(quality >= 0, "b", "a").astype(object)
    items = np.array([f"item-{i}" for i in range(n_items)], dtype=object)
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("item_id", "probe", "judge",
                                                             "judge_family", "order", "target",
                                                             "verdict")}  # fmt: skip
    for params in judges:
        for probe in (UNEDITED, *probes):
            target = worse if probe != UNEDITED else np.full(n_items, "a", dtype=object)
            for order in ("AB", "BA"):
                verdict = _draw(params, quality, order, rng)
                follow = rng.random(n_items) < params.follow_rate(probe)
                drawn = {
                    "item_id": items,
                    "target": target,
                    "verdict": np.where(follow, target, verdict),
                }
                for name, value in (
                    ("probe", probe),
                    ("judge", params.name),
                    ("judge_family", params.family),
                    ("order", order),
                ):
                    drawn[name] = np.full(n_items, value, dtype=object)
                for name, values in drawn.items():
                    columns[name].append(values)
    table = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    constants: dict[str, Any] = {
        "run_id": "sim", "suite": suite, "kind": "probe", "sample": 0, "status": "ok",
        "raw_output": None, "error": None, "prompt_hash": "", "cached": False,
        "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
    }  # fmt: skip
    return table.assign(**constants)[list(PROBE_COLUMNS)]
