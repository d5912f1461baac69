"""evalkit's driver for the peers bench (``../shared/bench/run_peers.sh``): grade known answers.

The workload is the bench's: ``common.items(N)``, each a question with a given answer and its
reference, graded by the judge ``judge-a`` at ``--base-url`` with ONE judge call per item. The
driver writes a small evalkit project under ``$BENCH_WORKDIR/project`` and runs
``python -m pytest suites/`` in it, as a user would:

  pyproject.toml        [tool.evalkit] the panel = the judge below, cache and reports inside
                        the project (so under $BENCH_WORKDIR)
  judges/bench-*.yaml   the judge: ``openai/judge-a`` at the mock, evalkit's packaged template,
                        parser and ``repair: true`` (as evalkit's packaged API judges have)
  suites/test_bench.py  ``evalkit.Suite(mode=...)`` over suites/data/items.jsonl
  conftest.py           timestamps for eval_s (no effect on the run); pairwise: the baseline

How the answers arrive. In ``reference`` mode (the bench's workload) the suite's candidate is
``evalkit.recorded(column="answer")``: the given answers are judged as they are, with no call,
and a scored suite asks no baseline, so the mock sees exactly one judge call per item.
``--mode pairwise`` needs a baseline model to compare with: a litellm custom provider
``given/sum`` registered in the project's conftest returns "The sum is <reference>." in-process,
with no HTTP request; evalkit routes those through its model layer (cache, limits, accounting),
and the driver reports how many there were (``answer_calls``) and how long they took
(``answers_s``). Pairwise mode asks two judge calls per item (both orders).

--mode reference (default): reference-guided 1-10 score (``reference_chat.j2``, parser
    ``rating``; the mock answers "Rating: [[n]]"). passed = score >= 6, as litellm-raw.
--mode pairwise: ``pairwise_chat.j2``, parser ``ab``; passed = panel verdict "candidate".

Concurrency: 0 = evalkit's default (16 calls in flight per model); C > 0 passes
``--evalkit-concurrency=C``. The response cache is on (mode ``use``) in
``<workdir>/project/.evalkit-cache``; the harness wipes the workdir for a cold run.

eval_s = from the end of pytest's collection to the end of evalkit's ``pytest_sessionfinish``
(answers, judge calls, audit, gates, per-item tests, run.json and report.html). Also reported:
pytest_wall_s (the whole process, imports and interpreter exit included), startup_s,
suite_s, answers_s, finish_s, exit_s, and evalkit's own ``--evalkit-profile`` phases.
graded = items whose judge row(s) hold a verdict read from a real mock reply (the mock's
verdict text, from the first reply or the repair reply); errors = the rest.

    bash ../shared/bench/run_peers.sh with EVALKIT_DRIVER=$PWD/bench/peers_driver.py

The bench's ``peers/common.py`` is found in ``$BENCH_PEERS_DIR``, else ``./peers`` (run_peers.sh
runs drivers from its own folder).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _import_common() -> Any:
    """The bench's ``common`` module (item generator and result line)."""
    here = os.environ.get("BENCH_PEERS_DIR") or os.path.join(os.getcwd(), "peers")
    if not os.path.exists(os.path.join(here, "common.py")):
        sys.exit(
            f"peers_driver: no common.py in {here}: run it from ../shared/bench (as "
            "run_peers.sh does) or set BENCH_PEERS_DIR to the bench's peers/ folder"
        )
    sys.path.insert(0, here)
    import common  # type: ignore[import-not-found]

    return common


common = _import_common()

JUDGE = {
    "reference": {
        "name": "bench-reference",
        "template": "reference_chat.j2",
        "parser": "rating",
        "scale": "scale: {min: 1, max: 10}\n",
        "aggregation": "median",
        "gate": "evalkit.gates.MeanScore(at_least=5.0, min_items=20)",
        "calls": 1,
    },
    "pairwise": {
        "name": "bench-pairwise",
        "template": "pairwise_chat.j2",
        "parser": "ab",
        "scale": "",
        "aggregation": "majority",
        "gate": "evalkit.gates.WinRate(at_least=0.5, min_items=20)",
        "calls": 2,
    },
}
# The text of a real mock verdict (mockllm.judge_answer), as opposed to a malformed reply.
FROM_JUDGE = {
    "reference": re.compile(r"^The answer was assessed\. Rating: \[\[\d+\]\]$"),
    "pairwise": re.compile(r"^Both answers were considered\. \[\[[AB]\]\]$"),
}

STAMPS = r'''"""Written by bench/peers_driver.py: timestamps for eval_s."""
import json
import os
import time
from pathlib import Path

import pytest

STAMPS = {"answer_calls": 0}


def pytest_collection_finish(session):
    STAMPS["collected"] = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    first = "suite_start" not in STAMPS
    if first:
        STAMPS["suite_start"] = time.time()
    yield
    if first:
        STAMPS["suite_done"] = time.time()


@pytest.hookimpl(trylast=True)  # after evalkit's own sessionfinish (run.json, report.html)
def pytest_sessionfinish(session, exitstatus):
    STAMPS["finished"] = time.time()
    Path(os.environ["BENCH_EVALKIT_TIMING"]).write_text(json.dumps(STAMPS))
'''

GIVEN = r'''

# Pairwise mode: the baseline, a litellm custom provider answering in-process (no HTTP).
import litellm
from litellm import CustomLLM, ModelResponse

ITEMS = {}
for line in (Path(__file__).parent / "suites" / "data" / "items.jsonl").read_text().splitlines():
    if line.strip():
        row = json.loads(line)
        ITEMS[row["question"]] = row


class GivenSum(CustomLLM):
    """given/sum returns "The sum is <reference>."."""

    def _reply(self, model, messages):
        item = ITEMS[messages[-1]["content"]]
        text = f"The sum is {item['reference']}."
        STAMPS["answer_calls"] += 1
        STAMPS["answers_done"] = time.time()
        usage = {"prompt_tokens": len(messages[-1]["content"]) // 4,
                 "completion_tokens": len(text) // 4}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        message = {"role": "assistant", "content": text}
        return ModelResponse(model=model, usage=usage, choices=[
            {"index": 0, "finish_reason": "stop", "message": message}])

    def completion(self, model, messages, *args, **kwargs):
        return self._reply(model, messages)

    async def acompletion(self, model, messages, *args, **kwargs):
        return self._reply(model, messages)


litellm.custom_provider_map = [{"provider": "given", "custom_handler": GivenSum()}]
# litellm does this on its first call; evalkit's preflight comes first.
litellm.utils.custom_llm_setup()
'''


def write_project(root: str, args: argparse.Namespace, mode: str) -> None:
    """Write the evalkit project that grades ``common.items(args.n)`` into ``root``."""
    j = JUDGE[mode]
    for d in ("judges", "suites/data"):
        os.makedirs(os.path.join(root, d), exist_ok=True)

    def put(rel: str, text: str) -> None:
        Path(root, rel).write_text(text, encoding="utf-8")

    put("suites/data/items.jsonl", "".join(json.dumps(it) + "\n" for it in common.items(args.n)))
    put("conftest.py", STAMPS + (GIVEN if mode == "pairwise" else ""))
    # Pairwise: the given answers against the in-process baseline; reference: no baseline.
    candidate = 'evalkit.recorded(column="answer", name="given-answers")'
    put(
        "pyproject.toml",
        "[tool.evalkit]\n"
        'baseline = "given/sum"\n'
        f'panel = "{j["name"]}-panel"\n'
        'cache_dir = ".evalkit-cache"\n'
        'reports_dir = "reports"\n'
        # Makes this folder pytest's rootdir (and so evalkit's project), even when the
        # workdir sits inside another project that has a pytest configuration.
        "\n[tool.pytest.ini_options]\n",
    )
    put(
        f"judges/{j['name']}.yaml",
        "kind: judge\n"
        f"model: openai/{args.model}\n"
        f"api_base: {args.base_url}\n"
        f"mode: {mode}\n"
        f"template: {j['template']}\n"
        "system: You are a careful, impartial judge of answer quality.\n"
        "params: {temperature: 0.0, max_tokens: 512}\n"
        f"parser: {j['parser']}\n"
        f"{j['scale']}"
        "repair: true\n",
    )
    put(
        f"judges/{j['name']}-panel.yaml",
        f"kind: panel\njudges: [{j['name']}]\naggregation: {j['aggregation']}\nquorum: 1\n",
    )
    put(
        "suites/test_bench.py",
        "import evalkit\n\n"
        "suite = evalkit.Suite(\n"
        '    "bench",\n'
        '    dataset="data/items.jsonl",\n'
        '    prompt="{{ question }}",\n'
        "    system=None,\n"
        f'    mode="{mode}",\n'
        f"    candidate={candidate},\n"
        f"    gates=[{j['gate']}],\n"
        ")\n\n"
        "test_item, test_gate = suite.tests()\n",
    )


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """The rows of a JSONL file (a torn last line is skipped); [] if there is no file."""
    out = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    with contextlib.suppress(ValueError):  # a torn last line
                        out.append(json.loads(line))
    return out


def _reply_text(row: dict[str, Any]) -> str:
    """The judge's reply a row's verdict was read from: the repair reply, else the first."""
    return str(row.get("repair_output") or row.get("raw_output") or "").strip()


def profile_phases(lines: list[str]) -> dict[str, float]:
    """Seconds per phase from evalkit's ``--evalkit-profile`` lines."""
    phases = {}
    for line in lines:
        m = re.fullmatch(r"\s+(\w[\w ]*?)\s+([\d.]+) s\s+[\d.]+%", line)
        if m:
            phases[m.group(1)] = float(m.group(2))
    return phases


def main() -> None:
    """Run the suite once, count the graded items and print the BENCH_RESULT line."""
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--mode", choices=sorted(JUDGE), default="reference")
    ex, rest = extra.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    args = common.parse_args("evalkit", "(16 calls in flight per model)")
    mode, judge = ex.mode, JUDGE[ex.mode]["name"]
    root = os.path.join(args.workdir, "project")
    write_project(root, args, mode)
    reports = os.path.join(root, "reports")
    before = set(os.listdir(reports)) if os.path.isdir(reports) else set()
    timing_path = os.path.join(args.workdir, "timing.json")
    if os.path.exists(timing_path):
        os.remove(timing_path)

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EVALKIT_", "PYTEST_")) and k != "CI"
    }
    env.update(
        OPENAI_API_KEY="sk-dummy",  # the mock checks no key; evalkit's preflight wants one
        # The conftest imports litellm before evalkit would set this: no price-table download.
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        BENCH_EVALKIT_TIMING=timing_path,
    )
    cmd = [sys.executable, "-m", "pytest", "suites/", "-q", "-p", "no:cacheprovider"]
    cmd.append("--evalkit-profile")
    if args.concurrency:
        cmd.append(f"--evalkit-concurrency={args.concurrency}")
    print(f"+ cd {root} && OPENAI_API_KEY=sk-dummy " + " ".join(cmd), flush=True)
    spawn = time.time()
    with common.Timer() as t:
        p = subprocess.run(cmd, cwd=root, env=env, text=True, capture_output=True)
    out = (p.stdout + p.stderr).strip().splitlines()
    # pytest -q prints a dot per test; keep evalkit's summary, the profile and the last lines
    shown = [ln for ln in out[-60:] if not re.fullmatch(r"[.sFE]+\s*(\[\s*\d+%\])?", ln)]
    print("\n".join(shown), flush=True)

    new = sorted(set(os.listdir(reports)) - before) if os.path.isdir(reports) else []
    run_dir = os.path.join(reports, new[-1]) if new else None
    rows = read_jsonl(os.path.join(run_dir, "judgments.jsonl")) if run_dir else []
    run: dict[str, Any] = {}
    if run_dir and os.path.exists(os.path.join(run_dir, "run.json")):
        with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
    suite = (run.get("suites") or [{}])[0]
    panel = {r["item_id"]: r for r in suite.get("panel") or []}

    by_item: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("judge") == judge:
            by_item.setdefault(r["item_id"], []).append(r)
    want_rows = JUDGE[mode]["calls"]
    graded = passed = 0
    for item_id, rs in by_item.items():
        ok = len(rs) == want_rows and all(
            r.get("parse_ok") and not r.get("error") and FROM_JUDGE[mode].match(_reply_text(r))
            for r in rs
        )
        if not ok:
            continue
        graded += 1
        if mode == "reference":
            passed += rs[0]["score"] >= 6
        else:
            passed += (panel.get(item_id) or {}).get("verdict") == "candidate"
    stamps: dict[str, Any] = {}
    if os.path.exists(timing_path):
        with open(timing_path, encoding="utf-8") as f:
            stamps = json.load(f)

    def span(a: str, b: str) -> float | None:
        return round(stamps[b] - stamps[a], 3) if a in stamps and b in stamps else None

    timed = {"finished", "collected"} <= stamps.keys()
    eval_s = stamps["finished"] - stamps["collected"] if timed else t.s
    startup_s = round(stamps["collected"] - spawn, 3) if timed else None
    exit_s = round(spawn + t.s - stamps["finished"], 3) if timed else None
    calls = suite.get("calls") or {}
    repaired = sum(1 for r in rows if r.get("repair_output"))
    gates = ", ".join(f"{g.get('name')}={g.get('outcome')}" for g in suite.get("gates") or [])
    phases = profile_phases(out)
    times = (
        f"pytest process {t.s:.2f}s = startup {startup_s}s + eval {eval_s:.2f}s "
        f"[suite {span('suite_start', 'suite_done')}s"
        + (
            f", baseline answers {span('suite_start', 'answers_done')}s"
            if mode == "pairwise"
            else ""
        )
        + f"; run.json+report "
        f"{span('suite_done', 'finished')}s] + exit {exit_s}s"
        if timed
        else "NO TIMING (eval_s = whole pytest process)"
    )
    common.report(
        "evalkit",
        args,
        eval_s,
        graded=graded,
        errors=args.n - graded,
        passed=passed,
        note=(
            f"mode={mode} answers: "
            + (
                "recorded (evalkit.recorded, no call)"
                if mode == "reference"
                else "recorded candidate vs an in-process litellm provider (no HTTP)"
            )
            + f" {times} "
            f"pytest_exit={p.returncode} run={os.path.basename(run_dir) if run_dir else None} "
            f"status={run.get('status')} judge_rows={sum(len(v) for v in by_item.values())} "
            f"items_with_rows={len(by_item)} repaired={repaired} calls={calls} gates: {gates}"
            + (f" suite_errors={run.get('errors')}" if run.get("errors") else "")
        ),
        pytest_wall_s=round(t.s, 3),
        startup_s=startup_s,
        exit_s=exit_s,
        suite_s=span("suite_start", "suite_done"),
        answers_s=span("suite_start", "answers_done"),
        answer_calls=stamps.get("answer_calls"),
        finish_s=span("suite_done", "finished"),
        profile=phases,
        judge_calls_per_item=want_rows,
        concurrency_per_model=args.concurrency or 16,
    )


if __name__ == "__main__":
    main()
