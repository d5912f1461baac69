"""One panel rule, one answer: the summary, the gates, the audit and the report agree.

Each suite runs through the session against the fake provider with simulated judges whose
behaviour makes the panel's rule matter: a position-biased judge whose two orders disagree on
almost every item (``disagreement: abstain`` differs from ``tie``), and a judge that favours
the baseline's family (``aggregation: weighted`` differs from ``majority`` once the audit
rates it). For each, the session summary's win rate (run.json), the WinRate gate, run_audit's
panel under the suite's rule, and the report's item verdicts must be the same numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import Suite
from evalkit.audit import ReliabilityThresholds, run_audit
from evalkit.audit._panel import win_rate
from evalkit.config import EvalkitConfig
from evalkit.gates import WinRate
from evalkit.panel import PanelRule, combine_orders
from evalkit.panel._aggregate import panel_verdicts
from evalkit.report import load_run, render
from evalkit.session import EvalSession
from evalkit.testing import FakeProvider, JudgeParams

CANDIDATE = "openai/sim-writer-openai-q0.90"
BASELINE = "openai/sim-writer-meta-q0.30"
N_ITEMS = 40
DATA_BLOCK = re.compile(r'<script type="application/json" id="item-data">(.*?)</script>', re.S)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")
    with FakeProvider(seed=5) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge(
            "sim-judge-first", JudgeParams(position_bias=0.99, quality_weight=0.0, seed=2)
        )
        provider.register_judge(
            "sim-judge-metafan", JudgeParams(self_family="meta", self_preference=20.0, seed=6)
        )
        yield provider


def project(root: Path, fake: FakeProvider, panel: str) -> Path:
    (root / "judges").mkdir()
    for name, family in (("fair", "anthropic"), ("first", "google"), ("metafan", "meta")):
        (root / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n"
        )
    (root / "judges" / "p.yaml").write_text(f"kind: panel\n{panel}")
    rows = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N_ITEMS)]
    (root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def run_suite(root: Path, fake: FakeProvider, **settings: Any) -> tuple[Any, dict[str, Any], Path]:
    config = EvalkitConfig(**settings,
        candidate=CANDIDATE, candidate_api_base=fake.base_url,
        baseline=BASELINE, baseline_api_base=fake.base_url,
        panel="p", cache_dir=root / "cache", reports_dir=root / "reports",
        max_retries=0, backoff_s=0.01,
    )  # fmt: skip
    session = EvalSession(config, root)
    try:
        result = session.suite_result(
            Suite("s", dataset="data.jsonl", base_dir=root, gates=[WinRate(min_items=1)])
        )
    finally:
        closed = session.finish()
    assert closed is not None
    return result, closed.record.model_dump(mode="json"), session.run_dir


def assert_one_answer(result: Any, run: dict[str, Any], run_dir: Path, audit: Any) -> None:
    """The summary, the gate, ``audit`` (run_audit under the rule) and the report agree."""
    judged = result.judgments
    rule = audit.rule
    panel = audit.panel.set_index("item_id")["verdict"].astype(object)
    panel = panel.where(panel.notna(), "abstained")
    # The suite's panel (what the gates read) is run_audit's panel under the suite's rule.
    suite_panel = result.panel.set_index("item_id")["verdict"].astype(object)
    assert suite_panel.where(suite_panel.notna(), "abstained").to_dict() == panel.to_dict()
    # The summary's win rate (run.json) and the gate are the same figure on the same n.
    expected = win_rate(audit.panel)
    summary = run["suites"][0]["audit"]["win_rate"]
    gate = next(g for g in run["suites"][0]["gates"] if g["name"] == "win_rate(min_items=1)")
    assert (summary["wins"], summary["ties"], summary["losses"], summary["abstained"]) == (
        expected.wins, expected.ties, expected.losses, expected.abstained,
    )  # fmt: skip
    assert summary["rate"] == pytest.approx(expected.rate)
    assert gate["figure"] == pytest.approx(expected.rate)
    assert gate["n"] == expected.n
    # The report shows the same item verdicts, and judges' verdicts combined by the same rule.
    (blob,) = DATA_BLOCK.findall(render(load_run(run_dir)))
    items = json.loads(blob)["items"]
    shown = dict(zip(items["id"], items["panel"], strict=True))
    assert shown == panel.to_dict()
    combined = combine_orders(judged, rule.disagreement)
    verdicts = combined.groupby("item_id")["verdict"].nunique()
    disagree = dict(zip(items["id"], map(bool, items["disagree"]), strict=True))
    assert disagree == (verdicts > 1).to_dict()


def test_disagreement_abstain_gives_one_answer_everywhere(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = project(tmp_path, fake, "judges: [fair, first]\ndisagreement: abstain\nquorum: 1\n")
    result, run, run_dir = run_suite(root, fake)
    rule = PanelRule(quorum=1, disagreement="abstain")
    assert run["suites"][0]["audit"]["rule"]["disagreement"] == "abstain"
    assert_one_answer(result, run, run_dir, run_audit(result.judgments, rule=rule))
    # The rule matters here: counting the position-biased judge's flips as ties would not
    # give the same verdicts (the candidate wins where the fair judge alone voted).
    as_tie = panel_verdicts(combine_orders(result.judgments, "tie"), quorum=1)
    assert (as_tie["verdict"] == "tie").sum() > (result.panel["verdict"] == "tie").sum()


def test_weighted_aggregation_gives_one_answer_everywhere(
    tmp_path: Path, fake: FakeProvider
) -> None:
    weights = {"trusted": 1.0, "questionable": 1.0, "untrusted": 0.0}
    root = project(
        tmp_path,
        fake,
        "judges: [fair, first, metafan]\naggregation: weighted\nquorum: 1\n"
        "reliability_weights: {trusted: 1.0, questionable: 1.0, untrusted: 0.0}\n",
    )
    # Two sim judges that always disagree have no kappa to speak of: leave that check out, so
    # that the verdicts come from the biases the sims inject.
    result, run, run_dir = run_suite(root, fake, reliability={"min_kappa": None})
    rule = PanelRule(aggregation="weighted", quorum=1, weights=weights)
    verdicts = run["suites"][0]["audit"]["verdicts"]
    assert (verdicts["first"], verdicts["metafan"]) == ("untrusted", "untrusted")
    assert verdicts["fair"] != "untrusted"
    audit = run_audit(result.judgments, rule=rule, thresholds=ReliabilityThresholds(min_kappa=None))
    assert_one_answer(result, run, run_dir, audit)
    # The rule matters here: a plain majority is a three-way tie (fair, first's flips as ties,
    # metafan for its own family) where the weighted panel follows the one trusted judge.
    majority = panel_verdicts(combine_orders(result.judgments), quorum=1)
    assert (majority["verdict"] == "tie").sum() > (result.panel["verdict"] == "tie").sum()
