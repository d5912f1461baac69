"""Whole suites against providers that misbehave: odd text, echoed credentials, refusals.

Each runs ``pytest suites/`` in a subprocess against the fake provider, as a user would.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from _project import make_project, run_dir, run_pytest

from evalkit.testing import FakeProvider, Fault, JudgeParams, ModelBehaviour, refused_base_url

# The everyday loop (-m 'not slow') leaves these out: whole suites against hostile providers, in subprocesses.
pytestmark = pytest.mark.slow

N = 6
CANDIDATE = "sim-writer-openai-q0.70"
ENV_KEY = "k8Zq2Wx9"  # 8 characters and no known shape: only its origin says it is a key
HEADER_SECRET = "hdr-Secret-7731"
URL_SECRET = "urlPw-Secret-1234"


@pytest.fixture
def fake() -> FakeProvider:
    with FakeProvider(seed=3) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(position_bias=0.5, seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        yield provider


def run(root: Path, *args: str, key: str = ENV_KEY) -> subprocess.CompletedProcess[str]:
    return run_pytest(root, *args, api_key=key)


def test_a_lone_surrogate_in_answers_and_verdicts_does_not_stop_the_suite(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.7, baseline_q=0.5, n_items=N)
    fake.behave(CANDIDATE, ModelBehaviour(reply="A fine answer \ud800 indeed."))
    fake.behave("sim-judge-first", ModelBehaviour(reply="Verdict: [[A]] \udfff"))
    first = run(root)
    assert "UnicodeEncodeError" not in first.stdout + first.stderr
    assert first.returncode in (0, 1), first.stdout[-3000:]
    folder = run_dir(root)
    assert (folder / "report.html").is_file()
    answers = pd.read_json(folder / "answers.jsonl", lines=True)
    cand = answers[answers["role"] == "candidate"]
    assert (cand["text"] == "A fine answer \ufffd indeed.").all()
    assert cand["text_repaired"].all()
    assert not answers.loc[answers["role"] == "baseline", "text_repaired"].any()
    table = pd.read_json(folder / "judgments.jsonl", lines=True)
    first_judge = table[table["judge"] == "first"]
    assert first_judge["parse_ok"].all()  # the judge's verdict is read despite the repair
    assert first_judge["text_repaired"].all()
    assert (first_judge["raw_output"] == "Verdict: [[A]] \ufffd").all()
    assert "\ufffd" in (folder / "report.html").read_text(encoding="utf-8")
    # Stored repaired, so a rerun replays it instead of failing on it again.
    # The fair judge cannot read the fixed answer: its unreadable replies are replayed too.
    calls = fake.requests(CANDIDATE), fake.requests("sim-judge-first")
    assert calls == (N, 2 * N)
    fair = fake.requests("sim-judge-fair")
    second = run(root)
    assert second.returncode == first.returncode
    assert (fake.requests(CANDIDATE), fake.requests("sim-judge-first")) == calls
    assert fake.requests("sim-judge-fair") == fair


def test_no_credential_is_written_anywhere(tmp_path: Path, fake: FakeProvider) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.7, baseline_q=0.5, n_items=N)
    # First run: a judge whose provider echoes the request's headers in its 401.
    (root / "judges" / "fair.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-fair\nfamily: anthropic\n"
        f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n"
        f"params: {{max_tokens: 50, extra_headers: {{x-proxy-auth: {HEADER_SECRET}}}}}\n"
    )
    fake.behave("sim-judge-fair", ModelBehaviour(faults=(Fault.echo_headers(401),), fault_rate=1.0))
    junit = root / "out" / "junit-1.xml"
    echoed = run(root, f"--junitxml={junit}")
    folder = run_dir(root)
    fair_errors = pd.read_json(folder / "judgments.jsonl", lines=True).query("judge == 'fair'")
    assert len(fair_errors) == 2 * N
    shown = "request headers were Authorization: [redacted], x-proxy-auth: [redacted];"
    assert fair_errors["error"].str.contains(shown, regex=False).all()
    # Second run: a baseline whose api_base carries a password in its user part.
    pyproject = (root / "pyproject.toml").read_text()
    secret_base = fake.base_url.replace("http://", f"http://bob:{URL_SECRET}@")
    pyproject = pyproject.replace(
        f'baseline_api_base = "{fake.base_url}"', f'baseline_api_base = "{secret_base}"'
    )
    (root / "pyproject.toml").write_text(pyproject)
    in_url = run(root, f"--junitxml={root / 'out' / 'junit-2.xml'}")
    (second,) = [p for p in (root / "out" / "reports").iterdir() if p != folder]
    answers = pd.read_json(second / "answers.jsonl", lines=True).query("role == 'baseline'")
    assert answers["error"].str.startswith("client: could not send the request").all()
    run_json = json.loads((second / "run.json").read_text())
    assert run_json["config"]["baseline_api_base"].startswith("http://[redacted]@127.0.0.1:")

    # The secrets did travel (so the search below is not vacuous)...
    received = [str(r.headers) for r in fake.received()]
    assert any(HEADER_SECRET in h for h in received)
    assert any(ENV_KEY in h for h in received)
    # ...and were written nowhere: not in any file, not on the terminal.
    files = [p for p in (root / "out").rglob("*") if p.is_file()]
    assert {"run.json", "report.html", "judgments.jsonl", "answers.jsonl", "junit-2.xml"} <= {
        p.name for p in files
    }
    for path in files:
        data = path.read_bytes()
        for secret in (HEADER_SECRET, URL_SECRET, ENV_KEY):
            assert secret.encode() not in data, (path, secret)
    for proc in (echoed, in_url):
        for secret in (HEADER_SECRET, URL_SECRET, ENV_KEY):
            assert secret not in proc.stdout + proc.stderr, secret


def test_a_refusing_provider_is_summed_up_in_one_line(tmp_path: Path, fake: FakeProvider) -> None:
    root = make_project(tmp_path, fake, candidate_q=0.7, baseline_q=0.5, n_items=N)
    dead = refused_base_url()
    pyproject = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        pyproject.replace(f'candidate_api_base = "{fake.base_url}"', f'candidate_api_base = "{dead}"')
    )
    proc = run(root)
    summary = proc.stdout.split("suite sim:")[-1]
    line = f"{N} calls failed: unavailable: could not connect to {dead} for …: connection refused"
    assert line in summary, summary
    assert summary.count("connection refused") == 1
    # Each failed item says why in its message; no traceback of evalkit's plugin, which made
    # a refusing provider print some 35 lines per item.
    assert proc.stdout.count("FAILED suites/test_sim.py::test_item") == N
    assert "_pytest_tests.py" not in proc.stdout
