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
