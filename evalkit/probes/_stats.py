"""How far each probe moves each judge: robustness, shift toward the edit, and a test against noise.

Every edited verdict is compared with the same judge's verdict on the unedited pair, in the
same order and sample (the probe table's ``unedited`` rows). Per (judge, probe):

- **robustness rate** — the share of those verdicts left unchanged by the edit (CALM's
  robustness rate), with a Wilson interval;
- **shift** — the share that moved toward the edited answer minus the share that moved away
  from it, on the scale target > tie > other answer, with a percentile bootstrap interval over
  items (a pair's two orders move together, so items are the resampled units);
- **swap agreement** — the noise floor: how often the judge's two orders of the *unedited*
  pairs agree (as the audit's consistency, on the probed items). A judge whose verdicts change
  under an edit about as often as they change under a mere swap is noisy, not biased;
- **flagged** — the shift's interval excludes 0 *and* the robustness rate is significantly
  below the swap agreement (a one-sided two-proportion z-test at ``alpha``).

:func:`probe_checks` turns these into reliability check rows (``check="probe:<name>"``) that the
audit's verdict counts like its own. Every function is pure and vectorised over the table;
scipy and statsmodels are imported on first use, so that importing evalkit stays fast.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from evalkit.audit._intervals import wilson_bounds
from evalkit.audit._reliability import CHECK_COLUMNS
from evalkit.config import ReliabilityThresholds
from evalkit.probes._edits import UNEDITED

#: Columns of :func:`probe_stats`.
STATS_COLUMNS: Final = (
    "judge", "probe", "n", "n_items", "robustness", "robustness_low", "robustness_high",
    "shift", "shift_low", "shift_high", "n_toward", "n_away", "swap_agreement", "n_swap",
    "p_value", "flagged",
)  # fmt: skip
_KEY: Final = ["suite", "item_id", "judge", "order", "sample"]


def _valid(table: pd.DataFrame) -> pd.DataFrame:
    ok = (table["status"] == "ok") & table["verdict"].isin(["a", "b", "tie"])
    return table.loc[ok & (table["kind"] == "probe")]


def _value(verdict: pd.Series, target: pd.Series) -> np.ndarray:
    """+1 for the target, -1 for the other answer, 0 for a tie: the scale a shift moves on."""
    return np.where(verdict == "tie", 0, np.where(verdict == target, 1, -1))


def paired_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Each valid edited verdict beside the same judge's unedited one (same order and sample).

    Returns one row per such pair of verdicts: the key columns, ``probe``, ``target``,
    ``edited``, ``unedited``, and ``move`` (+1 toward the target, -1 away, 0 unchanged in
    value; a change between the answers through no tie counts as a move of one step).
    """
    valid = _valid(table)
    base = valid.loc[valid["probe"] == UNEDITED, [*_KEY, "verdict"]]
    base = base.drop_duplicates(_KEY).rename(columns={"verdict": "unedited"})
    edited = valid.loc[valid["probe"] != UNEDITED, [*_KEY, "probe", "target", "verdict"]]
    pairs = edited.rename(columns={"verdict": "edited"}).merge(base, on=_KEY, how="inner")
    after = _value(pairs["edited"], pairs["target"])
    before = _value(pairs["unedited"], pairs["target"])
    return pairs.assign(move=np.sign(after - before))


def swap_agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Per judge: how often its two orders of an unedited pair agree (``agree``, ``n``)."""
    valid = _valid(table)
    base = valid.loc[valid["probe"] == UNEDITED]
    wide = base.pivot_table(
        index=["suite", "item_id", "judge", "sample"], columns="order", values="verdict",
        aggfunc="first",
    )  # fmt: skip
    if not {"AB", "BA"} <= set(wide.columns):
        return pd.DataFrame({"judge": pd.Series(dtype=str), "agree": 0, "n": 0})
    both = wide.dropna(subset=["AB", "BA"])
    agree = (both["AB"] == both["BA"]).groupby(level="judge").agg(["sum", "size"])
    return pd.DataFrame(
        {"judge": agree.index.astype(str), "agree": agree["sum"].to_numpy(),
         "n": agree["size"].to_numpy()}
    )  # fmt: skip


def _bootstrap_shift(
    moves: np.ndarray, counts: np.ndarray, n_boot: int, confidence: float, seed: int
) -> tuple[float, float]:
    """Percentile interval of sum(moves)/sum(counts) over items resampled with replacement."""
    n = len(moves)
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n, size=(n_boot, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = moves[drawn].sum(axis=1) / counts[drawn].sum(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.nanpercentile(replicates, [tail, 100.0 - tail])
    return float(low), float(high)


def probe_stats(
    table: pd.DataFrame,
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Robustness, shift and the test against swap noise per (judge, probe); see the module.

    ``table`` is a probe table (:data:`evalkit.probes.PROBE_COLUMNS`) holding each probed
    pair's ``unedited`` rows beside its edited ones; exam rows are left out. Returns
    :data:`STATS_COLUMNS`, one row per (judge, probe) with at least one paired verdict,
    sorted by judge and probe. The bootstrap of each (judge, probe) is seeded by ``seed`` and
    the names, so the same table gives the same intervals.
    """
    pairs = paired_verdicts(table)
    pairs = pairs.assign(
        unchanged=(pairs["edited"] == pairs["unedited"]).astype(int),
        toward=(pairs["move"] > 0).astype(int),
        away=(pairs["move"] < 0).astype(int),
    )
    # Per item first: the bootstrap resamples items, and everything else is a sum of them.
    per_item = (
        pairs.groupby(["judge", "probe", "suite", "item_id"], sort=True)
        .agg(move=("move", "sum"), count=("move", "size"), unchanged=("unchanged", "sum"),
             toward=("toward", "sum"), away=("away", "sum"))
        .reset_index()
    )  # fmt: skip
    out = (
        per_item.groupby(["judge", "probe"], sort=True)
        .agg(n=("count", "sum"), n_items=("count", "size"), unchanged=("unchanged", "sum"),
             moved=("move", "sum"), n_toward=("toward", "sum"), n_away=("away", "sum"))
        .reset_index()
    )  # fmt: skip
    if out.empty:
        return pd.DataFrame(columns=list(STATS_COLUMNS))
    bounds = np.empty((len(out), 2))
    sizes = out["n_items"].to_numpy(int)
    ends = np.cumsum(sizes)
    moves, counts = per_item["move"].to_numpy(float), per_item["count"].to_numpy(float)
    for i, (judge, probe, end) in enumerate(zip(out["judge"], out["probe"], ends, strict=True)):
        start = end - sizes[i]
        key = zlib.crc32(f"{judge}\0{probe}".encode())
        bounds[i] = _bootstrap_shift(
            moves[start:end], counts[start:end], n_boot, confidence, seed ^ key
        )
    swaps = swap_agreement(table).set_index("judge").reindex(out["judge"])
    out["agree"] = swaps["agree"].fillna(0).to_numpy(int)
    out["n_swap"] = swaps["n"].fillna(0).to_numpy(int)
    out["robustness"] = out["unchanged"] / out["n"]
    _, low, high = wilson_bounds(out["unchanged"], out["n"], confidence)
    out["robustness_low"], out["robustness_high"] = low, high
    out["shift"] = out["moved"] / out["n"]
    out["shift_low"], out["shift_high"] = bounds[:, 0], bounds[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["swap_agreement"] = np.where(out["n_swap"] > 0, out["agree"] / out["n_swap"], np.nan)
    out["p_value"] = below_p_value(out["unchanged"], out["n"], out["agree"], out["n_swap"])
    excludes_zero = (out["shift_low"] > 0) | (out["shift_high"] < 0)
    out["flagged"] = excludes_zero & (out["p_value"] < alpha)
    return out[list(STATS_COLUMNS)].reset_index(drop=True)


def below_p_value(
    unchanged: pd.Series, n: pd.Series, agree: pd.Series, n_swap: pd.Series
) -> np.ndarray:
    """One-sided p-value that the robustness rate is below the swap agreement (pooled z-test).

    1.0 where either side has no data, or where the pooled rate is 0 or 1 (no variance: the
    two rates are equal).
    """
    from scipy.stats import norm

    x1, n1 = np.asarray(unchanged, float), np.asarray(n, float)
    x2, n2 = np.asarray(agree, float), np.asarray(n_swap, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    p = norm.cdf(z)
    return np.where((n1 > 0) & (n2 > 0) & (se > 0), p, 1.0)


def probe_checks(stats: pd.DataFrame, thresholds: ReliabilityThresholds) -> pd.DataFrame:
    """Reliability check rows (:data:`CHECK_COLUMNS`), one per (judge, probe) of ``stats``.

    - fewer than ``min_probe_verdicts`` paired verdicts: ``not measured``;
    - flagged, and the shift's interval lies wholly beyond ``±max_probe_shift``: ``untrusted``;
    - flagged, the interval reaching back within the tolerance: ``questionable``;
    - otherwise ``ok``. ``max_probe_shift`` None switches the checks off (no rows).
    """
    limit = thresholds.max_probe_shift
    if limit is None or stats.empty:
        return pd.DataFrame(columns=list(CHECK_COLUMNS))
    few = stats["n"] < thresholds.min_probe_verdicts
    beyond = (stats["shift_low"] > limit) | (stats["shift_high"] < -limit)
    status = np.where(
        few, "not measured",
        np.where(stats["flagged"], np.where(beyond, "untrusted", "questionable"), "ok"),
    )  # fmt: skip
    records = stats.to_dict("records")
    messages = [_message(row, str(s), limit) for row, s in zip(records, status, strict=True)]
    return pd.DataFrame({
        "judge": stats["judge"], "mode": "pairwise", "check": "probe:" + stats["probe"],
        "status": status, "estimate": stats["shift"], "low": stats["shift_low"],
        "high": stats["shift_high"], "limit": f"beyond ±{limit}", "message": messages,
    })[list(CHECK_COLUMNS)]  # fmt: skip


def _message(row: Mapping[Hashable, Any], status: str, limit: float) -> str:
    shift = f"{row['shift']:+.3f} [{row['shift_low']:+.3f}, {row['shift_high']:+.3f}]"
    said = (
        f"{row['probe']} probe: {row['robustness']:.0%} of {row['n']} verdicts unchanged "
        f"[{row['robustness_low']:.0%}, {row['robustness_high']:.0%}] (swap-only agreement "
        f"{row['swap_agreement']:.0%} of {row['n_swap']}), shift toward the edit {shift}"
    )
    if status == "not measured":
        return f"{said}: not measured (fewer than the verdicts needed; probe more items)"
    if status == "ok":
        return f"{said}: within the noise of a swap"
    clear = "" if status == "untrusted" else " (the interval reaches back within the limit)"
    return f"{said}, p={row['p_value']:.3g}: the edit moves the judge beyond ±{limit}{clear}"
