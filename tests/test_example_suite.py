"""The README's first command, for real: `pytest suites/` on the bundled local models."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.local_models, pytest.mark.slow]


@pytest.fixture(scope="module")
def example_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("example")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALKIT_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-p", "no:cacheprovider",
         f"--evalkit-reports-dir={out / 'reports'}", f"--evalkit-cache-dir={out / 'cache'}",
         "--evalkit-inconclusive=warn"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    return proc, out / "reports"


def only_run(reports: Path) -> Path:
    runs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_exit_code_follows_the_gate(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, reports = example_run
    run = json.loads((only_run(reports) / "run.json").read_text())
    outcomes = [g["outcome"] for s in run["suites"] for g in s["gates"]]
    assert outcomes, proc.stdout[-3000:]
    assert proc.returncode == (1 if "fail" in outcomes else 0), proc.stdout[-3000:]


def test_every_item_judged_by_two_families_in_both_orders(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, reports = example_run
    table = pd.read_json(only_run(reports) / "judgments.jsonl", lines=True)
    release = table[table["suite"] == "general-knowledge"]
    assert release["item_id"].nunique() >= 20
    assert set(release["judge_family"]) == {"huggingface", "google"}
    per_call = release.groupby(["item_id", "judge"])["order"].agg(lambda s: tuple(sorted(s)))
    assert set(per_call) == {("AB", "BA")}
    # A row is a verdict, or says why it is not one: never both, never neither.
    has_verdict = release["verdict"].notna()
    assert (has_verdict == release["parse_ok"]).all()
    assert release.loc[~has_verdict, "error"].notna().all()
    assert set(release.loc[has_verdict, "verdict"]) <= {"candidate", "baseline", "tie"}


def test_summary_and_report(example_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, reports = example_run
    assert "evalkit" in proc.stdout
    assert "gate win_rate" in proc.stdout
    assert "first-position rate" in proc.stdout
    html = (only_run(reports) / "report.html").read_text()
    # Nothing is loaded from anywhere: no external script, style, image or font.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "general-knowledge" in html
    assert "win_rate" in html


def test_three_suites_each_teach_their_lesson(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, reports = example_run
    run = json.loads((only_run(reports) / "run.json").read_text())
    suites = {s["name"]: s for s in run["suites"]}
    assert set(suites) == {
        "general-knowledge",
        "arithmetic",
        "lineage",
        "conversation",
        "handbook-rag",
        "support-recorded",
        "support-realism",
        "prompt-variants",
        *(f"prompt-variants/{name}" for name in ("terse", "explain", "quiz")),
    }
    # The scored suite: judges that see the reference, and a deterministic check beside them.
    table = pd.read_json(only_run(reports) / "judgments.jsonl", lines=True)
    arithmetic = table[table["suite"] == "arithmetic"]
    assert set(arithmetic["mode"]) == {"reference"}
    graded = arithmetic[arithmetic["judge_family"] == "deterministic"]
    # The candidate's answers only: a scored suite asks no baseline unless it names one.
    assert len(graded) == 20
    assert suites["arithmetic"]["models"]["baseline"] is None
    assert set(graded["score"].dropna()) <= {0.0, 1.0}
    assert {g["name"] for g in suites["arithmetic"]["gates"]} == {
        "mean_score(at_least=5)",
        "pass_rate(at_least=0.8)",
    }
    # The lineage suite: the dataset's generator family is on the panel, and it is said.
    generator = [d for d in suites["lineage"]["lineage"] if d["shared_with"] == "generator"]
    assert [d["judge"] for d in generator] == ["gemma"]
    assert "like the generator on 20 item(s)" in proc.stdout


def test_the_conversation_suite_answers_each_turn_after_its_own_answer(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, reports = example_run
    answers = pd.read_json(only_run(reports) / "answers.jsonl", lines=True)
    talks = answers[answers["suite"] == "conversation"]
    assert len(talks) == 2 * 6  # the candidate's and the baseline's, every item
    for row in talks[talks["status"] == "ok"].itertuples():
        transcript = row.transcript
        assert [m["role"] for m in transcript] == ["user", "assistant", "user", "assistant"]
        assert transcript[-1]["content"] == row.text  # the answer recorded is the last turn's
    judged = pd.read_json(only_run(reports) / "judgments.jsonl", lines=True)
    assert set(judged.loc[judged["suite"] == "conversation", "order"]) == {"AB", "BA"}


def test_the_app_and_recorded_examples(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, reports = example_run
    answers = pd.read_json(only_run(reports) / "answers.jsonl", lines=True)
    rag = answers[answers["suite"] == "handbook-rag"]
    # One answer per item from the app, each with the passage it retrieved; no baseline.
    assert list(rag["role"].unique()) == ["candidate"]
    assert len(rag) == 8
    assert set(rag["model"]) == {"answer@keyword-v1"}
    assert rag["context"].map(len).eq(1).all()
    recorded = answers[answers["suite"] == "support-recorded"]
    assert len(recorded) == 6
    assert set(recorded["model"]) == {"support-bot-logs"}
    assert recorded["latency_s"].eq(0).all()  # nothing was generated


def test_the_data_gates_example_asks_each_question_clean_and_perturbed(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, reports = example_run
    answers = pd.read_json(only_run(reports) / "answers.jsonl", lines=True)
    realism = answers[answers["suite"] == "support-realism"]
    assert len(realism) == 2 * 16  # 8 questions, each also in chat register, both models
    assert realism["item_id"].str.endswith("~chat_register").sum() == 16
    run = json.loads((only_run(reports) / "run.json").read_text())
    gates = {g["name"]: g for s in run["suites"] if s["name"] == "support-realism"
             for g in s["gates"]}  # fmt: skip
    assert set(gates) == {"matches_production", "robustness(max_drop=0.15, min_items=8)"}
    assert gates["matches_production"]["details"]["n_eval"] == 8
    drops = gates["robustness(max_drop=0.15, min_items=8)"]["details"]["perturbations"]
    assert [(d["perturbation"], d["n"]) for d in drops] == [("chat_register", 8)]


def test_the_prompt_variants_are_ranked_on_one_leaderboard(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, reports = example_run
    run = json.loads((only_run(reports) / "run.json").read_text())
    group = next(s for s in run["suites"] if s["name"] == "prompt-variants")
    board = group["leaderboard"]
    assert board["baseline"] == "local/gemma-3-270m"
    assert {s["model"] for s in board["standings"]} == {
        "terse", "explain", "quiz", "local/gemma-3-270m",
    }  # fmt: skip
    assert "leaderboard (Elo scale, local/gemma-3-270m = 1000" in proc.stdout
    # Each variant is asked once per item, with its own instructions.
    answers = pd.read_json(only_run(reports) / "answers.jsonl", lines=True)
    mine = answers[answers["suite"].str.startswith("prompt-variants/")]
    assert sorted(mine.loc[mine["role"] == "candidate", "model"].unique()) == [
        "explain", "quiz", "terse",
    ]  # fmt: skip


def test_the_release_gate_probes_and_examines_its_judges(
    example_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, reports = example_run
    run_dir = only_run(reports)
    table = pd.read_json(run_dir / "probes.jsonl", lines=True)
    assert set(table["suite"]) == {"general-knowledge"}
    assert set(table["judge"]) == {"smollm2", "gemma"}
    probes = table[table["kind"] == "probe"]
    assert set(probes["probe"]) == {"unedited", "bandwagon", "verbosity"}
    # probe_items=4: 4 items x (unedited + 2 probes) x 2 orders x 2 judges.
    assert probes["item_id"].nunique() == 4
    assert len(probes) == 4 * 3 * 2 * 2
    # exam=4: the references of 4 drawn rows give one to three planted pairs each (a number,
    # a negation, a name, where the text has one), each judged in both orders by both judges.
    exam = table[table["kind"] == "exam"]
    assert exam["item_id"].nunique() == 4
    pairs = len(exam[["item_id", "probe"]].drop_duplicates())
    assert 4 <= pairs <= 12
    assert len(exam) == pairs * 2 * 2
    assert set(exam["probe"]) == {"exam:number", "exam:negation", "exam:name"}
    assert table["question"].str.len().gt(0).all()
    run = json.loads((run_dir / "run.json").read_text())
    checks = {(c["judge"], c["check"]) for s in run["suites"] if s["name"] == "general-knowledge"
              for c in s["audit"]["checks"]}  # fmt: skip
    assert {("smollm2", "exam"), ("gemma", "exam")} <= checks
    html = (run_dir / "report.html").read_text()
    assert "Bias probes" in html
    assert "Qualification exam" in html
