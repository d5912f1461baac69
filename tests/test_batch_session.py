"""A whole suite in batch execution: the judgments of the interactive run, and its bad inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _project import run_scored, write_pairwise_panel, write_scored_panel

import evalkit
from evalkit import Suite
from evalkit.config import EvalkitConfig, load_config
from evalkit.errors import ConfigError
from evalkit.session import EvalSession
from evalkit.session._result import SuiteResult
from evalkit.testing import FakeProvider, JudgeParams
from evalkit.testing._batches import BatchBehaviour

N_ITEMS = 8
#: What a row says about its call; the batch run must give every one of them unchanged.
SAME = ["item_id", "judge", "order", "verdict", "raw_output", "status", "parse_ok", "error",
        "input_tokens", "output_tokens", "cost_usd", "cached"]  # fmt: skip


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge("sim-judge-first", JudgeParams(position_bias=0.7, seed=2))
        yield provider


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    write_pairwise_panel(tmp_path, fake.base_url, {"fair": "anthropic", "first": "google"})
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def run(root: Path, fake: FakeProvider, name: str, **settings: Any) -> SuiteResult:
    """Run the suite with its own cache and reports folders ``root/<name>-...``."""
    config = EvalkitConfig.model_validate(
        {"candidate": "openai/sim-writer-openai-q0.90", "candidate_api_base": fake.base_url,
         "baseline": "openai/sim-writer-meta-q0.30", "baseline_api_base": fake.base_url,
         "panel": "p", "cache_dir": root / f"{name}-cache", "reports_dir": root / f"{name}-reports",
         "max_retries": 0, "backoff_s": 0.01, **settings}
    )  # fmt: skip
    session = EvalSession(config, root, progress=lambda line: None)
    try:
        return session.suite_result(Suite("s", dataset="data.jsonl", base_dir=root))
    finally:
        session.finish()


def table(result: SuiteResult) -> pd.DataFrame:
    rows = result.judgments[SAME].sort_values(["item_id", "judge", "order"])
    return rows.reset_index(drop=True)


def test_a_batch_run_gives_the_judgments_of_the_interactive_run(
    root: Path, fake: FakeProvider
) -> None:
    interactive = run(root, fake, "interactive")
    asked = fake.requests()
    assert asked == N_ITEMS * 2 + N_ITEMS * 2 * 2  # two answers and four judge calls per item
    batch = run(root, fake, "batch", execution="batch", batch_poll_s=0.01)
    assert fake.requests() == asked  # no interactive call
    # One batch per endpoint: the candidate, the baseline, and each judge.
    assert fake.batches.creates() == 4
    assert fake.batches.lines() == asked
    pd.testing.assert_frame_equal(table(batch), table(interactive))
    for role in ("candidate", "baseline"):
        assert {k: a.text for k, a in batch.answers[role].items()} == {
            k: a.text for k, a in interactive.answers[role].items()
        }
    assert [g.outcome for g in batch.gates] == [g.outcome for g in interactive.gates]


def test_a_partly_failed_batch_gives_failed_rows_with_the_providers_error(
    root: Path, fake: FakeProvider
) -> None:
    fake.batches.behave(BatchBehaviour(fail_every=4, fail_status=400, fail_message="too long"))
    result = run(root, fake, "batch", execution="batch", batch_poll_s=0.01)
    judged = result.judgments
    failed = judged[judged["status"] == "failed"]
    answered = sum(a.text is not None for a in result.answers["candidate"].values())
    # Every 4th line fails: 2 of 8 answers per model (the same items: lines keep the items'
    # order), so 2 items have no answers to judge; then 3 of each judge's 12 calls.
    assert answered == N_ITEMS - 2
    assert (judged["status"] == "no_answer").sum() == 2 * 2 * 2
    assert len(failed) == 2 * 3
    assert failed["error"].str.contains("bad_request: .* HTTP 400: too long", regex=True).all()
    assert fake.requests() == 0  # a 400 is final: nothing is asked again


def test_an_apps_own_model_calls_run_interactively_in_batch_execution(
    tmp_path: Path, fake: FakeProvider
) -> None:
    write_scored_panel(tmp_path, fake.base_url)
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    writer = "openai/sim-writer-openai-q0.90"

    def answer(row: dict[str, Any], models: Any) -> str:
        # The app waits for this answer within its timeout: it cannot wait for a batch.
        return str(models.complete(writer, row["question"], api_base=fake.base_url))

    result = run_scored(
        tmp_path, evalkit.app(answer, version="v1"), settings={"execution": "batch"}
    )
    assert all(a.text for a in result.answers["candidate"].values())
    assert fake.requests("sim-writer-openai-q0.90") == N_ITEMS
    assert fake.batches.creates() == 1  # the judge's calls only
    assert fake.batches.lines() == N_ITEMS
    assert result.judgments["status"].eq("ok").all()


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"execution": "fast"}, "option --evalkit-execution: Input should be 'interactive' or "
                                "'batch' (got 'fast')"),
        ({"execution": "batch", "cache_mode": "replay"},
         "option --evalkit-execution: batch execution submits calls to providers, but option "
         "--evalkit-cache-mode is replay, which makes none"),
    ],
)  # fmt: skip
def test_a_bad_execution_setting_is_one_message_naming_the_flag(
    cli: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(cli=cli)
    assert message in str(caught.value)
    assert ";" not in str(caught.value).split(message)[0]  # the first and only complaint
