"""Ctrl-C (SIGINT) and SIGTERM at any moment of a run: exit 2 and a report marked interrupted.

The suites run with pytest in a subprocess against the fake provider, with latency. To hit a
phase exactly rather than after a guessed sleep, the run is told to signal itself when it gets
there (``_EVALKIT_SIGNAL_AT=<phase>:<SIGNAL>``): at the first answer, at the first judgment
(calls in flight), after the last call (the audit), between tests (a gate), while run.json and
the report are written, and after them (the terminal summary). Whatever the moment, the run
exits 2, run.json says ``interrupted``, every row written is intact and in the report, and
every call that reached the provider is a row. A second signal aborts at once; under xdist,
a signal to the controller alone stops every worker's calls.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _project import SECRET, clean_env, make_project

from evalkit.session._signals import RunInterrupts
from evalkit.testing import FakeProvider, JudgeParams, ModelBehaviour

N_ITEMS = 20
CONCURRENCY = 2
HOOK = "_EVALKIT_SIGNAL_AT"
WRITERS = ("sim-writer-openai-q0.90", "sim-writer-meta-q0.30")
JUDGES = ("sim-judge-fair", "sim-judge-first")


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(seed=3) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(position_bias=0.5, seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        for model in (*WRITERS, *JUDGES):
            provider.behave(model, ModelBehaviour(latency_s=0.03))
        yield provider


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider",
            f"--evalkit-concurrency={CONCURRENCY}", *args]  # fmt: skip


def environ(hook: str | None = None) -> dict[str, str]:
    env = clean_env(SECRET)
    env.pop(HOOK, None)
    if hook is not None:
        env[HOOK] = hook
    return env


def run_folder(root: Path) -> Path:
    (only,) = [p for p in (root / "out" / "reports").iterdir() if p.is_dir()]
    return only


def rows(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, each of which must be one whole JSON object."""
    lines = path.read_bytes().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def report_calls(folder: Path) -> dict[str, Any]:
    html = (folder / "report.html").read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="item-data">(.*?)</script>', html, re.S)
    assert found, "the report has no item table"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def assert_interrupted_report(proc: subprocess.CompletedProcess[str], root: Path) -> pd.DataFrame:
    """Exit 2, run.json interrupted, every row intact and shown: return the judgments."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    folder = run_folder(root)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "interrupted", out[-3000:]
    assert "This run was interrupted" in (folder / "report.html").read_text(encoding="utf-8")
    judgments = rows(folder / "judgments.jsonl")
    answers = rows(folder / "answers.jsonl")
    assert judgments, "no judgment was written"
    data = report_calls(folder)
    assert len(data["calls"]["judge"]) == len(judgments)
    assert set(data["items"]["id"]) == {r["item_id"] for r in judgments}
    # No temporary file of an atomic write is left half-way.
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert len(answers) == N_ITEMS * 2
    return pd.DataFrame(judgments)


def calls_made(root: Path) -> int:
    """Rows of calls that reached a model: the fake injects no fault, so those with no error.

    The others were refused (status ``not_run``, error ``interrupted``) or had nothing to judge.
    """
    folder = run_folder(root)
    made = 0
    for row in rows(folder / "answers.jsonl") + rows(folder / "judgments.jsonl"):
        error = row.get("error") or ""
        made += not error or error.startswith("parse")
    return made


DURING_CALLS = [("answer", "SIGINT"), ("judgment", "SIGTERM"), ("judgment", "SIGINT")]
AFTER_CALLS = [
    ("analysis", "SIGINT"),  # after the last call, while the suite is audited
    ("analysis", "SIGTERM"),
    ("gate", "SIGINT"),  # between tests: the gate tests read the finished result
    ("finish", "SIGINT"),  # while run.json and the report are being written
    ("finish", "SIGTERM"),
    ("summary", "SIGINT"),  # after they were written, while the summary is printed
]


@pytest.mark.slow
@pytest.mark.parametrize(("phase", "sig"), DURING_CALLS)
def test_a_signal_during_the_calls_stops_them_and_keeps_every_call_made(
    tmp_path: Path, fake: FakeProvider, phase: str, sig: str
) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3, n_items=N_ITEMS)
    proc = subprocess.run(command(), cwd=root, env=environ(f"{phase}:{sig}"),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    table = assert_interrupted_report(proc, root)
    assert len(table) == N_ITEMS * 4
    not_run = table["status"].eq("not_run") & table["error"].eq("interrupted")
    assert 0 < not_run.sum() < len(table)
    # Every call that reached the provider finished and is a row: none was lost, none made
    # after the stop was left out.
    assert fake.requests() == calls_made(root)
    assert f"interrupted by {sig}" in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("phase", "sig"), AFTER_CALLS)
def test_a_signal_after_the_last_call_still_leaves_the_whole_report(
    tmp_path: Path, fake: FakeProvider, phase: str, sig: str
) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3, n_items=N_ITEMS)
    proc = subprocess.run(command(), cwd=root, env=environ(f"{phase}:{sig}"),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    table = assert_interrupted_report(proc, root)
    assert len(table) == N_ITEMS * 4
    assert not table["status"].eq("not_run").any()
    assert fake.requests() == N_ITEMS * 6 == calls_made(root)
    run = json.loads((run_folder(root) / "run.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in run["suites"]] == ["sim"]


@pytest.mark.slow
def test_a_second_signal_aborts_without_waiting_for_the_calls_in_flight(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # One judge answers at once, the other takes 20 s: at the first judgment, calls of the
    # slow judge are in flight, and a single Ctrl-C would wait for them.
    fake.behave("sim-judge-first", ModelBehaviour(latency_s=20.0))
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3, n_items=N_ITEMS)
    proc = subprocess.run(command(), cwd=root, env=environ("judgment:SIGINT+SIGINT"),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    out = proc.stdout + proc.stderr
    # The run ended while the provider was still working on its calls: it did not wait.
    assert fake.in_flight("sim-judge-first") > 0, out[-3000:]
    assert proc.returncode == 2, out[-3000:]
    assert "aborted by a second signal" in out
    folder = run_folder(root)
    assert not (folder / "run.json").exists()
    # What was written before the abort is intact, line by line.
    assert rows(folder / "judgments.jsonl")
    assert len(rows(folder / "answers.jsonl")) == N_ITEMS * 2


@pytest.mark.slow
def test_a_signal_to_the_xdist_controller_alone_stops_every_worker_and_leaves_a_report(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # Slow judges: a worker late to see the stop by a scheduling hiccup has no time to send
    # a second call per slot, so the bound below holds on a loaded machine too.
    for model in JUDGES:
        fake.behave(model, ModelBehaviour(latency_s=0.3))
    root = make_project(tmp_path, fake, candidate_q=0.9, baseline_q=0.3, n_items=N_ITEMS)
    (root / "suites" / "test_sim2.py").write_text(
        "import evalkit\n"
        "suite = evalkit.Suite('sim2', dataset='data.jsonl', prompt='Again: {{ question }}',\n"
        "                      gates=[evalkit.gates.WinRate(at_least=0.5)])\n"
        "test_item, test_gate = suite.tests()\n"
    )
    # One suite per worker (--dist loadfile), so that both make calls when the signal comes.
    proc = subprocess.Popen(command("-n", "2", "--dist", "loadfile"), cwd=root, env=environ(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    # Wait until both workers are judging (judgment rows of both suites are on disk).
    reports = root / "out" / "reports"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        judged = [len(p.read_bytes().splitlines()) for p in reports.rglob("judgments.gw*.jsonl")]
        if len(judged) == 2 and min(judged) >= 4:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    before = fake.requests()
    proc.send_signal(signal.SIGINT)  # the controller only, as `kill -INT <pid>` does
    out, _ = proc.communicate(timeout=300)
    # Calls already sent were in flight; at most one per free slot can have been sent before
    # the workers saw the stop (2 workers x 2 judges x the concurrency), not the rest.
    assert fake.requests() - before <= 2 * 2 * CONCURRENCY, out[-3000:]
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    assert done.returncode == 2, out[-3000:]
    folder = run_folder(root)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "interrupted"
    assert sorted(s["name"] for s in run["suites"]) == ["sim", "sim2"]
    # The workers' rows were merged into the run's files, each once, every line whole.
    assert sorted(p.name for p in folder.iterdir()) == [
        "answers.jsonl", "judgments.jsonl", "report.html", "run.json",
    ]  # fmt: skip
    judgments = rows(folder / "judgments.jsonl")
    assert len(judgments) == 2 * N_ITEMS * 4
    assert len(report_calls(folder)["calls"]["judge"]) == len(judgments)
    assert fake.requests() == calls_made(root)


def test_the_first_signal_is_held_in_a_protected_section_and_a_second_aborts() -> None:
    interrupts = RunInterrupts()
    interrupts.install()
    try:
        with interrupts.protect():
            os.kill(os.getpid(), signal.SIGTERM)
            assert interrupts.received == "SIGTERM"
            with pytest.raises(KeyboardInterrupt, match="aborted by a second signal"):
                os.kill(os.getpid(), signal.SIGINT)
        assert interrupts.aborted
    finally:
        interrupts.uninstall()


def test_the_first_signal_outside_a_protected_section_stops_at_once() -> None:
    interrupts = RunInterrupts()
    interrupts.install()
    try:
        with pytest.raises(KeyboardInterrupt, match="interrupted by SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
        assert interrupts.interrupted
        assert not interrupts.aborted
    finally:
        interrupts.uninstall()
    # The handlers the process had before are back.
    assert signal.getsignal(signal.SIGTERM) is not interrupts._on_signal


def test_a_worker_follows_the_controllers_signals_through_the_stop_file(tmp_path: Path) -> None:
    controller, worker = RunInterrupts(), RunInterrupts()
    controller.forward_to_workers(tmp_path)
    controller.hold()
    controller.install()
    try:
        worker.follow_controller(tmp_path)
        os.kill(os.getpid(), signal.SIGINT)
        assert controller.received == "SIGINT"
        assert not controller.aborted
        deadline = time.monotonic() + 30
        while not worker.interrupted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.received == "SIGINT"
        assert not worker.aborted
        # A worker stops between tests (the plugin's shouldstop), never inside one.
        worker.raise_if_interrupted()
        assert (tmp_path / "handoff" / "stop").read_text() == "1"
    finally:
        controller.uninstall()
        worker.uninstall()
