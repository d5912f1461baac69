"""``evalkit probe``: qualify a panel on a dataset's own answer pairs, with no candidate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.testing import FakeProvider, JudgeParams, WriterParams, write_answer

N_ITEMS = 20
ARGS = ["probe", "--panel", "p", "--dataset", "data.jsonl", "--probes", "bandwagon,tone"]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        follower = JudgeParams(follows=(("bandwagon", 0.7),), self_family="anthropic", seed=1)
        provider.register_judge("sim-judge-follower", follower)
        provider.register_judge("sim-judge-fair", JudgeParams(self_family="openai", seed=2))
        yield provider


@pytest.fixture
def project(tmp_path: Path, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "judges").mkdir()
    for name, family in (("follower", "anthropic"), ("fair", "openai")):
        (tmp_path / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n"
        )
    (tmp_path / "judges" / "p.yaml").write_text("kind: panel\njudges: [follower, fair]\n")
    good, poor = WriterParams("google", 0.8), WriterParams("meta", 0.4)
    rows = [
        {"id": f"q{i:02d}", "question": f"Question {i}?",
         "answer_a": write_answer(good, f"Question {i}?"),
         "answer_b": write_answer(poor, f"Question {i}?")}
        for i in range(N_ITEMS)
    ]  # fmt: skip
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.evalkit]\ncache_dir = "cache"\nreports_dir = "reports"\nmax_retries = 0\n'
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_probe_qualifies_a_panel_and_a_rerun_is_free(
    project: Path, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*ARGS, "--items", str(N_ITEMS), "--run-id", "first"])
    out = capsys.readouterr().out
    assert code == 1  # the follower is ruled out
    assert "untrusted by the probes: follower" in out
    lines = [line.split() for line in out.splitlines() if "probe:" in line]
    statuses = {(w[0], w[1]): w[2] for w in lines}
    assert statuses == {
        ("follower", "probe:bandwagon"): "untrusted", ("follower", "probe:tone"): "ok",
        ("fair", "probe:bandwagon"): "ok", ("fair", "probe:tone"): "ok",
    }  # fmt: skip
    # Phase 1: 2 judges x 20 unedited pairs x 2 orders; phase 2: the same x 2 probes.
    table = (project / "reports" / "first" / "probes.jsonl").read_text().splitlines()
    assert len(table) == 2 * N_ITEMS * 2 * 3
    assert fake.requests() == len(table)
    summary = json.loads((project / "reports" / "first" / "probes.json").read_text())
    assert len(summary["stats"]) == 4

    fake.reset()
    assert main([*ARGS, "--items", str(N_ITEMS), "--run-id", "again"]) == 1
    assert fake.requests() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--items", "21"], "probe_items=21 but the dataset"),
        (["--probes", "bandwagn"], "unknown probe 'bandwagn'; known probes: apology, authority"),
        (["--second", "answer_c"], "answer_c"),
        (["--panel", "nope"], "nope"),
    ],
)
def test_bad_input_is_one_message_before_any_call(
    project: Path,
    fake: FakeProvider,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    argv = [*ARGS, "--items", "5", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalkit: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert fake.requests() == 0
    assert not (project / "reports").exists()


def _declare(project: Path, **fields: object) -> None:
    """Give every row of the project's dataset ``fields`` (a value, or a function of the row)."""
    path = project / "data.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.update({k: v(row) if callable(v) else v for k, v in fields.items()})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _probe_lines(out: str) -> dict[tuple[str, str], str]:
    """The (judge, check) -> status lines the command prints (indented, one per check)."""
    return {(w[0], w[1]): w[2] for line in out.splitlines() if line.startswith("  ")
            and (w := line.split()) and (w[1].startswith("probe:") or w[1] == "exam")}  # fmt: skip


def test_the_exam_sits_beside_the_probes_and_rules_out_judges_that_pick_the_wrong_answer(
    project: Path, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    # The rows declare the weaker writer's answer (answer_b) correct: judges that read the
    # answers' quality pick answer_a, which the exam counts as wrong.
    _declare(project, better="b")
    code = main([*ARGS, "--items", str(N_ITEMS), "--exam", str(N_ITEMS), "--run-id", "x"])
    out = capsys.readouterr().out
    assert code == 1
    assert _probe_lines(out) == {
        ("follower", "probe:bandwagon"): "untrusted", ("follower", "probe:tone"): "ok",
        ("fair", "probe:bandwagon"): "ok", ("fair", "probe:tone"): "ok",
        ("fair", "exam"): "untrusted", ("follower", "exam"): "untrusted",
    }  # fmt: skip
    assert "untrusted by the probes and exam: fair, follower" in out
    run = project / "reports" / "x"
    table = [json.loads(line) for line in (run / "probes.jsonl").read_text().splitlines()]
    exam = [row for row in table if row["kind"] == "exam"]
    # Each row gives a graded pair and one planted pair per kind its answer allows.
    pairs = {(row["item_id"], row["probe"]) for row in exam}
    assert {probe for _, probe in pairs} >= {"exam:graded", "exam:number"}
    assert len({item for item, probe in pairs if probe == "exam:graded"}) == N_ITEMS
    assert len(exam) == 2 * len(pairs) * 2  # 2 judges x 2 orders
    assert len(table) == 2 * N_ITEMS * 2 * 3 + len(exam)
    # A graded pair is the unedited pair, in one order or the other: its prompts are hits.
    assert {row["cached"] for row in exam if row["probe"] == "exam:graded"} == {True}
    assert sum(row["cached"] for row in exam) == 2 * N_ITEMS * 2
    assert fake.requests() == sum(not row["cached"] for row in table)
    summary = json.loads((run / "probes.json").read_text())
    graded = {r["judge"]: r for r in summary["exam"] if r["probe"] == "exam:graded"}
    assert graded["fair"]["n_pairs"] == N_ITEMS
    assert graded["fair"]["accuracy"] <= 0.2
    assert graded["follower"]["accuracy"] <= 0.2
    assert {(c["judge"], c["status"]) for c in summary["checks"] if c["check"] == "exam"} == {
        ("fair", "untrusted"), ("follower", "untrusted"),
    }  # fmt: skip


def test_the_exam_alone_makes_no_probe_call_and_counts_declared_answers(
    project: Path, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    _declare(project, better="a")  # the truth: answer_a is the stronger writer's
    code = main(["probe", "--panel", "p", "--dataset", "data.jsonl", "--exam", "5",
                 "--run-id", "x"])  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("the exam of panel p on 5 items:")
    assert set(_probe_lines(out)) == {("fair", "exam"), ("follower", "exam")}
    table = [json.loads(line) for line in (project / "reports" / "x" / "probes.jsonl").open()]
    assert {row["kind"] for row in table} == {"exam"}
    assert fake.requests() == len(table)
    graded = [row for row in table if row["probe"] == "exam:graded"]
    assert len(graded) == 5 * 2 * 2
    good = {row["first"] if row["target"] == "a" else row["second"] for row in graded}
    assert all("family=google" in text for text in good)
    summary = json.loads((project / "reports" / "x" / "probes.json").read_text())
    fair = {r["probe"]: r for r in summary["exam"] if r["judge"] == "fair"}
    assert fair["exam:graded"]["accuracy"] >= 0.8
    assert code == (1 if any(c["status"] == "untrusted" for c in summary["checks"]) else 0)


def test_the_exam_plants_errors_in_references_and_caps_its_sample_with_a_note(
    project: Path, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    _declare(project, reference=lambda row: f"The bridge is {int(row['id'][1:]) + 12} km long.")
    main(["probe", "--panel", "p", "--dataset", "data.jsonl", "--exam", "25", "--run-id", "x"])
    out = capsys.readouterr().out
    assert "exam asked for 25 items but only 20 have a known answer" in out
    table = [json.loads(line) for line in (project / "reports" / "x" / "probes.jsonl").open()]
    assert {row["probe"] for row in table} == {"exam:number", "exam:negation"}
    for row in table:
        good, bad = (row["first"], row["second"])[:: 1 if row["target"] == "a" else -1]
        assert good == f"The bridge is {int(row['item_id'][1:]) + 12} km long."
        assert bad != good
    assert len({row["item_id"] for row in table}) == N_ITEMS


@pytest.mark.parametrize(
    ("fields", "args", "message"),
    [
        ({}, ["--exam", "5"], "--exam 5: exam not measurable: no known-answer items in "),
        ({"reference": "It is 12 km."}, ["--exam", "0"], "--exam 0: the exam needs at least 1"),
        ({"better": "A or B"}, ["--exam", "5"], "item 'q00': field 'better' is 'A or B'; write a"),
        ({"verdict": "c"}, ["--exam", "5", "--better", "verdict"], "field 'verdict' is 'c'"),
        ({}, ["--probes", " "], "name at least one probe, e.g. --probes bandwagon,verbosity, or"),
    ],
)
def test_bad_exam_input_is_one_message_before_any_call(
    project: Path,
    fake: FakeProvider,
    capsys: pytest.CaptureFixture[str],
    fields: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    _declare(project, **fields)
    assert main([*ARGS, "--items", "5", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalkit: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert fake.requests() == 0
    assert not (project / "reports").exists()
