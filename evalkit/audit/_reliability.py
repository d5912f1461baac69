"""A reliability verdict per judge — trusted, questionable or untrusted — with its reasons.

Each check compares a measured bias with a tolerance from :class:`ReliabilityThresholds`, on
its interval, not on its point (DESIGN.md: "a gate compares the interval, not the point"):

- **untrusted** — the whole interval lies beyond the tolerance: the bias is established;
- **questionable** — the estimate lies beyond it but the interval reaches back inside, or there
  is too little evidence to tell (too few items, too many unusable calls);
- **ok** — the estimate is within tolerance.

A judge's verdict is its worst check; checks that could not be measured (a statistic with no
data, self-preference with no own-family answer) do not count against it and are listed as
``not measured``.
"""

from __future__ import annotations

import math
from typing import Any, Final, Literal

import pandas as pd

from evalkit.audit._orders import ONE_ORDER_ONLY, RANDOMISED_ORDER
from evalkit.config import ReliabilityThresholds as ReliabilityThresholds

Status = Literal["ok", "questionable", "untrusted", "not measured"]
Reliability = Literal["trusted", "questionable", "untrusted"]
#: The verdicts from best to worst: a judge's verdict is the worst of its checks.
VERDICTS: Final[tuple[Reliability, ...]] = ("trusted", "questionable", "untrusted")
CHECK_COLUMNS: Final = (
    "judge",
    "mode",
    "check",
    "status",
    "estimate",
    "low",
    "high",
    "limit",
    "message",
)
VERDICT_COLUMNS: Final = (
    "judge",
    "judge_family",
    "verdict",
    "n_questionable",
    "n_untrusted",
    "reasons",
)
_RANK: Final = {"ok": 0, "not measured": 0, "questionable": 1, "untrusted": 2}
_UNCLEAR: Final = " (the interval reaches back within the limit)"


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.3g}"


def judge_interval(
    estimate: float, low: float, high: float, lower: float | None, upper: float | None
) -> Status:
    """Judge an interval against the tolerance ``[lower, upper]`` (either end may be open)."""
    if not math.isfinite(estimate):
        return "not measured"
    beyond_upper = upper is not None and low > upper
    beyond_lower = lower is not None and high < lower
    if beyond_upper or beyond_lower:
        return "untrusted"
    if (upper is not None and estimate > upper) or (lower is not None and estimate < lower):
        return "questionable"
    return "ok"


def _check(
    judge: str,
    mode: str,
    check: str,
    values: tuple[float, float, float],
    lower: float | None,
    upper: float | None,
    limit: str,
    describe: str,
) -> dict[str, Any]:
    est, low, high = (math.nan if v is None or pd.isna(v) else float(v) for v in values)
    status = judge_interval(est, low, high, lower, upper)
    # ``describe`` may place the interval with "{iv}"; by default it follows the description.
    iv = "n/a" if status == "not measured" else f"{_fmt(est)} [{_fmt(low)}, {_fmt(high)}]"
    text = describe.replace("{iv}", iv) if "{iv}" in describe else f"{describe} {iv}"
    # A statistic that is undefined on these data (no units, or a single category) was not
    # measured: saying it "is above the limit" would be false.
    message = f"{text}: not measured" if status == "not measured" else f"{text} is {limit}"
    if status == "questionable":
        message += _UNCLEAR
    return {
        "judge": judge,
        "mode": mode,
        "check": check,
        "status": status,
        "estimate": est,
        "low": low,
        "high": high,
        "limit": limit,
        "message": message,
    }


def _plain(judge: str, mode: str, check: str, status: Status, message: str) -> dict[str, Any]:
    return {
        "judge": judge,
        "mode": mode,
        "check": check,
        "status": status,
        "estimate": math.nan,
        "low": math.nan,
        "high": math.nan,
        "limit": "",
        "message": message,
    }


def _usable_checks(judges: pd.DataFrame, t: ReliabilityThresholds) -> list[dict[str, Any]]:
    out = []
    for row in judges.to_dict("records"):
        judge, n, usable = str(row["judge"]), int(row["n_rows"]), int(row["n_usable"])
        if usable == 0:
            out.append(
                _plain(
                    judge,
                    "all",
                    "usable calls",
                    "untrusted",
                    f"none of its {n} calls gave a usable verdict or score",
                )
            )
        elif t.max_invalid_rate is not None and 1 - usable / n > t.max_invalid_rate:
            out.append(
                _plain(
                    judge,
                    "all",
                    "usable calls",
                    "questionable",
                    f"{1 - usable / n:.0%} of its {n} calls gave no usable verdict or "
                    f"score (limit {t.max_invalid_rate:.0%})",
                )
            )
    return out


def _order_checks(
    frame: pd.DataFrame, mode: str, what: str, t: ReliabilityThresholds
) -> list[dict[str, Any]]:
    # Pairwise: single-order verdicts; pointwise: item pairs whose two listings disagree.
    counted = "decisive verdicts" if mode == "pairwise" else "discordant listings"
    out = []
    for row in frame.to_dict("records"):
        judge = str(row["judge"])
        one_order = row.get("basis") == RANDOMISED_ORDER
        if mode == "pairwise" and row.get("basis") == ONE_ORDER_ONLY:
            out.append(
                _plain(
                    judge,
                    mode,
                    f"{what} bias",
                    "questionable",
                    f"only 0 items were judged validly in both {what}s: {what} bias is not "
                    "measurable, every call was made in the same order (judge both orders, or "
                    "randomise the order and record it)",
                )
            )
            continue
        if one_order:
            # Judged in one randomised order per item: no flips to count, only the first-position
            # rate, measured on the single verdicts (see evalkit.audit._orders).
            if int(row["n_decisive"]) < t.min_items:
                out.append(
                    _plain(
                        judge,
                        mode,
                        f"{what} bias",
                        "questionable",
                        f"only {int(row['n_decisive'])} decisive verdicts in randomised single "
                        f"orders (at least {t.min_items} needed to tell {what} bias)",
                    )
                )
                continue
        elif int(row["n_items"]) < t.min_items:
            out.append(
                _plain(
                    judge,
                    mode,
                    f"{what} bias",
                    "questionable",
                    f"only {int(row['n_items'])} items were judged validly in both "
                    f"{what}s (at least {t.min_items} needed to tell {what} bias)",
                )
            )
            continue
        if t.max_flip_rate is not None and mode == "pairwise" and not one_order:
            out.append(
                _check(
                    judge,
                    mode,
                    f"{what} flips",
                    (row["flip_rate"], row["flip_low"], row["flip_high"]),
                    None,
                    t.max_flip_rate,
                    f"above {t.max_flip_rate}",
                    f"flip rate {{iv}} over {int(row['n_items'])} items",
                )
            )
        if t.max_position_skew is not None:
            lo, hi = 0.5 - t.max_position_skew, 0.5 + t.max_position_skew
            out.append(
                _check(
                    judge,
                    mode,
                    f"first-{what} rate",
                    (row["first_position_rate"], row["fp_low"], row["fp_high"]),
                    lo,
                    hi,
                    f"outside {_fmt(lo)}-{_fmt(hi)}",
                    f"first-{what} rate {{iv}} over {int(row['n_decisive'])} {counted}",
                )
            )
    return out


def _self_checks(frame: pd.DataFrame, t: ReliabilityThresholds) -> list[dict[str, Any]]:
    out = []
    for row in frame.loc[frame["measurable"].astype(bool)].to_dict("records"):
        limit = t.max_self_preference if row["unit"] == "share" else t.max_self_preference_score
        if limit is None:
            continue
        out.append(
            _check(
                str(row["judge"]),
                str(row["mode"]),
                "self-preference",
                (row["self_preference"], row["low"], row["high"]),
                None,
                limit,
                f"above {limit}",
                f"self-preference {{iv}} ({row['unit']}, against {row['reference']})",
            )
        )
    return out


def _kappa_checks(
    frame: pd.DataFrame, key: str, describe: str, limit: float | None
) -> list[dict[str, Any]]:
    if limit is None:
        return []
    return [
        _check(
            str(row[key]),
            str(row["mode"]),
            describe,
            (row["kappa"], row["kappa_low"], row["kappa_high"]),
            limit,
            None,
            f"below {limit}",
            describe,
        )
        for row in frame.to_dict("records")
    ]


def _verbosity_checks(frame: pd.DataFrame, t: ReliabilityThresholds) -> list[dict[str, Any]]:
    m = t.max_length_odds_ratio
    if m is None:
        return []
    return [
        _check(
            str(row["judge"]),
            "pairwise",
            "verbosity",
            (row["odds_ratio"], row["or_low"], row["or_high"]),
            1 / m,
            m,
            f"outside {_fmt(1 / m)}-{_fmt(m)}",
            "length odds ratio per +100 tokens",
        )
        for row in frame.loc[frame["measurable"].astype(bool)].to_dict("records")
    ]


def exam_checks(exam: pd.DataFrame, thresholds: ReliabilityThresholds) -> pd.DataFrame:
    """The qualification exam's check rows (:data:`CHECK_COLUMNS`, ``check="exam"``), per judge.

    ``exam`` is :func:`evalkit.probes._exam_stats.exam_accuracy`'s frame; its pooled rows
    (``probe == "exam"``) are judged against ``min_exam_accuracy`` like every other check:
    the whole interval below it is untrusted, however few the pairs; otherwise fewer than
    ``min_exam_pairs`` pairs leave the judge questionable (the exam could not tell it from
    chance), as does an exam none of whose calls gave a usable verdict. Pass the rows to
    :func:`judge_reliability` as ``extra_checks``. Empty when the check is switched off.
    """
    t = thresholds
    limit, out = t.min_exam_accuracy, []
    pooled = exam.loc[exam["probe"] == "exam"] if limit is not None and len(exam) else exam[:0]
    for row in pooled.to_dict("records"):
        judge, n = str(row["judge"]), int(row["n_pairs"])
        if n == 0:
            message = f"none of its {int(row['n_invalid'])} exam calls gave a usable verdict"
            out.append(_plain(judge, "pairwise", "exam", "questionable", message))
            continue
        check = _check(
            judge,
            "pairwise",
            "exam",
            (row["accuracy"], row["low"], row["high"]),
            limit,
            None,
            f"below {limit}",
            f"exam accuracy {{iv}} over {n} pairs with a known better answer",
        )
        if n < t.min_exam_pairs and check["status"] != "untrusted":
            check["status"] = "questionable"
            check["message"] += (
                f"; only {n} pairs (at least {t.min_exam_pairs} needed to tell a judge at "
                "chance from a competent one)"
            )
        out.append(check)
    return pd.DataFrame(out, columns=list(CHECK_COLUMNS))


def judge_reliability(
    *,
    judges: pd.DataFrame,
    position: pd.DataFrame,
    option_order: pd.DataFrame,
    self_preference: pd.DataFrame,
    verbosity: pd.DataFrame,
    kappa_with_others: pd.DataFrame,
    human: pd.DataFrame,
    thresholds: ReliabilityThresholds,
    extra_checks: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every check of every judge, and each judge's verdict with its reasons.

    Takes the frames of :func:`position_bias`, :func:`option_order_bias`,
    :func:`self_preference`, :func:`verbosity_bias`, :func:`kappa_with_others` and
    :func:`human_agreement`, plus ``judges`` (judge, judge_family, n_rows, n_usable).
    Returns ``(verdicts, checks)``: verdicts has one row per judge with columns judge,
    judge_family, verdict, n_questionable, n_untrusted, reasons (the messages of its failed
    checks, joined by "; "); checks has one row per check with columns judge, mode, check,
    status, estimate, low, high, limit, message. ``extra_checks`` are check rows measured
    elsewhere (the bias probes' ``probe:<name>``, the exam), counted like the audit's own.
    """
    t = thresholds
    rows = [
        *_usable_checks(judges, t),
        *_order_checks(position, "pairwise", "position", t),
        *_order_checks(option_order, "pointwise", "option", t),
        *_self_checks(self_preference, t),
        *_kappa_checks(
            kappa_with_others.rename(columns=lambda c: c.replace("kappa_best", "kappa")),
            "judge",
            "best kappa with another judge",
            t.min_kappa,
        ),
        *_verbosity_checks(verbosity, t),
        *_kappa_checks(
            human.loc[human["rater"] != "panel"],
            "rater",
            "kappa with the human labels",
            t.min_human_kappa,
        ),
    ]
    if extra_checks is not None:
        extra = extra_checks[list(CHECK_COLUMNS)].to_dict("records")
        rows.extend({str(k): v for k, v in row.items()} for row in extra)
    checks = pd.DataFrame(rows, columns=list(CHECK_COLUMNS))
    rank = checks["status"].map(_RANK)
    verdicts = judges[["judge", "judge_family"]].copy()
    worst = rank.groupby(checks["judge"]).max().reindex(verdicts["judge"]).fillna(0)
    verdicts["verdict"] = worst.map(dict(enumerate(VERDICTS))).to_numpy()
    failed = checks.loc[rank > 0]
    counts = failed.groupby(["judge", "status"]).size().unstack(fill_value=0)
    for status in ("questionable", "untrusted"):
        col = counts[status] if status in counts.columns else pd.Series(dtype=int)
        verdicts[f"n_{status}"] = col.reindex(verdicts["judge"]).fillna(0).astype(int).to_numpy()
    reasons = failed.groupby("judge")["message"].agg("; ".join)
    verdicts["reasons"] = reasons.reindex(verdicts["judge"]).fillna("").to_numpy()
    return verdicts.reset_index(drop=True), checks
