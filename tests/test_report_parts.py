"""The report's pure parts: redaction, chart geometry, number formats, text budgets."""

from __future__ import annotations

import doctest
import html as html_lib
import json

import markupsafe
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report_runs import Judge, make_tables

from evalkit.audit._table import validate_judgments
from evalkit.panel import combine_orders
from evalkit.report import _charts, _format, _items, _redact, _summary
from evalkit.report._charts import (
    PALETTE,
    interval_chart,
    kappa_heatmap,
    length_chart,
    nice_ticks,
    stacked_bars,
    verdict_bars,
)
from evalkit.report._items import text_cap
from evalkit.report._redact import REDACTED, redact, redact_data, redact_texts


@pytest.mark.parametrize("module", [_charts, _format, _items, _redact, _summary])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Authorization: Bearer abc.def-123456789", "abc.def-123456789", "Authorization: "),
        ("{'authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz", "'authorization': '"),
        ('"x-api-key": "k-0123456789abcdef"', "k-0123456789abcdef", '"x-api-key": "'),
        ("x-goog-api-key=AIzaSyA0123456789abcdefghijklmnopqrstuv", "AIzaSy", "x-goog-api-key="),
        ("OPENAI key sk-proj-abcdefghijklmnopqrstuvwx used", "sk-proj-", "OPENAI key "),
        ("anthropic sk-ant-api03-abcdefghijklmnop", "sk-ant-api03", "anthropic "),
        ("token hf_abcdefghijklmnopqrstuvwxyzABCDEF", "hf_abcdefghij", "token "),
        ("gh: ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abc", "gh: "),
        ("aws AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP", " here"),
        ("https://user:s3cr3t@host.example/v1", "s3cr3t", "host.example/v1"),
        ("GET /v1?key=abcdef123&alt=json", "abcdef123", "&alt=json"),
        ("password = 'hunter2'", "hunter2", "password = '"),
        ("client_secret: xyz789abc", "xyz789abc", "client_secret: "),
    ],
)
def test_redaction_removes_the_secret_and_keeps_its_name(text: str, gone: str, kept: str) -> None:
    out = redact(text)
    assert gone not in out
    assert kept in out
    assert REDACTED in out
    assert redact(out) == out  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "The tokens were counted: 512 output tokens.",
        "Pass the key to the function; the secretary agreed.",
        "a risk-free task-based approach",
        "max_tokens=50 and top_p=0.9",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab:=/@?&'\" <>\\\n-_skAIzaBearer auth")), max_size=80)
)
def test_redaction_never_breaks_json_or_html_escaping(text: str) -> None:
    encoded = json.dumps(text)
    assert json.loads(redact(encoded)).count("\n") == text.count("\n")  # still valid JSON
    escaped = str(markupsafe.escape(text))
    assert "<" not in redact(escaped)
    assert html_lib.unescape(redact(escaped)).count("<") == text.count("<")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=20))
def test_redact_texts_is_redact_on_each_value(values: list[str | None]) -> None:
    values = [*values, "Bearer abcdefghijkl", None, "ok"]
    assert redact_texts(values) == [None if v is None else redact(v) for v in values]


def test_redact_data_replaces_credential_keys_whole() -> None:
    data = {"api_key": "short", "nested": [{"Authorization": "x"}, "sk-abcdefghijklmnopqrstu"]}
    data["config"] = {"max_tokens": 5, "token": "tk", "api_base": None}
    assert redact_data(data) == {
        "api_key": REDACTED,
        "nested": [{"Authorization": REDACTED}, REDACTED],
        "config": {"max_tokens": 5, "token": REDACTED, "api_base": None},
    }


@given(st.floats(-1e6, 1e6), st.floats(0.001, 1e6))
def test_nice_ticks_cover_the_range_in_round_steps(low: float, width: float) -> None:
    ticks = nice_ticks(low, low + width)
    assert 2 <= len(ticks) <= 12
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    assert ticks[0] >= low - 1e-6 * width
    assert ticks[-1] <= low + width + 1e-6 * width


def test_interval_chart_places_points_between_their_bounds() -> None:
    chart = interval_chart(
        [
            {"label": "a", "estimate": 0.5, "low": 0.4, "high": 0.6},
            {"label": "gone", "estimate": None, "low": None, "high": None},
            {"label": "b", "estimate": 0.9, "low": 0.8, "high": 1.0},
        ],
        tolerance=0.1,
    )
    assert chart is not None
    assert [r.label for r in chart.rows] == ["a", "b"]
    a, b = chart.rows
    assert a.x == chart.reference
    assert chart.left <= a.x_low < a.x < a.x_high < b.x < b.x_high == chart.right
    assert chart.band == (
        pytest.approx(chart.left + 0.4 * 400),
        pytest.approx(chart.left + 0.6 * 400),
    )
    assert a.colour == PALETTE[0]
    assert interval_chart([{"label": "x", "estimate": None}]) is None


def test_heatmap_is_symmetric_with_one_cell_per_pair() -> None:
    pairs = [
        {
            "judge_a": "a",
            "judge_b": "b",
            "kappa": 0.8,
            "kappa_low": 0.7,
            "kappa_high": 0.9,
            "n_units": 40,
        },
        {"judge_a": "a", "judge_b": "c", "kappa": -0.2, "n_units": 40},
        {"judge_a": "b", "judge_b": "c", "kappa": None, "n_units": 0},
    ]
    chart = kappa_heatmap(pairs)
    assert chart is not None
    assert len(chart.cells) == 9
    cells = {(c.x, c.y): c for c in chart.cells}
    for c in chart.cells:
        mirror = cells[(c.y - chart.top + chart.left, c.x - chart.left + chart.top)]
        assert (mirror.fill, mirror.text) == (c.fill, c.text)
    texts = sorted(c.text for c in chart.cells)
    assert texts == ["-0.20", "-0.20", "0.80", "0.80", "1", "1", "1", "n/a", "n/a"]
    assert kappa_heatmap(pairs[:0]) is None


def test_the_length_chart_climbs_for_a_judge_that_rewards_length() -> None:
    table, _ = make_tables(n_items=400, judges=(Judge("fair", "x"),), seed=5)
    longer = table["len_candidate"] > table["len_baseline"]
    table.loc[longer & table["parse_ok"], "verdict"] = "candidate"  # always picks the longer one
    chart = length_chart(table, ["fair"])
    assert chart is not None
    (series,) = chart.series
    ys = [p.y for p in series.points]
    xs = [p.x for p in series.points]
    assert xs == sorted(xs)
    assert ys[-1] == chart.top  # 100 % for the candidate where it is longest
    assert ys[0] > ys[-1]
    assert length_chart(table.iloc[:0], ["fair"]) is None


def test_verdict_bars_add_up_to_every_item() -> None:
    table, _ = make_tables(n_items=50)
    combined = combine_orders(validate_judgments(table))
    panel = pd.DataFrame({"verdict": ["candidate"] * 30 + [None] * 20})
    chart = verdict_bars(combined, panel, ["fair", "first", "solid"])
    assert chart is not None
    assert [b.label for b in chart.bars] == ["fair", "first", "solid", "panel"]
    for bar in chart.bars:
        assert bar.note == "n=50"
        assert sum(s.width for s in bar.segments) == pytest.approx(400, abs=0.05)
    assert stacked_bars([("empty", {})], {"a": "#000"}) is None


def test_text_cap_is_the_largest_cap_within_budget() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 5000, 300)
    weights = rng.choice([1, 3], 300)
    for budget in (1000, 50_000, 400_000):
        cap = text_cap(lengths, weights, budget)
        assert cap is not None
        assert (np.minimum(lengths, cap) * weights).sum() <= budget
        assert (np.minimum(lengths, cap + 1) * weights).sum() > budget
    assert text_cap(lengths, weights, int((lengths * weights).sum())) is None
