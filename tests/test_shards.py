"""Sharded runs: which shard runs an item, and shards merged into the run one process gives.

The shard function is pinned (known values, other processes, balance); the end to end runs a
project as one process and as 3 shards in separate pytest processes, as a CI matrix would,
merges the shards with ``evalkit merge`` and compares the two runs: judgments, audit, gates,
panel verdicts, summary and exit code.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _project import clean_env, make_project, run_pytest
from scipy import stats

from evalkit.config import EvalkitConfig, ShardSpec, load_config
from evalkit.data._perturb import with_variants
from evalkit.errors import ConfigError, UsageError
from evalkit.gates import GateResult
from evalkit.records import read_run
from evalkit.records._answers import Answer
from evalkit.records._dataset import Item, split_turns
from evalkit.records._run import RunRecord
from evalkit.records._shard import shard_of, source_id
from evalkit.records._store import iter_jsonl
from evalkit.session import EvalSession
from evalkit.session._merge import read_shards
from evalkit.session._result import Conclusion, SuiteResult
from evalkit.testing import FakeProvider

#: Columns that say when and how fast a call was made, not what it decided.
TIMING = frozenset({"run_id", "latency_s", "cached"})


# --- the shard function ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "item_id", "count", "expected"),
    [
        ("sim", "q00", 8, 4),
        ("sim", "q01", 8, 7),
        ("sim", "q02", 3, 1),
        ("general-knowledge", "capital-japan", 8, 3),
        ("arithmetic", "row-7", 16, 13),
        ("sim", "q00", 1, 1),
    ],
)
def test_shard_of_gives_the_pinned_shard(
    suite: str, item_id: str, count: int, expected: int
) -> None:
    # Pinned: a change of the hash would move items between shards of runs already made.
    assert shard_of(suite, item_id, count) == expected


def test_shard_of_is_the_same_in_a_process_with_another_hash_seed() -> None:
    code = (
        "from evalkit.records._shard import shard_of; "
        "print([shard_of('sim', f'q{i:02d}', 8) for i in range(40)])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str([shard_of("sim", f"q{i:02d}", 8) for i in range(40)])


def test_shards_are_balanced_over_10000_ids() -> None:
    counts = Counter(shard_of("suite", f"item-{i}", 8) for i in range(10_000))
    assert sorted(counts) == list(range(1, 9))
    # 1250 expected per shard; a chi-square test of uniformity, and no shard off by 10 %.
    assert stats.chisquare([counts[k] for k in range(1, 9)]).pvalue > 0.01
    assert all(1125 <= counts[k] <= 1375 for k in range(1, 9))


def test_adding_an_item_moves_no_other_item() -> None:
    before = {f"q{i}": shard_of("s", f"q{i}", 5) for i in range(200)}
    after = {f"q{i}": shard_of("s", f"q{i}", 5) for i in [*range(200), 999]}
    assert {k: after[k] for k in before} == before


def _one_shard_per_row(items: tuple[Item, ...], rows: int) -> None:
    by_row: dict[str, set[int]] = {}
    for item in items:
        by_row.setdefault(source_id(item.id), set()).add(shard_of("s", item.id, 4))
    assert set(by_row) == {f"c{i}" for i in range(rows)}
    assert all(len(shards) == 1 for shards in by_row.values())
    assert len({next(iter(s)) for s in by_row.values()}) > 1  # the rows themselves spread


def test_a_conversations_turns_go_to_its_shard() -> None:
    from evalkit.records._conversation import read_conversation

    rows = [{"id": f"c{i}", "turns": ["Plan a trip.", "Shorter.", "In French."]} for i in range(30)]
    items = tuple(
        Item(id=r["id"], fields={}, conversation=read_conversation(dict(r), "x")) for r in rows
    )
    split = split_turns(items, Path("d.jsonl"))
    assert {"c0#t1", "c0#t2", "c0#t3"} <= {i.id for i in split}
    _one_shard_per_row(split, 30)


def test_an_items_variants_go_to_its_shard() -> None:
    items = tuple(Item(id=f"c{i}", fields={"question": f"Question {i}?"}) for i in range(30))
    both = with_variants(items, ["typos", "lowercase"], ["question"], seed=0, source="d.jsonl")
    assert {"c0", "c0~typos", "c0~lowercase"} <= {i.id for i in both}
    _one_shard_per_row(both, 30)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2-8", "'2-8' is not K/N"),
        ("0/3", "K must be between 1 and N (3)"),
        ("4/3", "K must be between 1 and N (3)"),
        ("1/0", "N must be at least 1"),
        ("a/b", "'a/b' is not K/N"),
    ],
)
def test_a_bad_shard_names_the_flag_or_variable(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as flag:
        load_config(cli={"shard": value})
    assert str(flag.value).startswith("option --evalkit-shard: ")
    assert says in str(flag.value)
    with pytest.raises(ConfigError) as env:
        load_config(environ={"EVALKIT_SHARD": value})
    assert str(env.value).startswith("environment variable EVALKIT_SHARD: ")


def test_the_shard_comes_from_the_environment_and_leaves_the_digest_alone() -> None:
    config = load_config(environ={"EVALKIT_SHARD": "2/8", "EVALKIT_RUN_GROUP": "ci-42"})
    assert config.shard == ShardSpec(index=2, count=8)
    assert config.run_group == "ci-42"
    # Every shard of a run, and the merged run, must share one config digest.
    assert config.digest() == load_config().digest()


# --- what a shard's tests say ---------------------------------------------------------------


def _gate(outcome: str) -> GateResult:
    return GateResult("win", outcome, 0.5, 0.4, 0.6, 30, 0.5, "win rate 0.50")  # type: ignore[arg-type]


@pytest.mark.parametrize("outcome", ["pass", "fail", "inconclusive"])
def test_a_shards_gate_is_skipped_saying_what_it_was_on_the_shard(
    outcome: str, tmp_path: Path
) -> None:
    session = EvalSession(EvalkitConfig(shard="2/4", inconclusive="fail"), tmp_path)  # type: ignore[arg-type]
    assert session.gate_conclusion(_gate(outcome)) == Conclusion(
        "skipped",
        "shard 2/4: decided by `evalkit merge` on the whole run; on this shard's items alone: "
        f"{outcome.upper()}: win rate 0.50",
    )
    # The same gate outside a shard decides: only a pass passes.
    whole = EvalSession(EvalkitConfig(inconclusive="fail"), tmp_path).gate_conclusion(
        _gate(outcome)
    )
    assert whole.status == ("passed" if outcome == "pass" else "failed")


def test_a_shards_unanswered_item_is_reported_not_failed(tmp_path: Path) -> None:
    def answer(item_id: str, text: str | None) -> Answer:
        return Answer(
            run_id="r", suite="s", item_id=item_id, role="candidate", model="openai/c",
            family="openai", prompt="Why?", text=text, status="ok" if text else "failed",
            error=None if text else "failed: 500 from the provider", latency_s=0.1,
            input_tokens=1, output_tokens=1, cost_usd=0.0, cached=False,
        )  # fmt: skip

    empty = pd.DataFrame(columns=["item_id", "judge", "order", "status", "verdict", "error",
                                  "raw_output", "abstained", "reason"])  # fmt: skip
    result = SuiteResult(
        name="s", judgments=empty, answers={"candidate": {"a": answer("a", "Yes."),
        "b": answer("b", None)}}, combined=empty, panel=empty, position=empty, audit=None,
        gates=(), lineage=(), models={},
    )  # fmt: skip
    shard = EvalSession(EvalkitConfig(shard="1/2"), tmp_path)  # type: ignore[arg-type]
    assert shard.item_conclusion(result, "a") == Conclusion("passed")
    skipped = shard.item_conclusion(result, "b")
    assert skipped.status == "skipped"
    assert skipped.message.startswith(
        "shard 1/2: decided by `evalkit merge` on the whole run; on this shard's items alone: "
        "the candidate gave no answer: failed: 500 from the provider"
    )
    assert EvalSession(EvalkitConfig(), tmp_path).item_conclusion(result, "b").status == "failed"


# --- a run split into shards, and merged ----------------------------------------------------


def _one_folder(parent: Path) -> Path:
    (only,) = [p for p in parent.iterdir() if p.is_dir()]
    return only


def _judgment_rows(folder: Path) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in row.items() if k not in TIMING}, sort_keys=True)
        for row in iter_jsonl(folder / "judgments.jsonl")
    )


def _close(a: Any, b: Any, where: str = "") -> None:
    """Assert two JSON values equal, floats up to summation order (relative 1e-9)."""
    if isinstance(a, float) and isinstance(b, float | int):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict), where
        assert sorted(a) == sorted(b), where
        for key in a:
            _close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _summary(stdout: str) -> list[str]:
    """The evalkit summary's suite lines, from pytest's output or from the merge's."""
    lines = stdout.splitlines()
    header = [i for i, line in enumerate(lines) if line.startswith("=") and " evalkit " in line]
    return [re.sub(r"\d+ from cache", "N from cache", line)
            for line in lines[header[0] + 1 if header else 0 :]
            if line.startswith(("suite ", "  "))]  # fmt: skip


def _merge(root: Path, *folders: Path, out: str = "out/merged") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "merge", *map(str, folders), "-o", out],
        cwd=root, env=clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


Run = subprocess.CompletedProcess[str]


def _run_sharded(root: Path, count: int) -> tuple[Run, list[Path], list[Run]]:
    """The project run as one process, then as ``count`` shard processes (own caches each).

    Returns the whole run's process, the shards' folders and the shards' processes.
    """
    one = run_pytest(root, "--evalkit-cache-dir=out/cache-one", "--evalkit-reports-dir=out/one")
    folders, runs = [], []
    for k in range(1, count + 1):
        done = run_pytest(
            root, f"--evalkit-shard={k}/{count}", f"--evalkit-cache-dir=out/cache-{k}",
            f"--evalkit-reports-dir=out/shard-{k}", "-rs",
        )  # fmt: skip
        # A shard's exit code says it ran, whatever its part of the gates would say.
        assert done.returncode == 0, done.stdout + done.stderr
        folders.append(_one_folder(root / "out" / f"shard-{k}"))
        runs.append(done)
    return one, folders, runs


@pytest.fixture(scope="module")
def sharded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, Run, list[Path], list[Run]]]:
    """A project run once whole and once as 3 shards: (root, the whole run, shard folders).

    The candidate is the weaker model, so that the win-rate gate fails on the whole run: the
    merge must fail where the run in one process fails, although no shard did.
    """
    root = tmp_path_factory.mktemp("sharded")
    with FakeProvider(seed=0) as fake:
        make_project(root, fake, candidate_q=0.2, baseline_q=0.9)
        one, folders, runs = _run_sharded(root, 3)
        yield root, one, folders, runs


def _assert_same_run(whole: Path, merged: Path) -> None:
    assert _judgment_rows(merged) == _judgment_rows(whole)
    a, b = read_run(whole), read_run(merged)
    assert a is not None
    assert b is not None
    assert [s.name for s in b.suites] == [s.name for s in a.suites]
    for x, y in zip(a.suites, b.suites, strict=True):
        _close(y.model_dump(mode="json", include={"gates", "audit", "panel", "position"}),
               x.model_dump(mode="json", include={"gates", "audit", "panel", "position"}),
               x.name)  # fmt: skip
        # What came from the cache depends on which process asked a question first.
        cached = {"judge_cached", "answers_cached"}
        assert y.calls.model_dump(exclude=cached) == x.calls.model_dump(exclude=cached)
    assert b.config_digest == a.config_digest
    assert b.shard is None


def test_three_shards_merged_are_the_run_in_one_process(sharded: Any) -> None:
    root, one, shards, _ = sharded
    records = [read_run(folder) for folder in shards]
    assert [(r.shard.index, r.shard.count) for r in records if r and r.shard] == [
        (1, 3), (2, 3), (3, 3),
    ]  # fmt: skip
    assert len({r.shard.group for r in records if r and r.shard}) == 1
    # Every item ran in exactly one shard.
    ids = [row["item_id"] for f in shards for row in iter_jsonl(f / "answers.jsonl")
           if row["role"] == "candidate"]  # fmt: skip
    assert sorted(ids) == [f"q{i:02d}" for i in range(40)]
    merged = _merge(root, *shards)
    assert one.returncode == 1
    assert merged.returncode == 1, merged.stderr
    assert "FAIL" in merged.stdout
    _assert_same_run(_one_folder(root / "out" / "one"), root / "out" / "merged")
    assert any(line.startswith("  gate win_rate") for line in _summary(one.stdout))
    assert _summary(merged.stdout) == _summary(one.stdout)
    assert (root / "out" / "merged" / "report.html").is_file()
    record = read_run(root / "out" / "merged")
    assert record is not None
    assert record.merged_from == [r.run_id for r in records if r]


def test_a_shard_decides_no_gate_and_says_it_is_partial(sharded: Any) -> None:
    _, _, shards, runs = sharded
    record = read_run(shards[0])
    assert record is not None
    assert record.shard is not None
    assert record.shard.suites["sim"].module == "suites/test_sim.py"
    assert "partial" in (shards[0] / "report.html").read_text(encoding="utf-8")
    # The gate test is skipped, saying what the gate was on the shard's items alone.
    assert "shard 1/3: decided by `evalkit merge` on the whole run; on this shard" in runs[0].stdout
    assert "shard 1/3 of run group" in runs[0].stdout
    assert "partial" in runs[0].stdout


@pytest.mark.slow
def test_eight_shards_merged_are_the_run_in_one_process(tmp_path: Path) -> None:
    rows = [{"id": f"q{i:02d}", "question": f"Question number {i}?"} for i in range(40)]
    rows += [{"id": f"c{i}", "turns": ["Plan a trip.", f"Make it {i} days."]} for i in range(8)]
    with FakeProvider(seed=0) as fake:
        make_project(tmp_path, fake, rows=rows)
        # Turns judged one by one, and perturbed variants: each row's items stay together.
        (tmp_path / "suites" / "test_sim.py").write_text(
            "import evalkit\n"
            "suite = evalkit.Suite('sim', dataset='data.jsonl', judge_turns='each', gates=["
            "evalkit.gates.WinRate(at_least=0.5, min_items=20)])\n"
            "test_item, test_gate = suite.tests()\n"
        )
        (tmp_path / "suites" / "pert.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows[:24])
        )
        (tmp_path / "suites" / "test_pert.py").write_text(
            "import evalkit\n"
            "suite = evalkit.Suite('pert', dataset='pert.jsonl', perturbations=['typos', "
            "'lowercase'], gates=[evalkit.gates.WinRate(at_least=0.5, min_items=20)])\n"
            "test_item, test_gate = suite.tests()\n"
        )
        one, shards, _ = _run_sharded(tmp_path, 8)
        merged = _merge(tmp_path, *shards)
    assert one.returncode == 0, one.stdout
    assert merged.returncode == 0, merged.stderr
    _assert_same_run(_one_folder(tmp_path / "out" / "one"), tmp_path / "out" / "merged")
    assert any(line.startswith("  gate win_rate") for line in _summary(one.stdout))
    assert _summary(merged.stdout) == _summary(one.stdout)


# --- shards the merge refuses ---------------------------------------------------------------


def _edited_copy(folder: Path, to: Path, **changes: Any) -> Path:
    """A copy of a shard folder whose run.json has ``changes`` (``shard__group``: a shard key)."""
    shutil.copytree(folder, to)
    data = json.loads((to / "run.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key.startswith("shard__"):
            data["shard"][key.removeprefix("shard__")] = value
        else:
            data[key] = value
    (to / "run.json").write_text(json.dumps(data), encoding="utf-8")
    return to


def test_a_shards_lost_cache_stays_on_record_in_the_merged_run(
    sharded: Any, tmp_path: Path
) -> None:
    root, _, (s1, s2, s3), _ = sharded
    outage = {
        "at": 1_790_000_000.0, "kind": "connection", "store": "redis://:***@cache:6379/0",
        "message": "the Redis cache stopped answering", "calls_without_cache": 7,
        "answers_not_cached": 7, "worker": None,
    }  # fmt: skip
    lost = _edited_copy(s2, tmp_path / "shard-2", cache_outages=[outage])
    done = _merge(root, s1, lost, s3, out=str(tmp_path / "merged"))
    assert done.returncode in (0, 1), done.stdout + done.stderr
    merged = read_run(tmp_path / "merged")
    assert merged is not None
    assert [o.model_dump() for o in merged.cache_outages] == [outage]


def test_a_missing_shard_is_named(sharded: Any) -> None:
    _, _, shards, _ = sharded
    with pytest.raises(UsageError, match=r"missing shard\(s\) 2/3 of run group \w+: only 2 of 3"):
        read_shards([shards[0], shards[2]])


def test_a_shard_given_twice_is_named(sharded: Any) -> None:
    _, _, (s1, s2, s3), _ = sharded
    with pytest.raises(UsageError, match=rf"shard 2/3 is given twice: {s2} and {s2}"):
        read_shards([s1, s2, s2, s3])


def test_a_folder_that_is_not_a_shard_is_named(sharded: Any, tmp_path: Path) -> None:
    root, _, shards, _ = sharded
    whole = _one_folder(root / "out" / "one")
    with pytest.raises(UsageError, match=rf"{whole}: not a shard: run \S+ was not run with"):
        read_shards([*shards, whole])
    with pytest.raises(UsageError, match=rf"{tmp_path}: not a shard: it has no run.json"):
        read_shards([*shards, tmp_path])


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"shard__group": "another-run"}, "their run group differ"),
        ({"config_digest": "0123456789ab"}, "their settings (config digest) differ"),
        ({"evalkit_version": "0.0.1"}, "their evalkit version differ"),
        ({"shard__count": 4}, "their number of shards differ"),
        (
            {"shard__suites": {"sim": {"module": "suites/test_sim.py", "dataset_digest": "x"}}},
            "their datasets differ",
        ),
    ],
)
def test_shards_of_different_runs_are_refused(
    sharded: Any, tmp_path: Path, change: dict[str, Any], says: str
) -> None:
    _, _, (s1, s2, s3), _ = sharded
    odd = _edited_copy(s2, tmp_path / "odd", **change)
    with pytest.raises(UsageError) as refused:
        read_shards([s1, odd, s3])
    assert says in str(refused.value)
    assert str(odd) in str(refused.value)


def test_an_interrupted_shard_is_refused(sharded: Any, tmp_path: Path) -> None:
    _, _, (s1, s2, s3), _ = sharded
    odd = _edited_copy(s2, tmp_path / "odd", status="interrupted")
    with pytest.raises(UsageError, match=rf"shard 2/3 \({odd}\) was interrupted; run that shard"):
        read_shards([s1, odd, s3])


def test_the_merge_cli_refuses_with_one_message_and_writes_nothing(sharded: Any) -> None:
    root, _, shards, _ = sharded
    done = _merge(root, shards[0], out="out/refused")
    assert done.returncode == 2
    assert done.stderr.startswith("evalkit: error: missing shard(s) 2/3, 3/3 of run group ")
    assert done.stderr.count("\n") == 1
    assert not (root / "out" / "refused").exists()


def test_the_merge_refuses_an_output_folder_that_holds_files(sharded: Any) -> None:
    root, _, shards, _ = sharded
    (root / "out" / "taken").mkdir()
    (root / "out" / "taken" / "notes.txt").write_text("keep me")
    done = _merge(root, *shards, out="out/taken")
    assert done.returncode == 2
    assert "-o " in done.stderr
    assert "is not an empty folder" in done.stderr
    assert (root / "out" / "taken" / "notes.txt").read_text() == "keep me"


def test_a_shard_no_item_fell_to_still_writes_its_folder(tmp_path: Path) -> None:
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(3)]
    empty = next(k for k in range(1, 9) if all(shard_of("sim", r["id"], 8) != k for r in rows))
    with FakeProvider(seed=0) as fake:
        make_project(tmp_path, fake, rows=rows)
        done = run_pytest(tmp_path, f"--evalkit-shard={empty}/8")
    assert done.returncode == 0, done.stdout + done.stderr
    record: RunRecord | None = read_run(_one_folder(tmp_path / "out" / "reports"))
    assert record is not None
    assert record.shard is not None
    assert record.suites == []
    assert list(record.shard.suites) == ["sim"]


def test_pytest_refuses_a_malformed_shard_flag_before_any_call(tmp_path: Path) -> None:
    with FakeProvider(seed=0) as fake:
        make_project(tmp_path, fake)
        done = run_pytest(tmp_path, "--evalkit-shard=3/2")
        assert fake.requests() == 0
    assert done.returncode == 4
    assert "evalkit: option --evalkit-shard: 3/2: K must be between 1 and N (2)" in done.stderr


def test_a_shards_dry_run_plans_the_shards_items_and_writes_nothing(tmp_path: Path) -> None:
    with FakeProvider(seed=0) as fake:
        make_project(tmp_path, fake)
        done = run_pytest(tmp_path, "--evalkit-dry-run", "--evalkit-shard=1/3")
        assert fake.requests() == 0
    assert done.returncode == 0, done.stdout + done.stderr
    mine = sum(shard_of("sim", f"q{i:02d}", 3) == 1 for i in range(40))
    assert 0 < mine < 40
    assert re.search(rf"^sim\s+candidate\s+\S+\s+{mine}\s", done.stdout, re.MULTILINE)
    assert not (tmp_path / "out" / "reports").exists()


# --- a suite of several candidates, probed, in shards ------------------------------------------


@pytest.mark.slow  # four pytest processes and a merge (~40 s); the 3-shard test stays everyday
def test_a_suite_of_candidates_with_probes_merged_is_the_run_in_one_process(tmp_path: Path) -> None:
    # The pairs of a suite with candidates are sub-suites: an item's pairs must run in one shard
    # (its leaderboard comparisons stay together), and the merge must decide every pair and fit
    # the group's leaderboard; the probe rows the shards wrote must reach the merged audit.
    with FakeProvider(seed=0) as fake:
        make_project(tmp_path, fake)
        (tmp_path / "suites" / "test_sim.py").write_text(
            "import evalkit\n"
            "suite = evalkit.Suite('sim', dataset='data.jsonl', candidates=[\n"
            "    'openai/sim-writer-openai-q0.90', 'openai/sim-writer-google-q0.30'],\n"
            "    round_robin=True, probes=['tone'], probe_items=6,\n"
            "    gates=[evalkit.gates.WinRate(at_least=0.5, min_items=20)])\n"
            "test_item, test_gate = suite.tests()\n"
        )
        one, shards, _ = _run_sharded(tmp_path, 3)
        merged = _merge(tmp_path, *shards)
    assert merged.returncode == one.returncode, merged.stdout + merged.stderr
    whole, joined = _one_folder(tmp_path / "out" / "one"), tmp_path / "out" / "merged"
    _assert_same_run(whole, joined)
    a, b = read_run(whole), read_run(joined)
    assert a is not None
    assert b is not None
    group_a, group_b = a.suite("sim"), b.suite("sim")
    assert group_a.leaderboard is not None
    assert group_b.leaderboard is not None
    _close(group_b.leaderboard.model_dump(mode="json"), group_a.leaderboard.model_dump(mode="json"))
    assert group_b.pairs == group_a.pairs
    assert len(group_a.pairs) == 3  # two candidates against the baseline, one round-robin pair
    probed = [s for s in a.suites if s.probes]
    assert probed
    assert [s.name for s in b.suites if s.probes] == [s.name for s in probed]
    assert _summary(merged.stdout) == _summary(one.stdout)
