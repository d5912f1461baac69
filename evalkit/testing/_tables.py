"""Simulated judgments tables with injected, known biases, for the audit's tests.

Pure, seeded numpy: the same arguments always give the same table, and a whole table is drawn
with array operations (no loop over rows), so power tests can run a hundred seeds in seconds.

Pairwise verdicts follow the judge model of :mod:`evalkit.testing._bias` (the one the fake
provider's judges follow), per judge j, item i, sample s and order o (AB or BA), with a latent
item quality drawn from a normal (``quality_mean``, ``quality_sd``) as the quality difference
and answer lengths uniform in [50, 350) tokens. Human labels, when asked for, follow the item's
quality alone.

Pointwise model (scores 1..5, options listed ``ascending`` and ``descending``)::

    score = clip(round(true_i + self_preference_j·[fam_c = fam_j] + verbosity_j·len_c/100
                       + score_sd_j · z), 1, 5)

and with probability ``option_primacy`` the score moves one step toward the option listed
first (down when ascending, up when descending).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalkit.testing._bias import JudgeParams, SimJudge, sigmoid, verdict_logit

_ORDERS = np.array(["AB", "BA"])


def panel_of_three(**biased: float) -> list[JudgeParams]:
    """Three judges of three families; ``biased`` sets attributes of the first (family alpha)."""
    return [
        SimJudge("judge-alpha", "alpha", **biased),
        SimJudge("judge-beta", "beta"),
        SimJudge("judge-gamma", "gamma"),
    ]


def simulate_judgments(
    judges: Sequence[JudgeParams],
    *,
    n_items: int = 300,
    seed: int = 0,
    n_samples: int = 1,
    candidate_family: str = "alpha",
    baseline_family: str = "beta",
    quality_mean: float = 0.0,
    quality_sd: float = 1.0,
    human_labels: bool = False,
    label_share: float = 1.0,
    suite: str = "sim",
) -> pd.DataFrame:
    """A pairwise judgments table: every judge, item and sample in both orders.

    With ``human_labels``, a random ``label_share`` of the items carry a human label.
    """
    rng = np.random.default_rng(seed)
    n_j, shape = len(judges), (len(judges), n_items, n_samples, 2)
    quality = rng.normal(quality_mean, quality_sd, n_items)
    len_c = rng.integers(50, 350, n_items)
    len_b = rng.integers(50, 350, n_items)

    def per_judge(values: Sequence[float | bool]) -> np.ndarray:
        return np.array(values, dtype=float).reshape(n_j, 1, 1, 1)

    fam = np.array([j.family for j in judges])
    own = (fam == candidate_family).astype(float) - (fam == baseline_family).astype(float)
    logit = np.stack(
        [
            verdict_logit(j, quality, own[k], (len_c - len_b).astype(float))
            for k, j in enumerate(judges)
        ]
    ).reshape(n_j, n_items, 1, 1)
    picks_candidate = rng.random(shape) < sigmoid(logit)
    noise = per_judge([j.noise for j in judges])
    if noise.any():  # drawn only when asked for, so that tables without noise stay as they were
        coin = rng.random(shape) < noise
        picks_candidate = np.where(coin, rng.random(shape) < 0.5, picks_candidate)
    verdict = np.where(picks_candidate, "candidate", "baseline").astype(object)
    verdict[rng.random(shape) < per_judge([j.tie_rate for j in judges])] = "tie"
    pi = per_judge([j.override_probability for j in judges])
    prefers_first = np.array([j.prefers_first for j in judges]).reshape(n_j, 1, 1, 1)
    # AB shows the candidate first; BA shows the baseline first.
    shown_first = np.array(["candidate", "baseline"], dtype=object).reshape(1, 1, 1, 2)
    shown_second = np.array(["baseline", "candidate"], dtype=object).reshape(1, 1, 1, 2)
    forced = np.where(prefers_first, shown_first, shown_second)
    override = rng.random(shape) < pi
    verdict = np.where(override, np.broadcast_to(forced, shape), verdict)
    failed = rng.random(shape) < per_judge([j.parse_failure_rate for j in judges])
    verdict[failed] = None

    j_idx, i_idx, s_idx, o_idx = (a.ravel() for a in np.indices(shape))
    table = pd.DataFrame(
        {
            "run_id": "sim-run",
            "suite": suite,
            "item_id": np.char.add("item-", i_idx.astype(str)),
            "mode": "pairwise",
            "candidate": "cand-model",
            "candidate_family": candidate_family,
            "baseline": "base-model",
            "baseline_family": baseline_family,
            "judge": np.array([j.name for j in judges])[j_idx],
            "judge_family": fam[j_idx],
            "order": _ORDERS[o_idx],
            "sample": s_idx,
            "verdict": verdict.ravel(),
            "parse_ok": ~failed.ravel(),
            "len_candidate": len_c[i_idx],
            "len_baseline": len_b[i_idx],
        }
    )
    if human_labels:
        latent = quality + rng.normal(0.0, 0.5, n_items)
        label = np.where(latent > 0.3, "candidate", np.where(latent < -0.3, "baseline", "tie"))
        labelled = label.astype(object)
        labelled[rng.random(n_items) >= label_share] = None
        table["human_label"] = labelled[i_idx]
    return table


def simulate_pointwise(
    judges: Sequence[JudgeParams],
    *,
    n_items: int = 300,
    seed: int = 0,
    candidate_family: str = "alpha",
    option_orders: bool = True,
    suite: str = "sim",
) -> pd.DataFrame:
    """A pointwise judgments table (scores 1..5), in both option listings when asked."""
    rng = np.random.default_rng(seed)
    listings = np.array(["ascending", "descending"]) if option_orders else np.array([""])
    n_j, shape = len(judges), (len(judges), n_items, listings.size)
    true = rng.uniform(1.0, 5.0, n_items)
    length = rng.integers(50, 350, n_items)

    def per_judge(attr: str) -> np.ndarray:
        return np.array([getattr(j, attr) for j in judges], dtype=float).reshape(n_j, 1, 1)

    own = np.array([j.family == candidate_family for j in judges], dtype=float).reshape(n_j, 1, 1)
    raw = (
        true[None, :, None]
        + per_judge("self_preference") * own
        + per_judge("verbosity") * (length / 100.0)[None, :, None]
        + per_judge("score_sd") * rng.normal(size=shape)
    )
    toward_first = np.where(listings == "ascending", -1.0, 1.0).reshape(1, 1, -1)
    raw = raw + toward_first * (rng.random(shape) < per_judge("option_primacy"))
    score = np.clip(np.round(raw), 1.0, 5.0)
    j_idx, i_idx, o_idx = (a.ravel() for a in np.indices(shape))
    table = pd.DataFrame(
        {
            "run_id": "sim-run",
            "suite": suite,
            "item_id": np.char.add("item-", i_idx.astype(str)),
            "mode": "pointwise",
            "candidate": "cand-model",
            "candidate_family": candidate_family,
            "judge": np.array([j.name for j in judges])[j_idx],
            "judge_family": np.array([j.family for j in judges])[j_idx],
            "sample": 0,
            "score": score.ravel(),
            "parse_ok": True,
            "len_candidate": length[i_idx],
        }
    )
    if option_orders:
        table["option_order"] = listings[o_idx]
    return table


#: Shorthands for :func:`pairwise_table`: "fail" is a call that errored, "junk" an answer that
#: could not be parsed, None an order that was never judged.
FAILED, UNPARSEABLE = "fail", "junk"


def pairwise_table(
    verdicts: Sequence[tuple[str, str, str | None, str | None]],
    *,
    families: dict[str, str] | None = None,
    sample: int = 0,
) -> pd.DataFrame:
    """A small hand-written pairwise table from ``(item, judge, verdict_AB, verdict_BA)``."""
    rows = []
    for item, judge, *by_order in verdicts:
        for order, verdict in zip(("AB", "BA"), by_order, strict=True):
            if verdict is None:
                continue
            rows.append(
                {
                    "run_id": "r",
                    "suite": "s",
                    "item_id": item,
                    "mode": "pairwise",
                    "candidate": "cand",
                    "candidate_family": "alpha",
                    "baseline": "base",
                    "baseline_family": "beta",
                    "judge": judge,
                    "judge_family": (families or {}).get(judge, judge),
                    "order": order,
                    "sample": sample,
                    "verdict": None if verdict in (FAILED, UNPARSEABLE) else verdict,
                    "parse_ok": verdict != UNPARSEABLE,
                    "error": "timeout: no answer" if verdict == FAILED else None,
                    "len_candidate": 100,
                    "len_baseline": 100,
                }
            )
    return pd.DataFrame(rows)


def simulate_many(seeds: Sequence[int], **kwargs: object) -> pd.DataFrame:
    """Several seeded pairwise tables stacked as one, each seed its own suite and judges.

    Judge names become ``"<judge>@<seed>"``, so a per-judge statistic computed once on the stack
    gives every seed's result in one vectorised pass.
    """
    tables = []
    for seed in seeds:
        table = simulate_judgments(seed=seed, suite=f"seed-{seed}", **kwargs)  # type: ignore[arg-type]
        table["judge"] = table["judge"] + f"@{seed}"
        tables.append(table)
    return pd.concat(tables, ignore_index=True)
