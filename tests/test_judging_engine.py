"""The judge calls of a suite, end to end against the fake provider and simulated models.

The candidate and the baseline are simulated writers of known quality and family; the judges
are simulated judges with known behaviour, reached through litellm over loopback. Each test
drives the engine the way the session does (resolve, check, lineage, answer, grade, judge)
and checks the rows of the judgments table.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit import Suite
from evalkit.audit._orders import option_order_bias
from evalkit.config import EvalkitConfig
from evalkit.graders import Contains, ExactMatch, Regex
from evalkit.judging import JudgeRegistry
from evalkit.models import ConcurrencyLimits, ModelClient, ResponseCache, RetryPolicy
from evalkit.panel import PanelRule, combine_orders
from evalkit.panel._aggregate import panel_verdicts
from evalkit.records._judgments import Judgment, judgments_frame
from evalkit.session._endpoints import Resolver
from evalkit.session._engine import (
    SuiteContext,
    answer_all,
    grade_all,
    judge_all,
    lineage,
)
from evalkit.session._prepare import prepare_suite
from evalkit.testing import FakeProvider, JudgeParams, ModelBehaviour

CANDIDATE = "openai/sim-writer-openai-q0.90"
BASELINE = "openai/sim-writer-meta-q0.30"
N_ITEMS = 8
LIKERT = "scale: {labels: {1: a, 2: b, 3: c, 4: d, 5: e, 6: f, 7: g, 8: h, 9: i, 10: j}}\n"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-evalkit-test")  # litellm wants one
    with FakeProvider(seed=3) as provider:
        provider.register_judge("sim-judge-fair", JudgeParams(seed=1))
        provider.register_judge(
            "sim-judge-first", JudgeParams(position_bias=0.99, quality_weight=0.0, seed=2)
        )
        provider.register_judge("sim-judge-noisy", JudgeParams(noise=1.0, seed=3))
        provider.register_judge("sim-judge-mute", JudgeParams(parse_failure_rate=1.0, seed=4))
        provider.register_judge("sim-judge-flaky", JudgeParams(parse_failure_rate=0.5, seed=5))
        provider.register_judge(
            "sim-judge-metafan", JudgeParams(self_family="meta", self_preference=20.0, seed=6)
        )
        yield provider


class Project:
    """A project folder with judges/, a dataset, and the engine driven as the session does."""

    def __init__(self, root: Path, fake: FakeProvider) -> None:
        self.root, self.fake = root, fake
        (root / "judges").mkdir()
        rows = [
            {"id": f"q{i}", "question": f"Question {i}?", "reference": f"Reference {i}."}
            for i in range(N_ITEMS)
        ]
        self.dataset(rows)

    def dataset(self, rows: list[dict[str, Any]]) -> None:
        (self.root / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def file(self, name: str, text: str) -> None:
        (self.root / "judges" / name).write_text(text)

    def judge(self, name: str, family: str, extra: str = "", *, sim: str | None = None) -> None:
        self.file(
            f"{name}.yaml",
            f"kind: judge\nmodel: openai/sim-judge-{sim or name}\nfamily: {family}\n"
            f"api_base: {self.fake.base_url}\ntemplate: pairwise_chat.j2\n{extra}",
        )

    def scorer(self, name: str, family: str, extra: str = "", *, mode: str = "pointwise") -> None:
        template = "rubric_chat.j2" if mode == "pointwise" else "reference_chat.j2"
        self.judge(
            name,
            family,
            f"mode: {mode}\ntemplate: {template}\nparser: rating\n"
            + ("" if "scale:" in extra else "scale: {min: 1, max: 10}\n")
            + extra,
            sim=name.split("-")[0],
        )

    def panel(self, name: str, judges: list[str], extra: str = "") -> None:
        self.file(f"{name}.yaml", f"kind: panel\njudges: [{', '.join(judges)}]\n{extra}")

    def suite(self, **fields: Any) -> Suite:
        return Suite("s", dataset="data.jsonl", base_dir=self.root, **fields)

    def context(self, suite: Suite, panel: str) -> SuiteContext:
        config = EvalkitConfig(
            candidate=CANDIDATE,
            candidate_api_base=self.fake.base_url,
            baseline=BASELINE,
            baseline_api_base=self.fake.base_url,
            panel=panel,
        )
        registry = JudgeRegistry(self.root / "judges")
        resolve = Resolver(self.root / "cache").resolve
        return prepare_suite(suite, config, registry, resolve, run_id="run")

    def run(
        self,
        suite: Suite,
        panel: str,
        *,
        cache: str = "off",
        interrupt: bool = False,
        retry_unparseable: bool = False,
    ) -> pd.DataFrame:
        """Run the suite's calls; ``interrupt`` stops the client once the answers are in."""
        ctx = self.context(suite, panel)
        _, skip = lineage(ctx)
        client = ModelClient(
            cache=ResponseCache(self.root / "cache", cache),  # type: ignore[arg-type]
            retry=RetryPolicy(0, 0.01, 0.1),
            timeout_s=10.0,
            limits=ConcurrencyLimits(32),
            rng=random.Random(0),
            retry_unparseable=retry_unparseable,
        )
        rows: list[Judgment] = []

        async def go() -> None:
            try:
                cand = await answer_all(ctx, client, "candidate", ctx.candidate, lambda a: None)
                base = {}  # a scored suite asks no baseline unless it names one
                if ctx.baseline is not None:
                    base = await answer_all(ctx, client, "baseline", ctx.baseline, lambda a: None)
                if interrupt:
                    client.stop("interrupted")
                grade_all(ctx, cand, base, rows.append)
                await judge_all(ctx, client, cand, base, skip, rows.append)
            finally:
                await client.aclose()

        asyncio.run(go())
        return judgments_frame(rows)


@pytest.fixture
def project(tmp_path: Path, fake: FakeProvider) -> Project:
    return Project(tmp_path, fake)


def received(fake: FakeProvider, model: str) -> list[dict[str, Any]]:
    return [dict(r.body) for r in fake.received() if r.model == model]


# --- pairwise ---


def test_pairwise_both_orders_mapped_back(project: Project, fake: FakeProvider) -> None:
    project.judge("fair", "anthropic")
    project.judge("first", "google")
    project.panel("p", ["fair", "first"])
    table = project.run(project.suite(), "p")
    assert len(table) == N_ITEMS * 2 * 2
    assert (table.groupby(["item_id", "judge"])["order"].apply(set) == {"AB", "BA"}).all()
    assert table["parse_ok"].all()
    assert table["prompt_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert table["raw_output"].str.contains(r"\[\[[ABC]\]\]").all()
    fair = table[table["judge"] == "fair"]
    assert (fair["verdict"] == "candidate").mean() > 0.85
    # The position-biased judge says "A" in both orders, which maps to opposite verdicts.
    first = table[table["judge"] == "first"].set_index(["item_id", "order"])["verdict"]
    assert (first.xs("AB", level="order") == "candidate").mean() > 0.85
    assert (first.xs("BA", level="order") == "baseline").mean() > 0.85
    # The judge saw the candidate's answer first in AB and second in BA.
    bodies = received(fake, "sim-judge-fair")
    assert len(bodies) == N_ITEMS * 2
    shown = [b["messages"][-1]["content"] for b in bodies]
    firsts = {s.index("family=openai") < s.index("family=meta") for s in shown}
    assert firsts == {True, False}


def test_disagreeing_orders_resolve_as_the_panel_says(project: Project) -> None:
    project.judge("first", "google")
    project.panel("p", ["first"])
    table = project.run(project.suite(), "p")
    as_tie = combine_orders(table, disagreement="tie")
    as_abstain = combine_orders(table, disagreement="abstain")
    flipped = as_tie["consistent"] == False  # noqa: E712 - a nullable boolean column
    assert flipped.sum() >= N_ITEMS - 1
    assert (as_tie.loc[flipped, "verdict"] == "tie").all()
    assert as_abstain.loc[flipped, "verdict"].isna().all()


# --- pointwise, repeats, reference, option orders ---


def test_pointwise_scores_each_answer_with_independent_repeats(
    project: Project, fake: FakeProvider
) -> None:
    project.scorer("noisy-r", "anthropic", "samples: 3\nparams: {temperature: 1.0}\n")
    project.panel("pr", ["noisy-r"], "aggregation: mean\n")
    table = project.run(project.suite(mode="pointwise", baseline=BASELINE), "pr")
    assert len(table) == N_ITEMS * 2 * 3  # both answers, three samples each
    assert set(table["mode"]) == {"pointwise"}
    assert table["order"].isna().all()
    assert table["baseline"].isna().all()
    assert table.groupby("candidate")["candidate_family"].first().to_dict() == {
        CANDIDATE: "openai",
        BASELINE: "meta",
    }
    assert table["parse_ok"].all()
    assert table["score"].between(1, 10).all()
    # Each repeat carries its own seed, so the simulated judge draws independently.
    seeds = sorted({b["seed"] for b in received(fake, "sim-judge-noisy")})
    assert seeds == [0, 1, 2]
    spread = table.groupby(["item_id", "candidate"])["score"].nunique()
    assert (spread > 1).sum() >= N_ITEMS // 2
    means = table.groupby("candidate")["score"].mean()
    assert means[CANDIDATE] > means[BASELINE] + 2


def test_reference_judges_see_the_reference(project: Project, fake: FakeProvider) -> None:
    project.scorer("fair-ref", "anthropic", mode="reference")
    project.panel("rr", ["fair-ref"], "aggregation: median\n")
    table = project.run(project.suite(mode="reference", baseline=BASELINE), "rr")
    assert set(table["mode"]) == {"reference"}
    assert table["parse_ok"].all()
    prompts = [b["messages"][-1]["content"] for b in received(fake, "sim-judge-fair")]
    assert len(prompts) == N_ITEMS * 2
    assert all("[Reference answer]\nReference " in p for p in prompts)


def test_option_orders_feed_the_option_order_audit(project: Project, fake: FakeProvider) -> None:
    project.scorer("fair-lk", "anthropic", LIKERT + "option_orders: [ascending, descending]\n")
    project.panel("lk", ["fair-lk"], "aggregation: mean\n")
    table = project.run(project.suite(mode="pointwise", baseline=BASELINE), "lk")
    assert len(table) == N_ITEMS * 2 * 2
    assert set(table["option_order"]) == {"ascending", "descending"}
    prompts = [b["messages"][-1]["content"] for b in received(fake, "sim-judge-fair")]
    assert sum("1: a\n2: b" in p for p in prompts) == sum("10: j\n9: i" in p for p in prompts)
    bias = option_order_bias(table).set_index("judge").loc["fair-lk"]
    # The simulated judge has no option-order bias: both listings give the same score.
    assert (bias["n_items"], bias["consistency"]) == (N_ITEMS * 2, 1.0)


# --- unreadable replies: recorded, cached and replayed as such, repaired once when asked ---


def test_unparseable_replies_are_rows_and_are_replayed_from_the_cache(
    project: Project, fake: FakeProvider
) -> None:
    project.judge("mute", "anthropic")
    project.panel("p", ["mute"])
    table = project.run(project.suite(), "p", cache="use")
    assert not table["parse_ok"].any()
    assert table["verdict"].isna().all()
    assert (table["status"] == "unparseable").all()
    assert table["error"].str.startswith("no verdict found").all()
    assert table["raw_output"].str.startswith("I am not able").all()
    assert not table["cached"].any()
    calls = fake.requests("sim-judge-mute")
    again = project.run(project.suite(), "p", cache="use")
    assert fake.requests("sim-judge-mute") == calls  # the unreadable replies were cached
    assert (again["status"] == "unparseable").all()
    assert again["cached"].all()
    cols = ["item_id", "order", "raw_output", "error"]
    pd.testing.assert_frame_equal(
        again.sort_values(cols)[cols].reset_index(drop=True),
        table.sort_values(cols)[cols].reset_index(drop=True),
    )
    retried = project.run(project.suite(), "p", cache="use", retry_unparseable=True)
    assert fake.requests("sim-judge-mute") == 2 * calls  # asked again when told to
    assert not retried["cached"].any()


def test_an_interrupted_call_is_a_not_run_row_that_says_so_once(
    project: Project, fake: FakeProvider
) -> None:
    project.judge("fair", "anthropic")
    project.panel("p", ["fair"])
    table = project.run(project.suite(), "p", interrupt=True)
    assert len(table) == N_ITEMS * 2
    assert (table["status"] == "not_run").all()
    assert (table["error"] == "interrupted").all()
    assert not table["parse_ok"].any()
    assert fake.requests("sim-judge-fair") == 0


def test_repair_asks_once_more_and_records_both_replies(
    project: Project, fake: FakeProvider
) -> None:
    project.judge("flaky", "anthropic", "repair: true\n")
    project.panel("p", ["flaky"])
    table = project.run(project.suite(), "p", cache="use")
    first_failed = ~table["raw_output"].str.contains(r"\[\[", regex=True)
    assert first_failed.sum() >= 3
    assert table.loc[first_failed, "repair_output"].notna().all()
    assert table.loc[~first_failed, "repair_output"].isna().all()
    repaired = first_failed & table["parse_ok"]
    assert repaired.sum() >= 1
    assert table.loc[repaired, "verdict"].notna().all()
    assert table.loc[repaired, "error"].isna().all()
    still = first_failed & ~table["parse_ok"]
    assert table.loc[still, "error"].str.contains("; after repair: ").all()
    repairs = [b for b in received(fake, "sim-judge-flaky") if len(b["messages"]) == 3]
    assert len(repairs) == first_failed.sum()
    assert repairs[0]["messages"][1]["role"] == "assistant"
    assert "Reply again with only your verdict" in repairs[0]["messages"][2]["content"]
    # A rerun replays the unreadable first replies and their repairs from the cache.
    before = fake.requests("sim-judge-flaky")
    again = project.run(project.suite(), "p", cache="use")
    assert fake.requests("sim-judge-flaky") == before
    assert again["cached"].all()
    assert again["parse_ok"].sum() == table["parse_ok"].sum()
    # Told to retry, it asks the unreadable first replies again; repairs that worked are
    # usable answers and are replayed, the others are asked again too.
    project.run(project.suite(), "p", cache="use", retry_unparseable=True)
    assert fake.requests("sim-judge-flaky") - before == 2 * first_failed.sum() - repaired.sum()


# --- the cache key follows the rendered prompt ---


def test_editing_a_rubric_invalidates_exactly_its_calls(
    project: Project, fake: FakeProvider
) -> None:
    rubric = (Path(__file__).parents[1] / "evalkit/judges/rubric_chat.j2").read_text()
    project.file("mine.j2", rubric)
    project.scorer("fair-a", "anthropic", "template: mine.j2\n")
    project.scorer("noisy-b", "google")
    project.panel("pr", ["fair-a", "noisy-b"], "aggregation: mean\n")
    suite = project.suite(mode="pointwise", baseline=BASELINE)
    first = project.run(suite, "pr", cache="use")
    total = fake.requests()
    project.file("mine.j2", rubric.replace("Do not reward", "Never reward"))
    second = project.run(suite, "pr", cache="use")
    assert fake.requests("sim-judge-fair") == 2 * N_ITEMS * 2
    assert fake.requests() - total == N_ITEMS * 2  # only the edited judge's calls
    key = ["judge", "item_id", "candidate"]
    hashes = [t.set_index(key)["prompt_hash"].sort_index() for t in (first, second)]
    changed = (hashes[0] != hashes[1]).groupby(level="judge").all()
    assert changed.to_dict() == {"fair-a": True, "noisy-b": False}
    assert second.loc[second["judge"] == "noisy-b", "cached"].all()


# --- deterministic graders ---


def test_graders_are_rows_beside_the_judges(project: Project, fake: FakeProvider) -> None:
    project.judge("fair", "anthropic")
    project.panel("p", ["fair"])
    fake.behave("sim-writer-meta-q0.30", ModelBehaviour(reply=""))  # the baseline never answers
    graders = [Contains(text="⟦sim"), ExactMatch(), Regex(r"quality=0\.9", name="good")]
    table = project.run(project.suite(graders=graders), "p")
    rows = table[table["judge_family"] == "deterministic"]
    assert len(rows) == N_ITEMS * 2 * 3
    assert rows.groupby("judge")["mode"].first().to_dict() == {
        "contains": "pointwise",
        "exact_match": "reference",
        "good": "pointwise",
    }
    cand = rows[rows["candidate"] == CANDIDATE].groupby("judge")["score"].mean().to_dict()
    assert cand == {"contains": 1.0, "exact_match": 0.0, "good": 1.0}
    base = rows[rows["candidate"] == BASELINE]
    assert base["score"].isna().all()
    assert (base["status"] == "no_answer").all()
    assert (base["error"] == "no baseline answer").all()
    assert rows["raw_output"].notna().sum() == N_ITEMS * 3
    assert rows.groupby("judge")["prompt_hash"].nunique().eq(1).all()
    # The pairwise judge cannot compare without the baseline's answer: rows say so.
    judged = table[table["judge"] == "fair"]
    assert (judged["status"] == "no_answer").all()
    assert (judged["error"] == "no baseline answer").all()


# --- panels: quorum, abstention, ties never broken by list order ---


def test_quorum_abstains_and_a_failing_judge_breaks_no_tie(project: Project) -> None:
    project.judge("fair", "anthropic")
    project.judge("metafan", "mistral")
    project.judge("mute", "cohere")
    project.panel("p", ["fair", "metafan", "mute"], "quorum: 2\n")
    project.panel("reversed", ["mute", "metafan", "fair"], "quorum: 2\n")
    project.panel("strict", ["fair", "mute"], "quorum: 2\n")
    panels = {}
    for name in ("p", "reversed", "strict"):
        ctx = project.context(project.suite(), name)
        table = project.run(project.suite(), name)
        combined = combine_orders(table, disagreement=ctx.panel.spec.disagreement)
        panels[name] = panel_verdicts(
            combined, method=ctx.panel.spec.aggregation, quorum=ctx.panel.spec.quorum
        ).set_index("item_id")
    # fair votes candidate, metafan votes for the meta baseline, mute cannot vote: a tie that
    # the failing judge never breaks, whatever the order of the list.
    assert (panels["p"]["verdict"] == "tie").all()
    assert panels["p"]["reason"].str.startswith("no majority").all()
    assert panels["p"][["verdict", "votes_candidate"]].equals(
        panels["reversed"][["verdict", "votes_candidate"]]
    )
    # One valid judge of a quorum of two: every item abstained, with the reason.
    strict = panels["strict"]
    assert strict["abstained"].all()
    assert strict["verdict"].isna().all()
    assert (strict["reason"] == "below quorum: 1 of 2 judges gave a verdict (quorum 2)").all()


def test_weighted_panel_counts_an_unreliable_judge_less(project: Project) -> None:
    project.judge("fair", "anthropic")
    project.judge("metafan", "mistral")
    project.panel(
        "w",
        ["fair", "metafan"],
        "aggregation: weighted\nreliability_weights: {trusted: 1.0, questionable: 0.25}\n",
    )
    ctx = project.context(project.suite(), "w")
    table = project.run(project.suite(), "w")
    verdicts = pd.DataFrame({"judge": ["fair", "metafan"], "verdict": ["trusted", "questionable"]})
    rule = PanelRule(aggregation="weighted", weights=ctx.panel.spec.reliability_weights)
    weights = rule.judge_weights(verdicts)
    assert weights == {"fair": 1.0, "metafan": 0.25}
    panel = panel_verdicts(combine_orders(table), method="weighted", quorum=1, weights=weights)
    assert (panel["verdict"] == "candidate").mean() > 0.85
