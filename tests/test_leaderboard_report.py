"""The leaderboard in the run record, the report, the comparison page and the terminal summary."""

from __future__ import annotations

import doctest
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_runs import write_run

from evalkit.leaderboard import leaderboard
from evalkit.panel import PanelRule
from evalkit.records import RunRecord, read_judgments, read_run
from evalkit.records._run import LeaderboardRecord, StandingRecord
from evalkit.records._store import JUDGMENTS_FILE, RUN_FILE
from evalkit.report import load_run, render, render_compare
from evalkit.session import _leaderboard as summary_module
from evalkit.session._leaderboard import leaderboard_lines
from evalkit.session._summary import suite_lines

CAND, SECOND, BASE = "openai/cand-model", "openai/cand-2", "meta/base-model"
TEXT = re.compile(r"<[^>]+>")


def with_second_candidate(run_dir: Path, *, strength: float, seed: int = 0) -> Path:
    """Add a second candidate's rows to a run folder: each of its verdicts is the recorded
    candidate's, turned into a win with probability ``strength`` (a loss otherwise)."""
    table = read_judgments(run_dir)
    rng = np.random.default_rng(seed)
    # One draw per item, shared by every judge and both orders: the panel agrees on it.
    items = table["item_id"].unique()
    wins = pd.Series(rng.random(len(items)) < strength, index=items)
    verdict = np.where(wins.loc[table["item_id"]].to_numpy(), "candidate", "baseline")
    second = table.assign(
        candidate=SECOND,
        verdict=np.where(table["verdict"].notna(), verdict, None),
    )
    pd.concat([table, second], ignore_index=True).to_json(
        run_dir / JUDGMENTS_FILE, orient="records", lines=True
    )
    return run_dir


@pytest.fixture(scope="module")
def two_candidates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = write_run(tmp_path_factory.mktemp("lb") / "run", n_items=60)
    return with_second_candidate(run_dir, strength=0.9)


def page_text(page: str) -> str:
    return " ".join(html.unescape(TEXT.sub(" ", page)).split())


def test_a_suite_with_several_candidates_gets_the_leaderboard_of_its_table(
    two_candidates: Path,
) -> None:
    run = load_run(two_candidates)
    (suite,) = run.run.suites
    assert suite.leaderboard is not None
    rule = PanelRule(**suite.audit.rule)  # type: ignore[union-attr]
    expected = leaderboard(run.judgments, rule, seed=0, confidence=suite.audit.confidence)  # type: ignore[union-attr]
    assert suite.leaderboard == LeaderboardRecord.model_validate(expected.to_dict())
    assert suite.leaderboard.standings[0].model == SECOND
    assert suite.leaderboard.baseline == BASE


def test_a_single_candidate_suite_has_no_leaderboard(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path / "run", n_items=20))
    assert run.run.suites[0].leaderboard is None
    assert 'id="leaderboard-1"' not in render(run)


def test_a_recorded_leaderboard_round_trips_through_run_json_and_is_kept(
    two_candidates: Path, tmp_path: Path
) -> None:
    board = load_run(two_candidates).run.suites[0].leaderboard
    assert board is not None
    recorded = board.model_copy(update={"seed": 12345})
    record = read_run(two_candidates)
    assert record is not None
    suite = record.suites[0].model_copy(update={"leaderboard": recorded})
    record = record.model_copy(update={"suites": [suite]})
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / JUDGMENTS_FILE).write_bytes((two_candidates / JUDGMENTS_FILE).read_bytes())
    (copy / RUN_FILE).write_text(record.model_dump_json())
    assert RunRecord.model_validate_json((copy / RUN_FILE).read_text()) == record
    assert load_run(copy).run.suites[0].leaderboard == recorded  # not computed again


def test_the_report_shows_the_leaderboard_with_intervals_and_notes(two_candidates: Path) -> None:
    run = load_run(two_candidates)
    board = run.run.suites[0].leaderboard
    assert board is not None
    text = page_text(render(run))
    section = text[text.index("Leaderboard: demo Bradley") :]
    section = section[: section.index("Judges: demo Can these judges")]
    assert [s.model for s in board.standings] == [SECOND, CAND, BASE]
    for m in board.standings[:2]:
        assert (
            f"{m.rank} {m.model} {m.rating:.0f} [{m.low:.0f}, {m.high:.0f}] "
            f"{m.win_rate:.1%} [{m.win_low:.1%}, {m.win_high:.1%}] "
            f"{m.lc_rating:.0f} [{m.lc_low:.0f}, {m.lc_high:.0f}] 60 60"
        ) in section
    assert f"3 {BASE} baseline 1000 (fixed) 50% 1000 (fixed) 60 120" in section
    assert "over 60 items (1,000 resamples, seed 0)" in section
    assert board.notes == ["ranks 2 and 3 are not separated: their intervals overlap"]
    assert board.notes[0] in section
    assert 'data-chart="leaderboard"' in render(run)


def test_the_item_views_keep_showing_the_recorded_pair(
    two_candidates: Path, tmp_path: Path
) -> None:
    one = write_run(tmp_path / "one", n_items=60)
    blob = re.compile(r'<script type="application/json" id="item-data">(.*?)</script>', re.S)
    (single,) = blob.findall(render(load_run(one)))
    (several,) = blob.findall(render(load_run(two_candidates)))
    assert json.loads(several)["items"] == json.loads(single)["items"]


def test_the_overlap_note_is_shown_when_ranks_are_not_separated(tmp_path: Path) -> None:
    run_dir = with_second_candidate(write_run(tmp_path / "run", n_items=30), strength=0.5)
    run = load_run(run_dir)
    board = run.run.suites[0].leaderboard
    assert board is not None
    assert board.unseparated
    text = page_text(render(run))
    assert re.search(r"ranks 1 (and 2|to 3) are not separated", text)


def standing(run_dir: Path, model: str) -> StandingRecord:
    board = load_run(run_dir).run.suites[0].leaderboard
    assert board is not None
    return next(s for s in board.standings if s.model == model)


def test_compare_shows_each_models_rating_in_both_runs(
    two_candidates: Path, tmp_path: Path
) -> None:
    before = with_second_candidate(write_run(tmp_path / "before", n_items=60), strength=0.1)
    text = page_text(render_compare(load_run(before), load_run(two_candidates)))
    section = text[text.rindex("Leaderboards") :]
    sa, sb = standing(before, SECOND), standing(two_candidates, SECOND)
    assert sa.high < sb.low  # B's second candidate is much stronger: its rating moved
    row = (
        f"demo {SECOND} {sa.rank} {sa.rating:.0f} [{sa.low:.0f}, {sa.high:.0f}] "
        f"{sb.rank} {sb.rating:.0f} [{sb.low:.0f}, {sb.high:.0f}] moved"
    )
    assert row in section
    ba, bb = standing(before, BASE), standing(two_candidates, BASE)
    assert f"demo {BASE} {ba.rank} 1000 [1000, 1000] {bb.rank} 1000 [1000, 1000]" in section
    assert section.count("moved") == 2  # the legend, and the one model that moved


def test_the_terminal_summary_lists_the_leaderboard(two_candidates: Path) -> None:
    suite = load_run(two_candidates).run.suites[0]
    assert suite.leaderboard is not None
    lines = suite_lines(suite)
    listed = leaderboard_lines(suite.leaderboard)
    start = lines.index(listed[0])
    assert lines[start : start + len(listed)] == listed
    top = suite.leaderboard.standings[0]
    assert listed[2].split()[:2] == ["1", SECOND]
    assert f"{top.rating:4.0f} [{top.low:4.0f}, {top.high:4.0f}]" in listed[2]
    assert "1000 (baseline)" in listed[4]  # third: ranks 1 to 3 are the rows 2 to 4


def test_the_summary_lines_doctest() -> None:
    result = doctest.testmod(summary_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_models_the_baseline_cannot_be_ranked_against_are_named_on_the_page(tmp_path: Path) -> None:
    run_dir = with_second_candidate(write_run(tmp_path / "run", n_items=30), strength=0.7)
    table = read_judgments(run_dir)
    # Two more models judged only against each other: no chain links them to the baseline.
    island = table.loc[table["candidate"] == SECOND].assign(candidate="x/left", baseline="x/right")
    pd.concat([table, island], ignore_index=True).to_json(
        run_dir / JUDGMENTS_FILE, orient="records", lines=True
    )
    run = load_run(run_dir)
    board = run.run.suites[0].leaderboard
    assert board is not None
    assert board.baseline == BASE  # the recorded baseline, though x/right is never a candidate
    assert board.unranked == [["x/left", "x/right"]]
    text = page_text(render(run))
    assert f"\u2013 x/left cannot be ranked against {BASE} 30 30" in text
    assert f"x/left, x/right cannot be ranked against {BASE}: no chain of comparisons" in text
