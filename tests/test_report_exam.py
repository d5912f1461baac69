"""The report's qualification exam: accuracy per judge and kind, coloured, with the mistakes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from _exam_tables import exam_rows
from test_report_runs import write_run

from evalkit.report import RunData, load_run, render
from evalkit.report._exam import exam_view
from evalkit.session._summary import suite_lines

N, G = "exam:number", "exam:graded"
SECRET = "sk-abcdefghijklmnopqrstuvwx"


def _exam(suite: str) -> pd.DataFrame:
    """Judge "sharp" right on every pair; judge "blind" picks whatever is shown first.

    The rows carry each pair's texts beside the probe table's columns, as probes.jsonl does.
    """
    rows = []
    for i in range(24):
        target = "a" if i % 2 == 0 else "b"
        probe = N if i % 3 else G
        rows += [
            ("sharp", f"q{i}", probe, target, "AB", target),
            ("sharp", f"q{i}", probe, target, "BA", target),
        ]
        # Shown first: a in AB, b in BA.
        rows += [
            ("blind", f"q{i}", probe, target, "AB", "a"),
            ("blind", f"q{i}", probe, target, "BA", "b"),
        ]
    probes = exam_rows(rows).assign(suite=suite)
    good, bad = (
        f"The tower is 12 metres tall. Key {SECRET}.",
        f"The tower is 14 metres tall. Key {SECRET}.",
    )
    first_is_good = probes["target"] == "a"
    return probes.assign(
        question="How tall is the tower? <script>x</script>",
        first=first_is_good.map({True: good, False: bad}),
        second=first_is_good.map({True: bad, False: good}),
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    loaded = load_run(write_run(tmp_path_factory.mktemp("run") / "run", n_items=30))
    return dataclasses.replace(loaded, probes=_exam(loaded.run.suites[0].name))


def test_accuracy_per_judge_and_kind_coloured_as_the_audit_judges_it(run: RunData) -> None:
    suite = run.run.suites[0].name
    view = exam_view(run.probes, suite, thresholds={"min_exam_accuracy": 0.75})
    assert view is not None
    assert view["kinds"] == [G, N]
    sharp, blind = sorted(view["judges"], key=lambda j: j["judge"] != "sharp")
    assert (sharp["pooled"]["accuracy"], sharp["pooled"]["n"], sharp["pooled"]["badge"]) == (
        1.0,
        24,
        "trusted",
    )
    # Always the first shown: right in one order of every pair, ½ each; [0.31, 0.69] < 0.75.
    assert blind["pooled"]["accuracy"] == 0.5
    assert blind["pooled"]["status"] == "untrusted"
    assert blind["kinds"][G]["n"] == 8
    assert blind["kinds"][N]["n"] == 16
    assert len(view["mistakes"]["blind"]) == 24
    assert "sharp" not in view["mistakes"]
    moved = exam_view(run.probes, suite, thresholds={"min_exam_accuracy": 0.2})
    assert moved is not None
    assert {j["judge"]: j["pooled"]["status"] for j in moved["judges"]} == {
        "blind": "ok",
        "sharp": "ok",
    }


def test_the_section_shows_each_mistake_with_the_difference_marked(run: RunData) -> None:
    html = render(run)
    assert '<h3 id="exam-1">Qualification exam</h3>' in html
    assert "blind got 24 pairs wrong" in html
    assert "right in 50% of 2 verdicts (AB: a, BA: b)" in html
    assert "The tower is <mark>12</mark> metres tall. Key [redacted]." in html
    assert "The tower is <mark>14</mark> metres tall. Key [redacted]." in html
    # Model and dataset text stays text, and credentials are redacted.
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert SECRET not in html


def test_a_run_without_an_exam_has_no_section(run: RunData, tmp_path: Path) -> None:
    plain = load_run(write_run(tmp_path / "run", n_items=20))
    assert "Qualification exam" not in render(plain)
    probes_only = run.probes.assign(kind="probe")
    assert exam_view(probes_only, run.run.suites[0].name, thresholds={}) is None
    # Rows without the pairs' texts still give the figures; the mistakes come without texts.
    bare = exam_view(
        run.probes.drop(columns=["first", "second", "question"]), "demo", thresholds={}
    )
    assert bare is not None
    assert bare["mistakes"]["blind"][0]["good"] is None


def test_the_terminal_summary_names_each_judge_that_failed_the_exam(run: RunData) -> None:
    suite = run.run.suites[0]
    assert suite.audit is not None
    failed = {
        "judge": "blind", "mode": "pairwise", "check": "exam", "status": "untrusted",
        "estimate": 0.5, "low": 0.31, "high": 0.69, "limit": "below 0.75",
        "message": "exam accuracy 0.500 [0.314, 0.686] over 24 pairs with a known better "
        "answer is below 0.75",
    }  # fmt: skip
    passed = {**failed, "judge": "sharp", "status": "ok", "message": "fine"}
    audit = suite.audit.model_copy(update={"checks": [*suite.audit.checks, failed, passed]})
    lines = suite_lines(suite.model_copy(update={"audit": audit}))
    exam = [line for line in lines if line.startswith("  exam:")]
    assert exam == [
        "  exam: blind untrusted: exam accuracy 0.500 [0.314, 0.686] over 24 pairs with a known "
        "better answer is below 0.75"
    ]
    assert not [line for line in suite_lines(suite) if line.startswith("  exam:")]
