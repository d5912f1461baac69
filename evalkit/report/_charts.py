"""Geometry of the report's inline SVG charts: numbers in, pixel positions out.

The templates draw; this module only decides where things go, so every chart is a pure
function that can be tested without a browser. Nothing here produces markup: labels travel as
plain text and are escaped by the template like any other value.

Charts: an interval chart (first-position rate per judge), a heatmap (Cohen's kappa per pair
of judges), a line chart (share of verdicts for the candidate against the length difference)
and stacked bars (how each judge's verdicts, or scores, are distributed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE: Final = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
)  # fmt: skip
#: Verdict colours in the distribution chart.
VERDICT_COLOURS: Final = {
    "candidate": "#009e73",
    "tie": "#bbbbbb",
    "baseline": "#d55e00",
    "none": "#eeeeee",
}
_LABEL_W: Final = 150.0  # room for a judge's name left of a plot
_PLOT_W: Final = 400.0
_ROW_H: Final = 26.0


def colour(index: int) -> str:
    """The colour of the ``index``-th judge of a suite (cycling through :data:`PALETTE`)."""
    return PALETTE[index % len(PALETTE)]


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high], about ``target`` of them.

    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> nice_ticks(-130, 85)
    [-100.0, -50.0, 0.0, 50.0]
    """
    if not high > low:
        return [low]
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    count = math.floor((high - first) / step + 1e-9) + 1
    return [float(round(first + i * step, 10)) for i in range(count)]


@dataclasses.dataclass(frozen=True)
class Tick:
    """An axis tick: pixel position and label."""

    at: float
    label: str


@dataclasses.dataclass(frozen=True)
class IntervalRow:
    """One judge in the interval chart: the point, its interval and a caption."""

    label: str
    y: float
    x: float
    x_low: float
    x_high: float
    text: str
    colour: str


@dataclasses.dataclass(frozen=True)
class IntervalChart:
    """Point estimates with intervals on a 0-1 scale, one row per judge."""

    width: float
    height: float
    left: float
    right: float
    axis_y: float
    reference: float
    band: tuple[float, float] | None
    ticks: Sequence[Tick]
    rows: Sequence[IntervalRow]


def interval_chart(
    rows: Sequence[Mapping[str, Any]],
    *,
    reference: float = 0.5,
    tolerance: float | None = None,
) -> IntervalChart | None:
    """Lay out estimates in [0, 1] with their intervals (keys label, estimate, low, high, note).

    ``reference`` draws a dashed line (0.5: no position bias); ``tolerance`` shades the band
    ``reference ± tolerance`` a judge should stay within. Rows without an estimate are left out;
    None when no row has one.
    """
    left, right = _LABEL_W, _LABEL_W + _PLOT_W

    def x(value: float) -> float:
        return round(left + min(max(value, 0.0), 1.0) * _PLOT_W, 2)

    laid: list[IntervalRow] = []
    for i, row in enumerate(rows):
        est = _finite(row.get("estimate"))
        if est is None:
            continue
        low, high = _finite(row.get("low")) or est, _finite(row.get("high")) or est
        y = 20 + len(laid) * _ROW_H
        text = f"{est:.2f} [{low:.2f}, {high:.2f}] {row.get('note', '')}".rstrip()
        laid.append(IntervalRow(str(row["label"]), y, x(est), x(low), x(high), text, colour(i)))
    if not laid:
        return None
    axis_y = 20 + len(laid) * _ROW_H - 8
    band = None
    if tolerance is not None:
        band = (x(reference - tolerance), x(reference + tolerance))
    ticks = [Tick(x(t), f"{t:g}") for t in nice_ticks(0.0, 1.0, 4)]
    return IntervalChart(
        width=right + 170, height=axis_y + 30, left=left, right=right, axis_y=axis_y,
        reference=x(reference), band=band, ticks=ticks, rows=laid,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Cell:
    """One heatmap cell: position, fill, the figure printed in it, and a tooltip."""

    x: float
    y: float
    fill: str
    ink: str
    text: str
    title: str


@dataclasses.dataclass(frozen=True)
class Heatmap:
    """A square matrix of judges with a coloured cell per pair."""

    width: float
    height: float
    size: float
    left: float  # where the matrix starts: room for the row labels
    top: float  # room for the slanted column labels
    labels: Sequence[tuple[str, float]]  # (judge, offset of its row and column centre)
    cells: Sequence[Cell]


def kappa_colour(kappa: float | None) -> tuple[str, str]:
    """Fill and text colours for a kappa: red below 0, white at 0, blue towards 1.

    >>> kappa_colour(1.0), kappa_colour(0.0), kappa_colour(None)
    (('#2166ac', '#ffffff'), ('#ffffff', '#000000'), ('#f2f2f2', '#666666'))
    """
    if kappa is None:
        return "#f2f2f2", "#666666"
    k = min(max(kappa, -1.0), 1.0)
    end = (0x21, 0x66, 0xAC) if k >= 0 else (0xB2, 0x18, 0x2B)
    rgb = [round(255 + (c - 255) * abs(k)) for c in end]
    fill = "#{:02x}{:02x}{:02x}".format(*rgb)
    return fill, "#ffffff" if abs(k) > 0.55 else "#000000"


def kappa_heatmap(pairs: Sequence[Mapping[str, Any]], mode: str = "pairwise") -> Heatmap | None:
    """Lay out Cohen's kappa of every judge pair (records of the audit's ``agreement``).

    None when the suite has fewer than two judges in ``mode``.
    """
    rows = [p for p in pairs if p.get("mode", "pairwise") == mode]
    judges = sorted({str(p["judge_a"]) for p in rows} | {str(p["judge_b"]) for p in rows})
    if len(judges) < 2:
        return None
    size, left, top = 64.0, _LABEL_W, 90.0
    index = {j: i for i, j in enumerate(judges)}
    cells = [
        Cell(left + i * size, top + i * size, "#dddddd", "#666666", "1", judge)
        for judge, i in index.items()
    ]
    for p in rows:
        a, b = index[str(p["judge_a"])], index[str(p["judge_b"])]
        kappa = _finite(p.get("kappa"))
        fill, ink = kappa_colour(kappa)
        text = "n/a" if kappa is None else f"{kappa:.2f}"
        low, high = _finite(p.get("kappa_low")), _finite(p.get("kappa_high"))
        span = "" if low is None or high is None else f" [{low:.2f}, {high:.2f}]"
        title = f"{p['judge_a']} vs {p['judge_b']}: kappa {text}{span}, n={p.get('n_units')}"
        for r, c in ((a, b), (b, a)):
            cells.append(Cell(left + c * size, top + r * size, fill, ink, text, title))
    labels = [(j, index[j] * size + size / 2) for j in judges]
    extent = len(judges) * size
    return Heatmap(left + extent + 90, top + extent + 10, size, left, top, labels, cells)


@dataclasses.dataclass(frozen=True)
class Point:
    """A point of a line chart, with the tooltip that explains it."""

    x: float
    y: float
    title: str


@dataclasses.dataclass(frozen=True)
class Series:
    """One judge's line."""

    label: str
    colour: str
    points: Sequence[Point]


@dataclasses.dataclass(frozen=True)
class LineChart:
    """Lines over a numeric x axis and a 0-1 y axis."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: Sequence[Tick]
    y_ticks: Sequence[Tick]
    x_zero: float | None
    y_half: float
    series: Sequence[Series]


def length_chart(table: pd.DataFrame, judges: Sequence[str], bins: int = 8) -> LineChart | None:
    """Share of decisive verdicts for the candidate, against the candidate's length advantage.

    ``table`` holds one suite's judgment rows. Length differences (candidate minus baseline,
    in tokens) are cut into up to ``bins`` quantile bins over the whole suite, so every judge
    is read on the same bins; each point sits at its bin's median difference. A judge whose
    line climbs from left to right prefers longer answers. None without decisive verdicts of
    known length.
    """
    rows = table.loc[
        (table["mode"] == "pairwise")
        & table["verdict"].isin(["candidate", "baseline"])
        & table["parse_ok"].astype(bool)
        & table["error"].isna()
        & table["len_candidate"].notna()
        & table["len_baseline"].notna()
    ]
    if rows.empty:
        return None
    diff = (rows["len_candidate"] - rows["len_baseline"]).astype(float)
    n_bins = int(min(bins, diff.nunique()))
    binned = pd.qcut(diff, q=n_bins, labels=False, duplicates="drop") if n_bins > 1 else diff * 0
    frame = pd.DataFrame(
        {
            "judge": rows["judge"].astype(str),
            "bin": binned,
            "diff": diff,
            "for_candidate": (rows["verdict"] == "candidate").astype(float),
        }
    )
    centres = frame.groupby("bin")["diff"].median()
    stats = (
        frame.groupby(["judge", "bin"])
        .agg(share=("for_candidate", "mean"), n=("for_candidate", "size"))
        .join(centres.rename("centre"), on="bin")
    )
    left, right, top, bottom = _LABEL_W - 90, _LABEL_W - 90 + 460.0, 14.0, 214.0
    lo, hi = float(centres.min()), float(centres.max())
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.05

    def x(value: float) -> float:
        return round(left + (value - lo + pad) / (hi - lo + 2 * pad) * (right - left), 2)

    def y(share: float) -> float:
        return round(bottom - share * (bottom - top), 2)

    series = []
    for i, judge in enumerate(judges):
        if judge not in stats.index.get_level_values("judge"):
            continue
        part = stats.loc[judge]  # one row per bin: at most ``bins`` rows
        columns = (part[c].to_numpy(dtype=float).tolist() for c in ("share", "n", "centre"))
        points = [
            Point(
                x(centre),
                y(share),
                f"{judge}: {share:.0%} of {n:.0f} decisive verdicts for the candidate"
                f" at a length difference of about {centre:+.0f} tokens",
            )
            for share, n, centre in zip(*columns, strict=True)
        ]
        series.append(Series(judge, colour(i), points))
    x_ticks = [Tick(x(t), f"{t:+g}" if t else "0") for t in nice_ticks(lo - pad, hi + pad)]
    y_ticks = [Tick(y(t), f"{t:.0%}") for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    x_zero = x(0.0) if lo - pad <= 0.0 <= hi + pad else None
    return LineChart(
        width=right + 150, height=bottom + 44, left=left, right=right, top=top, bottom=bottom,
        x_ticks=x_ticks, y_ticks=y_ticks, x_zero=x_zero, y_half=y(0.5), series=series,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Segment:
    """One part of a stacked bar."""

    x: float
    width: float
    fill: str
    title: str
    text: str


@dataclasses.dataclass(frozen=True)
class Bar:
    """A stacked horizontal bar with its label."""

    label: str
    y: float
    segments: Sequence[Segment]
    note: str


@dataclasses.dataclass(frozen=True)
class StackedBars:
    """Horizontal bars that each add up to 100 %, and a legend of their parts."""

    width: float
    height: float
    left: float
    bar_height: float
    legend: Sequence[tuple[str, str, float]]  # (label, colour, x)
    legend_y: float
    bars: Sequence[Bar]


def stacked_bars(
    counts: Sequence[tuple[str, Mapping[str, int]]],
    colours: Mapping[str, str],
    names: Mapping[str, str] | None = None,
) -> StackedBars | None:
    """Bars of shares: ``counts`` is ``[(bar label, {part: count})]``, parts keyed as ``colours``.

    ``names`` gives the legend text of each part (default: the key). None when every bar is
    empty.
    """
    names = names or {}
    left, bar_h = _LABEL_W, 18.0
    bars: list[Bar] = []
    for label, parts in counts:
        total = sum(parts.values())
        if total == 0:
            continue
        x, segments = left, []
        for key, fill in colours.items():
            n = parts.get(key, 0)
            if n == 0:
                continue
            share = n / total
            width = round(share * _PLOT_W, 2)
            part = names.get(key, key)
            segments.append(
                Segment(x, width, fill, f"{label}: {part} {n} of {total} ({share:.0%})",
                        f"{share:.0%}" if width >= 34 else "")
            )  # fmt: skip
            x = round(x + width, 2)
        bars.append(Bar(label, 12 + len(bars) * _ROW_H, segments, f"n={total}"))
    if not bars:
        return None
    legend_y = 12 + len(bars) * _ROW_H + 14
    legend, x = [], left
    for key, fill in colours.items():
        legend.append((names.get(key, key), fill, x))
        x += 30 + 6.5 * len(names.get(key, key))  # swatch, gap, and the label's rough width
    width = max(left + _PLOT_W + 80, x)
    return StackedBars(width, legend_y + 16, left, bar_h, legend, legend_y, bars)


def verdict_bars(
    combined: pd.DataFrame, panel: pd.DataFrame, judges: Sequence[str]
) -> StackedBars | None:
    """How often each judge (both orders combined) and the panel preferred each answer.

    ``combined`` is :func:`evalkit.panel.combine_orders` of one suite; ``panel`` the audit's
    panel verdicts of the suite (column ``verdict``). An item without a verdict counts as
    *no verdict*.
    """
    verdict = combined["verdict"].astype(object).where(combined["verdict"].notna(), "none")
    table = pd.crosstab(combined["judge"].astype(str), verdict).to_dict(orient="index")
    counts = [
        (judge, {str(k): int(v) for k, v in table[judge].items()})
        for judge in judges
        if judge in table
    ]
    if len(panel):
        votes = panel["verdict"].astype(object).where(panel["verdict"].notna(), "none")
        counts.append(("panel", {str(k): int(v) for k, v in votes.value_counts().items()}))
    names = {
        "candidate": "candidate better",
        "tie": "tie",
        "baseline": "baseline better",
        "none": "no verdict",
    }
    return stacked_bars(counts, VERDICT_COLOURS, names)


def score_bars(table: pd.DataFrame) -> StackedBars | None:
    """Distribution of the valid pointwise scores each candidate received (all judges)."""
    rows = table.loc[table["mode"].isin(["pointwise", "reference"]) & table["score"].notna()]
    if rows.empty:
        return None
    scores = rows["score"].astype(float).round(1)
    levels = sorted(scores.unique())
    ramp = np.linspace(0.15, 0.95, len(levels)) if len(levels) > 1 else np.array([0.6])
    colours = {f"{s:g}": _blue(float(t)) for s, t in zip(levels, ramp, strict=True)}
    table_ = pd.crosstab(rows["candidate"].astype(str), scores.map(lambda s: f"{s:g}"))
    counts = [
        (str(c), {str(k): int(v) for k, v in r.items()}) for c, r in table_.iterrows()
    ]  # one row per candidate model
    return stacked_bars(counts, colours, {k: f"score {k}" for k in colours})


def _blue(t: float) -> str:
    """A light-to-dark blue for ``t`` in [0, 1]."""
    rgb = [round(255 + (c - 255) * t) for c in (0x08, 0x45, 0x94)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)
