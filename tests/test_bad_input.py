"""Bad input, catalogued: one clear message naming the place to fix, before anything is spent.

Each case breaks one thing in an otherwise working project (fake provider, simulated models),
runs `pytest suites/` in a subprocess, and checks that the run stops with a non-zero exit and a
message naming the file, row, field, flag or model, that the provider received no request, and
that the cache and earlier results on disk are byte-for-byte untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _project import make_project

from evalkit.testing import FakeProvider, JudgeParams

ROWS = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(4)]


def write_project(root: Path, fake: FakeProvider) -> None:
    make_project(
        root,
        fake,
        rows=ROWS,
        settings={},
        judges={"fair": "anthropic"},
        judge_params=None,
        panel="",
        gates="[evalkit.gates.WinRate(min_items=1)]",
    )
    # Results and a cache from an earlier run that must survive every bad run untouched.
    (root / "out" / "reports" / "earlier").mkdir(parents=True)
    (root / "out" / "reports" / "earlier" / "judgments.jsonl").write_text('{"keep": 1}\n')
    (root / "out" / "cache").mkdir(parents=True)
    (root / "out" / "cache" / "marker").write_text("cache content")


def edit(path: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / path).write_text(text)


def edit_bytes(path: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: (root / path).write_bytes(data)


def append(path: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / path).write_text((root / path).read_text() + text)


def rows(*extra: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in [*ROWS, *extra])


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    """Write one file, creating its folder."""

    def apply(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return apply


def parquet_without_pyarrow(root: Path) -> None:
    """A Parquet dataset, in a project whose Python cannot import pyarrow."""
    import pandas as pd

    pd.DataFrame(ROWS).to_parquet(root / "suites" / "data.parquet")
    (root / "suites" / "conftest.py").write_text(
        "import sys\nsys.modules['pyarrow'] = None\nsys.modules['fastparquet'] = None\n"
    )
    (root / SUITE).write_text(
        "import evalkit\nsuite = evalkit.Suite('sim', dataset='data.parquet',\n"
        "                      gates=[evalkit.gates.WinRate(min_items=1)])\n"
        "test_item, test_gate = suite.tests()\n"
    )


def twin_judge(root: Path) -> None:
    """A second judge file that declares the name of the first, both on the panel."""
    (root / "judges" / "twin.yaml").write_text((root / "judges" / "fair.yaml").read_text() + "name: fair\n")
    (root / "judges" / "sim.yaml").write_text("kind: panel\njudges: [fair, twin]\n")


MINE = append("judges/fair.yaml", "template: mine.j2\n")
SUITE = "suites/test_sim.py"
DATA = "suites/data.jsonl"
NOOP: Callable[[Path], None] = lambda root: None  # noqa: E731

# (id, how to break the project, extra command-line arguments, extra env, expected message)
CASES: list[tuple[str, Callable[[Path], None], list[str], dict[str, str], str]] = [
    ("row-missing-field", edit(DATA, rows({"id": "x"})), [], {}, "data.jsonl:5: missing field 'question'"),
    ("row-empty-field", edit(DATA, rows({"id": "x", "question": "  "})), [], {}, "data.jsonl:5: field 'question' must be non-empty text"),
    ("row-wrong-type", edit(DATA, rows({"id": "x", "question": 42})), [], {}, "data.jsonl:5: field 'question' must be non-empty text"),
    ("row-duplicate-id", edit(DATA, rows({"id": "q1", "question": "again"})), [], {}, "data.jsonl:5: duplicate id 'q1' (first used on row 2)"),
    ("row-bad-json", edit(DATA, rows() + '{"id": "x", "question": \n'), [], {}, "data.jsonl:5: not valid JSON"),
    ("row-huge-field", edit(DATA, rows({"id": "x", "question": "y" * 1_000_000})), [], {}, "field 'question' is 1,000,000 characters"),
    ("row-bad-human-label", edit(DATA, rows({"id": "x", "question": "q", "human_label": "A"})), [], {}, "'human_label' is 'A'; use one of candidate, baseline, tie"),
    ("dataset-empty", edit(DATA, ""), [], {}, "data.jsonl: the dataset is empty"),
    ("dataset-latin1", edit_bytes(DATA, '{"question": "caf\u00e9"}\n'.encode("latin-1")), [], {}, "data.jsonl: not UTF-8 text"),
    ("dataset-missing", edit(SUITE, "import evalkit\nsuite = evalkit.Suite('sim', dataset='nope.jsonl')\ntest_item, test_gate = suite.tests()\n"), [], {}, "nope.jsonl: dataset file not found"),
    ("prompt-undefined-variable", edit(SUITE, "import evalkit\nsuite = evalkit.Suite('sim', dataset='data.jsonl', prompt='{{ context }}')\ntest_item, test_gate = suite.tests()\n"), [], {}, "data.jsonl:1: missing field 'context' (the suite's prompt uses it)"),
    ("judge-unknown-key", append("judges/fair.yaml", "temprature: 0\n"), [], {}, "fair.yaml: unknown key 'temprature'"),
    ("judge-missing-model", edit("judges/fair.yaml", "kind: judge\ntemplate: pairwise_chat.j2\n"), [], {}, "fair.yaml: missing required key 'model'"),
    ("judge-bad-yaml", edit("judges/fair.yaml", "kind: judge\n  model: [\n"), [], {}, "fair.yaml: not valid YAML"),
    ("judge-template-undefined", append("judges/fair.yaml", "template: mine.j2\n") , [], {}, ""),
    ("judge-unknown-parser", append("judges/fair.yaml", "parser: nope\n"), [], {}, "fair.yaml: parser: unknown parser 'nope'; known parsers: ab,"),
    ("panel-missing-judge", edit("judges/sim.yaml", "kind: panel\njudges: [fair, ghost]\n"), [], {}, "sim.yaml: judges: no judge named 'ghost'; available: "),
    ("panel-quorum-too-big", edit("judges/sim.yaml", "kind: panel\njudges: [fair]\nquorum: 3\n"), [], {}, "sim.yaml: quorum: 3 is larger than the panel (1 judges)"),
    ("flag-unknown-panel", NOOP, ["--evalkit-panel=nope"], {}, "no judge or panel named 'nope'"),
    ("flag-bad-concurrency", NOOP, ["--evalkit-concurrency=0"], {}, "option --evalkit-concurrency: Input should be greater than 0"),
    ("flag-not-a-number", NOOP, ["--evalkit-timeout-s=soon"], {}, "--evalkit-timeout-s: invalid float value: 'soon'"),
    ("flag-bad-cache-mode", NOOP, ["--evalkit-cache-mode=sometimes"], {}, "option --evalkit-cache-mode: Input should be 'use', 'refresh', 'off' or 'replay'"),
    ("env-bad-inconclusive", NOOP, [], {"EVALKIT_INCONCLUSIVE": "maybe"}, "environment variable EVALKIT_INCONCLUSIVE: Input should be 'fail' or 'warn'"),
    ("config-unknown-key", append("pyproject.toml", "concurency = 4\n"), [], {}, "[tool.evalkit] concurency: unknown setting 'concurency'"),
    ("config-bad-toml", append("pyproject.toml", "[tool.evalkit\n"), [], {}, "pyproject.toml: Cannot declare ('tool', 'evalkit') twice"),
    ("config-negative-budget", append("pyproject.toml", "budget_usd = -1\n"), [], {}, "[tool.evalkit] budget_usd: Input should be greater than or equal to 0"),
    ("model-unknown-local", NOOP, ["--evalkit-candidate=local/llama-7b"], {}, "unknown local model 'local/llama-7b'; the bundled ones are"),
    ("model-not-litellm", NOOP, ["--evalkit-candidate=definitely-not-a-model"], {}, "suite 'sim', candidate: 'definitely-not-a-model' is not a litellm model string"),
    ("model-no-api-key", edit("judges/fair.yaml", "kind: judge\nmodel: anthropic/claude-3-5-haiku-latest\ntemplate: pairwise_chat.j2\n"), [], {}, "suite 'sim', judge fair: no API key for anthropic/claude-3-5-haiku-latest: set the ANTHROPIC_API_KEY"),
    ("model-no-key-for-server", NOOP, [], {"OPENAI_API_KEY": ""}, "suite 'sim', candidate: no API key for openai/sim-writer-openai-q0.80"),
    # issue 11, item 6: found only after calls were spent
    ("judge-param-date", append("judges/fair.yaml", "params: {seed: 2024-01-01}\n"), [], {}, "fair.yaml: params.seed: 2024-01-01 is read as a date|quote it"),
    ("judge-param-set", append("judges/fair.yaml", "params: {stop: !!set {a: null}}\n"), [], {}, "fair.yaml: params.stop: {'a'} is read as a set"),
    ("judge-duplicate-name", twin_judge, [], {}, "judges/fair.yaml and |judges/twin.yaml both define a judge named 'fair'"),
    ("judge-api-base-no-scheme", append("judges/fair.yaml", "api_base: 127.0.0.1:9/v1\n"), [], {}, "fair.yaml: api_base: '127.0.0.1:9/v1' is not an http:// or https:// URL"),
    ("flag-api-base-no-scheme", NOOP, ["--evalkit-candidate-api-base=localhost:9/v1"], {}, "option --evalkit-candidate-api-base: 'localhost:9/v1' is not an http:// or https:// URL"),
    ("env-api-base-no-scheme", NOOP, [], {"EVALKIT_BASELINE_API_BASE": "localhost:9/v1"}, "environment variable EVALKIT_BASELINE_API_BASE: 'localhost:9/v1' is not an http://"),
    ("judge-huge-scale", write("judges/fair.yaml", "kind: judge\nmodel: openai/sim-judge-fair\nmode: pointwise\ntemplate: rubric_chat.j2\nparser: rating\nscale: {min: 1, max: 100000}\n"), [], {}, "fair.yaml: scale: 1-100000 lists 100,000 scores; a scale may have at most 101"),
    # item 7: settings silently ignored
    ("env-misspelt-concurrency", NOOP, [], {"EVALKIT_CONCURENCY": "4"}, "environment variable EVALKIT_CONCURENCY: not an evalkit setting (did you mean 'EVALKIT_CONCURRENCY'?)"),
    ("env-misspelt-max-calls", NOOP, [], {"EVALKIT_MAXCALLS": "1"}, "environment variable EVALKIT_MAXCALLS: not an evalkit setting (did you mean 'EVALKIT_MAX_CALLS'?)"),
    ("flag-empty-candidate", NOOP, ["--evalkit-candidate="], {}, "option --evalkit-candidate: empty value"),
    ("env-empty-panel", NOOP, [], {"EVALKIT_PANEL": ""}, "environment variable EVALKIT_PANEL: empty value"),
    ("config-empty-baseline", NOOP, ["--evalkit-baseline= "], {}, "option --evalkit-baseline: empty value"),
    # item 8: tracebacks instead of one message
    ("template-raises", write("judges/mine.j2", "{{ question }} {{ answer_a }} {{ answer_b }} {{ 1 / 0 }}"), [], {}, "mine.j2 failed while rendering: ZeroDivisionError"),
    ("template-not-utf8", write("judges/mine.j2", "{{ question }} caf\u00e9 {{ answer_a }} {{ answer_b }}".encode("latin-1")), [], {}, "mine.j2: not UTF-8 text"),
    ("template-includes-missing", write("judges/mine.j2", "{% include 'part.j2' %} {{ question }} {{ answer_a }} {{ answer_b }}"), [], {}, "mine.j2 includes 'part.j2', which is not in judges/"),
    ("cache-dir-is-a-file", write("out/cachefile", "not a folder"), ["--evalkit-cache-dir=out/cachefile"], {}, "cache_dir |out/cachefile: is a file, not a folder"),
    ("reports-dir-cannot-be-made", write("out/cachefile", "not a folder"), ["--evalkit-reports-dir=out/cachefile/reports"], {}, "reports_dir |cannot be created, because |out/cachefile is a file"),
    ("dataset-lone-surrogate", edit(DATA, rows() + '{"id": "x", "question": "bad \\ud800 text"}\n'), [], {}, "data.jsonl:5: field 'question' holds '\\ud800' at character 4"),
    ("dataset-nested-huge-field", edit(DATA, rows({"id": "x", "question": "q", "context": {"docs": ["ok", "y" * 200_000]}})), [], {}, "data.jsonl:5: field 'context.docs[1]' is 200,000 characters"),
    ("dataset-parquet-without-pyarrow", parquet_without_pyarrow, [], {}, "data.parquet: reading Parquet needs pyarrow"),
    ("panel-without-kind", edit("judges/sim.yaml", "judges: [fair]\n"), [], {}, "sim.yaml: missing required key 'kind'; add 'kind: panel'"),
]


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }  # fmt: skip


@pytest.fixture(scope="module")
def fake() -> FakeProvider:
    with FakeProvider(seed=3) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=3))
        yield provider


@pytest.mark.slow  # one pytest subprocess per case
@pytest.mark.parametrize(("name", "breaks", "args", "env", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_named_and_nothing_is_spent_or_lost(
    tmp_path: Path, fake: FakeProvider, name: str, breaks: Callable[[Path], None],
    args: list[str], env: dict[str, str], message: str,
) -> None:
    write_project(tmp_path, fake)
    if name.startswith("template-"):
        MINE(tmp_path)
    if name == "judge-template-undefined":
        (tmp_path / "judges" / "mine.j2").write_text("{{ question }} {{ answer_a }} {{ answer_b }} {{ rubric }}")
        message = "fair.yaml|'mine.j2' uses an undefined variable ('rubric' is undefined)"
    breaks(tmp_path)
    before = digest(tmp_path / "out")
    requests_before = fake.requests()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALKIT_", "PYTEST_", "CI"))}
    run_env.pop("ANTHROPIC_API_KEY", None)
    run_env["OPENAI_API_KEY"] = "sk-test-placeholder"
    run_env.update(env)
    # An empty value unsets a variable, except an EVALKIT_ one: that case is an empty setting.
    run_env = {k: v for k, v in run_env.items() if v != "" or k.startswith("EVALKIT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider", *args],
        cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-2000:]
    for part in message.split("|"):  # every part must be in the one message
        assert part in output, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    assert fake.requests() == requests_before, "nothing may be spent on bad input"
    assert digest(tmp_path / "out") == before, "earlier results and the cache must be untouched"
