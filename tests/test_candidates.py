"""Several candidates in one suite: each pair judged in both orders, one leaderboard, gates per
candidate, and every bad declaration refused before any call.

The candidates are simulated writers of the loopback fake provider, whose quality is in their
name; its simulated judges prefer the better answer, so the best candidate is known. Every
request is counted at the provider.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import evalkit
from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.errors import UsageError
from evalkit.records import read_run
from evalkit.session import EvalSession, summary_lines
from evalkit.session._group import check_candidates
from evalkit.session._plan import plan_suites
from evalkit.testing import FakeProvider, JudgeParams

BEST = "openai/sim-writer-openai-q0.95"
MIDDLE = "openai/sim-writer-mistral-q0.50"
WORST = "openai/sim-writer-cohere-q0.05"
BASELINE = "openai/sim-writer-meta-q0.40"
CANDIDATES = (BEST, MIDDLE, WORST)
JUDGES = ("fair", "other")
N_ITEMS = 20


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=3, record=True) as provider:
        for seed, judge in enumerate(JUDGES):
            provider.register_judge(
                f"sim-judge-{judge}", JudgeParams(seed=seed, quality_weight=10.0)
            )
        yield provider


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    (tmp_path / "judges").mkdir()
    for judge, family in zip(JUDGES, ("anthropic", "google"), strict=True):
        (tmp_path / "judges" / f"{judge}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{judge}\nfamily: {family}\n"
            f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n"
        )
    (tmp_path / "judges" / "p.yaml").write_text("kind: panel\njudges: [fair, other]\nquorum: 1\n")
    (tmp_path / "judges" / "rubric.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-fair\nfamily: anthropic\napi_base: {fake.base_url}\n"
        "mode: pointwise\ntemplate: rubric_chat.j2\nparser: rating\nscale: {min: 1, max: 10}\n"
    )
    (tmp_path / "judges" / "r.yaml").write_text(
        "kind: panel\njudges: [rubric]\naggregation: mean\n"
    )
    rows = [{"id": f"q{i:02d}", "question": f"Question number {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def session(root: Path, fake: FakeProvider) -> EvalSession:
    config = EvalkitConfig(
        candidate="openai/not-asked", candidate_api_base=fake.base_url,
        baseline=BASELINE, baseline_api_base=fake.base_url, panel="p",
        cache_dir=root / "cache", reports_dir=root / "reports", max_retries=0, backoff_s=0.01,
    )  # fmt: skip
    return EvalSession(config, root)


def suite(root: Path, **fields: Any) -> Suite:
    fields = {
        "candidates": list(CANDIDATES),
        "gates": [evalkit.gates.WinRate(min_items=10, name="win_rate")],
        **fields,
    }
    return Suite("board", dataset="data.jsonl", base_dir=root, **fields)


def judged(fake: FakeProvider) -> int:
    return sum(fake.requests(f"sim-judge-{j}") for j in JUDGES)


# -- the leaderboard ---------------------------------------------------------------------------


def test_three_candidates_rank_the_best_first_each_answer_asked_once_every_pair_both_orders(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    try:
        group = run.group_result(suite(root, round_robin=True))
    finally:
        closed = run.finish()
    # Each candidate's answers and the baseline's are asked once, however many pairs use them.
    for model in (*CANDIDATES, BASELINE):
        assert fake.requests(model.removeprefix("openai/")) == N_ITEMS
    # 3 pairs against the baseline + 3 round-robin pairs, both orders, two judges.
    assert judged(fake) == 6 * N_ITEMS * 2 * len(JUDGES)
    assert sorted(group.pairs) == sorted(
        [*CANDIDATES, f"{BEST} vs {MIDDLE}", f"{BEST} vs {WORST}", f"{MIDDLE} vs {WORST}"]
    )
    # Round-robin pairs feed the leaderboard only; each candidate has its gates against the
    # baseline.
    assert group.pair(f"{BEST} vs {WORST}").gates == []
    assert [g.name for g in group.pair(WORST).gates] == ["win_rate"]
    for result in group.pairs.values():
        orders = result.judgments.groupby(["item_id", "judge"])["order"].agg(sorted)
        assert len(orders) == N_ITEMS * len(JUDGES)
        assert all(o == ["AB", "BA"] for o in orders)

    board = group.leaderboard
    assert board is not None
    assert [s.model for s in board.standings] == [BEST, MIDDLE, BASELINE, WORST]
    best = board.standings[0]
    assert best.low is not None
    assert best.low > 1000.0  # the interval excludes the baseline's 1000
    assert best.lc_rating is not None  # the length-controlled column is filled
    assert best.items == N_ITEMS

    # Recorded once for the group (run.json), listed in the summary, shown in the report.
    assert closed is not None
    record = read_run(run.run_dir)
    assert record is not None
    boards = [s for s in record.suites if s.leaderboard is not None]
    assert [s.name for s in boards] == ["board"]
    assert boards[0].pairs == [f"board/{label}" for label in group.pairs]
    assert boards[0].leaderboard == board
    lines = summary_lines(closed)
    top = next(i for i, line in enumerate(lines) if "leaderboard (Elo scale" in line)
    assert lines[top + 2].split()[:2] == ["1", BEST]
    html = (run.run_dir / "report.html").read_text()
    assert "Leaderboard: board" in html
    assert "several candidates: each one's gates are those of its pair" in html


def test_a_rerun_makes_no_request_and_gives_the_same_leaderboard(
    root: Path, fake: FakeProvider
) -> None:
    first = session(root, fake)
    try:
        before = first.group_result(suite(root)).leaderboard
    finally:
        first.finish()
    fake.reset()
    again = session(root, fake)
    try:
        after = again.group_result(suite(root)).leaderboard
    finally:
        again.finish()
    assert fake.requests() == 0
    assert after == before


def test_without_round_robin_each_candidate_meets_only_the_baseline(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    try:
        group = run.group_result(suite(root))
    finally:
        run.finish()
    assert list(group.pairs) == list(CANDIDATES)
    assert judged(fake) == 3 * N_ITEMS * 2 * len(JUDGES)
    table = pd.concat([r.judgments for r in group.pairs.values()])
    assert set(table["baseline"]) == {BASELINE}
    assert group.leaderboard is not None
    assert group.leaderboard.standings[0].model == BEST


# -- gates per candidate -----------------------------------------------------------------------


def test_each_candidate_has_its_own_gates_against_the_baseline(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    try:
        group = run.group_result(suite(root))
    finally:
        closed = run.finish()
    assert group.pair(BEST).gate("win_rate").outcome == "pass"
    worst = group.pair(WORST).gate("win_rate")
    assert worst.outcome == "fail", worst.message
    # The record, hence the report and the summary, names the candidate whose gate failed.
    assert closed is not None
    gates = {s.name: [g.outcome for g in s.gates] for s in closed.record.suites}
    assert gates[f"board/{BEST}"] == ["pass"]
    assert gates[f"board/{WORST}"] == ["fail"]
    html = (run.run_dir / "report.html").read_text()
    assert f"board/{WORST}" in html


def test_pytest_gets_one_gate_and_one_item_test_per_candidate(root: Path) -> None:
    test_item, test_gate = suite(root, candidates=[BEST, WORST]).tests()
    gate_ids = test_gate.pytestmark[0].kwargs["ids"]  # type: ignore[attr-defined]
    assert gate_ids == [f"{BEST}:win_rate", f"{WORST}:win_rate"]
    item_ids = test_item.pytestmark[0].kwargs["ids"]  # type: ignore[attr-defined]
    assert item_ids[:2] == [f"{BEST}:q00", f"{BEST}:q01"]
    assert len(item_ids) == 2 * N_ITEMS


def test_a_scored_suite_scores_each_candidate_on_its_own_without_a_baseline_or_leaderboard(
    root: Path, fake: FakeProvider
) -> None:
    gates = [evalkit.gates.MeanScore(at_least=5.0, min_items=10, name="mean_score")]
    declared = suite(root, mode="pointwise", panel="r", candidates=[BEST, WORST], gates=gates)
    run = session(root, fake)
    try:
        group = run.group_result(declared)
    finally:
        closed = run.finish()
    assert fake.requests(BASELINE.removeprefix("openai/")) == 0
    assert list(group.pairs) == [BEST, WORST]
    assert group.pair(BEST).gate("mean_score").outcome == "pass"
    assert group.pair(WORST).gate("mean_score").outcome == "fail"
    # The leaderboard is pairwise: a scored suite has none, and the summary says so.
    assert group.leaderboard is None
    assert closed is not None
    lines = summary_lines(closed)
    assert any("no leaderboard: it ranks pairwise verdicts" in line for line in lines)


def test_an_app_and_recorded_answers_are_candidates_beside_a_model(
    root: Path, fake: FakeProvider
) -> None:
    from evalkit.testing import WriterParams, write_answer

    good = WriterParams.from_model_name("sim-writer-openai-q0.90")
    poor = WriterParams.from_model_name("sim-writer-cohere-q0.10")
    assert good is not None
    assert poor is not None
    rows = [json.loads(line) for line in (root / "data.jsonl").read_text().splitlines()]
    with (root / "data.jsonl").open("w") as fh:
        for row in rows:  # answers exported from production logs, poor ones
            fh.write(json.dumps(row | {"answer": write_answer(poor, row["question"])}) + "\n")
    asked: list[str] = []

    def answer(row: dict[str, Any]) -> str:
        asked.append(row["id"])
        return write_answer(good, row["question"])

    candidates = [
        MIDDLE,
        evalkit.app(answer, name="rag", version="v1"),
        evalkit.recorded(column="answer", name="logs"),
    ]
    run = session(root, fake)
    try:
        group = run.group_result(suite(root, candidates=candidates, round_robin=True))
    finally:
        run.finish()
    assert sorted(asked) == sorted(r["id"] for r in rows)  # once per item, for all its pairs
    assert list(group.pairs) == [
        MIDDLE, "rag@v1", "logs", f"{MIDDLE} vs rag@v1", f"{MIDDLE} vs logs", "rag@v1 vs logs",
    ]  # fmt: skip
    # The recorded answers sit on the baseline's side of a round-robin pair as they are.
    pair = group.pair("rag@v1 vs logs")
    assert pair.answers["baseline"]["q00"].model == "logs"
    assert pair.answers["baseline"]["q00"].calls == 0
    board = group.leaderboard
    assert board is not None
    ranked = [s.model for s in board.standings]
    assert (ranked[0], ranked[-1]) == ("rag@v1", "logs")


# -- prompt variants ---------------------------------------------------------------------------


def test_prompt_variants_of_one_model_are_candidates_asked_their_own_way(
    root: Path, fake: FakeProvider
) -> None:
    terse = evalkit.variant(BEST, name="terse", system="Be terse.")
    quoted = evalkit.variant(BEST, name="quoted", prompt="Q: {{ question }}")
    run = session(root, fake)
    try:
        group = run.group_result(suite(root, candidates=[BEST, terse, quoted]))
    finally:
        run.finish()
    sent = [r.body["messages"] for r in fake.received() if r.model == BEST.removeprefix("openai/")]
    systems = [m[0]["content"] for m in sent if m[0]["role"] == "system"]
    assert systems.count("Be terse.") == N_ITEMS
    assert sum(m[-1]["content"] == "Q: Question number 0?" for m in sent) == 1
    assert len(sent) == 3 * N_ITEMS  # three ways of asking, each asked once per item
    # The tables name the variants; the judges were shown the suite's own question.
    assert set(group.pair("terse").judgments["candidate"]) == {"terse"}
    answers = group.pair("quoted").answers["candidate"]
    assert answers["q00"].model == "quoted"
    assert answers["q00"].prompt == "Q: Question number 0?"
    judge_prompts = [
        r.body["messages"][-1]["content"] for r in fake.received() if "judge" in r.model
    ]
    assert not any("Q: Question number" in p for p in judge_prompts)
    assert group.leaderboard is not None
    assert {s.model for s in group.leaderboard.standings} == {BEST, "terse", "quoted", BASELINE}


def test_a_variant_prompt_that_does_not_render_is_refused_before_any_call(
    root: Path, fake: FakeProvider
) -> None:
    bad = evalkit.variant(BEST, name="typo", prompt="{{ questoin }}")
    run = session(root, fake)
    with pytest.raises(UsageError, match=r"suite 'board/typo'.*candidate 'typo' prompt.*q00"):
        run.preflight([suite(root, candidates=[BEST, bad])])
    assert fake.requests() == 0


def test_a_variant_needs_a_name_and_a_change() -> None:
    with pytest.raises(UsageError, match="set prompt= or system="):
        evalkit.variant(BEST, name="same")
    with pytest.raises(UsageError, match="give the variant a name="):
        evalkit.variant(BEST, name=" ", system="x")


# -- the dry run -------------------------------------------------------------------------------


def test_the_dry_run_lists_every_pair_and_counts_each_answer_once(
    root: Path, fake: FakeProvider
) -> None:
    declared = suite(root, round_robin=True)
    plan = plan_suites(session(root, fake), [declared])
    assert [s.name for s in plan.suites] == [
        f"board/{BEST}", f"board/{MIDDLE}", f"board/{WORST}",
        f"board/{BEST} vs {MIDDLE}", f"board/{BEST} vs {WORST}", f"board/{MIDDLE} vs {WORST}",
    ]  # fmt: skip
    lines = "\n".join(plan.lines())
    for name in (s.name for s in plan.suites):
        assert f"  {name}: " in lines
    assert fake.requests() == 0
    run = session(root, fake)
    try:
        run.group_result(declared)
    finally:
        run.finish()
    answered = sum(fake.requests(m.removeprefix("openai/")) for m in (*CANDIDATES, BASELINE))
    assert plan.calls("candidate") + plan.calls("baseline") == answered == 4 * N_ITEMS
    assert plan.calls("judge") == judged(fake)


# -- bad input: one message naming the suite, before any call ----------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"candidates": [BEST, BEST]}, f"suite 'board': two candidates are named '{BEST}'"),
        (
            {"candidates": [evalkit.variant(BEST, name="v", system="a"),
                            evalkit.variant(MIDDLE, name="v", system="b")]},
            "suite 'board': two candidates are named 'v'",
        ),
        ({"candidates": []}, "suite 'board': candidates=[] lists no candidate"),
        ({"candidate": BEST}, "suite 'board': both candidate= and candidates= are set"),
        ({"candidates": [BEST], "round_robin": True},
         "suite 'board': round_robin=True needs two candidates or more"),
        ({"candidates": None, "round_robin": True},
         "suite 'board': round_robin=True compares the suite's candidates"),
        ({"mode": "pointwise", "round_robin": True},
         "suite 'board': round_robin=True compares answers pairwise, and the suite is pointwise"),
    ],
)  # fmt: skip
def test_a_bad_candidates_declaration_stops_collection_with_one_message(
    root: Path, fields: dict[str, Any], message: str
) -> None:
    declared = suite(root, **fields)
    with pytest.raises(UsageError, match=re.escape(message)):
        check_candidates(declared)
    with pytest.raises(pytest.Collector.CollectError, match=re.escape(message)):
        declared.tests()


def test_a_candidate_that_is_the_baseline_is_refused_before_any_call(
    root: Path, fake: FakeProvider
) -> None:
    run = session(root, fake)
    with pytest.raises(
        UsageError, match=f"suite 'board', candidate '{BASELINE}': it is the baseline"
    ):
        run.preflight([suite(root, candidates=[BEST, BASELINE])])
    with pytest.raises(UsageError, match=f"candidate '{BASELINE}': it is the baseline"):
        plan_suites(run, [suite(root, candidates=[BEST, BASELINE])])
    assert fake.requests() == 0
    assert not (root / "reports").exists()


# -- through pytest ----------------------------------------------------------------------------


@pytest.mark.slow
def test_pytest_fails_the_run_naming_the_candidate_whose_gate_failed(
    tmp_path: Path, fake: FakeProvider
) -> None:
    from _project import make_project, run_pytest

    root = make_project(tmp_path, fake, n_items=10)
    (root / "suites" / "test_sim.py").write_text(
        "import evalkit\n"
        f"suite = evalkit.Suite('sim', dataset='data.jsonl', candidates=[{BEST!r}, {WORST!r}],\n"
        "    gates=[evalkit.gates.WinRate(min_items=10, name='win_rate')])\n"
        "test_item, test_gate = suite.tests()\n"
    )
    for judge in ("fair", "first"):
        fake.register_judge(f"sim-judge-{judge}", JudgeParams(quality_weight=10.0))
    proc = run_pytest(root, "-rA")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert f"PASSED suites/test_sim.py::test_gate[{BEST}:win_rate]" in proc.stdout
    assert f"FAILED suites/test_sim.py::test_gate[{WORST}:win_rate]" in proc.stdout
    assert f"suite sim/{WORST}: {WORST}" in proc.stdout
    assert "leaderboard (Elo scale" in proc.stdout


def test_a_multi_candidate_suite_is_not_one_suite_result(root: Path, fake: FakeProvider) -> None:
    with pytest.raises(UsageError, match="suite 'board' has several candidates: ask group_result"):
        session(root, fake).suite_result(suite(root))
    assert fake.requests() == 0
