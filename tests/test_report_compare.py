"""Comparing two runs, and the ``report`` / ``compare`` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_runs import JUDGES, Judge, write_run

from evalkit.cli import main
from evalkit.records._store import REPORT_FILE
from evalkit.report import RunData, load_run, render_compare
from evalkit.report._compare import changed_items, gate_pairs, judge_drift
from evalkit.report._load import panel_frame

N_ITEMS = 150


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunData, RunData]:
    root = tmp_path_factory.mktemp("runs")
    # In B the position-biased judge has been fixed, and the candidate got better.
    fixed = (JUDGES[0], Judge("first", "google", fail_rate=0.05), JUDGES[2])
    a = write_run(root / "a", n_items=N_ITEMS, seed=1, run_id="run-a")
    b = write_run(root / "b", n_items=N_ITEMS, seed=2, run_id="run-b", judges=fixed, quality=2.0)
    return load_run(a), load_run(b)


def test_gates_side_by_side(runs: tuple[RunData, RunData]) -> None:
    a, b = runs
    (pair,) = gate_pairs(a, b)
    ga, gb = a.run.suites[0].gates[0], b.run.suites[0].gates[0]
    assert ga.figure is not None
    assert gb.figure is not None
    assert pair["a"]["figure"] == ga.figure
    assert pair["b"]["figure"] == gb.figure
    assert pair["change"] == pytest.approx(gb.figure - ga.figure)
    assert pair["change"] > 0


def test_changed_items_are_exactly_those_whose_panel_verdict_differs(
    runs: tuple[RunData, RunData],
) -> None:
    a, b = runs
    changed = changed_items(a, b)
    pa, pb = (panel_frame(r.run).set_index("item_id") for r in (a, b))
    va = pa["verdict"].where(~pa["abstained"], "abstained").fillna("none")
    vb = pb["verdict"].where(~pb["abstained"], "abstained").fillna("none")
    expected = set(va.index[va != vb.reindex(va.index)])
    assert {i["item_id"] for i in changed["items"]} == expected
    assert changed["n_changed"] == len(expected) > 0
    assert sum(t["count"] for t in changed["transitions"]) == len(expected)
    assert changed["n_common"] == N_ITEMS
    for item in changed["items"]:
        assert item["a"] == va[item["item_id"]]
        assert item["b"] == vb[item["item_id"]]


def test_drift_is_flagged_only_where_intervals_part(runs: tuple[RunData, RunData]) -> None:
    a, b = runs
    drift = {d["judge"]: d for d in judge_drift(a, b)}
    assert set(drift) == {"fair", "first", "solid"}
    first = {f["label"]: f for f in drift["first"]["figures"]}
    assert first["first-position rate"]["drift"]
    assert first["first-position rate"]["a"][0] > 0.75 > first["first-position rate"]["b"][0]
    assert drift["first"]["verdict_a"] == "untrusted"
    fair = {f["label"]: f for f in drift["fair"]["figures"]}
    assert not fair["first-position rate"]["drift"]
    for figure in first.values():
        fa, fb = figure["a"], figure["b"]
        if figure["drift"]:
            assert fa[1] > fb[2] or fb[1] > fa[2]


def test_the_comparison_page(runs: tuple[RunData, RunData]) -> None:
    a, b = runs
    html = render_compare(a, b)
    assert "run-a" in html
    assert "run-b" in html
    assert 'id="changed-items"' in html
    assert html.count('<span class="badge questionable">drift</span>') >= 1
    assert "<script" not in html  # a static page


def test_a_run_compared_with_itself_has_no_changes(runs: tuple[RunData, RunData]) -> None:
    a, _ = runs
    html = render_compare(a, a)
    assert "0 of 150 items judged in both runs changed" in html
    assert "drift</span></td>" not in html


def test_report_and_compare_commands(runs: tuple[RunData, RunData], tmp_path: Path, capsys) -> None:
    a, b = runs
    out = tmp_path / "copy.html"
    assert main(["report", str(a.run_dir), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(b.run_dir)]) == 0
    assert (b.run_dir / REPORT_FILE).exists()
    assert main(["compare", str(a.run_dir), str(b.run_dir)]) == 0
    assert (b.run_dir / "compare-a.html").exists()
    assert "comparison:" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
