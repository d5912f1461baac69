"""The audit on every degenerate table a real run can produce: it reports, it never aborts.

A provider outage (every call failed), a parser that reads nothing, a suite of one item, a
panel of one judge, only ties, one order per item, NaN scores, repeated samples, missing
answer lengths, deterministic graders' rows mixed in: each must come back as a report in which
every judge has a verdict (with its reason when it is not trusted) and every panel item has a
verdict or is abstained with its reason — never as an exception.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from evalkit.audit import position_bias, run_audit
from evalkit.audit._panel import win_rate
from evalkit.audit._table import validate_judgments
from evalkit.graders._base import GRADER_FAMILY
from evalkit.panel import PanelRule, combine_orders
from evalkit.panel._aggregate import panel_verdicts
from evalkit.records._judgments import VERDICTS, judgments_frame

# The everyday loop (-m 'not slow') leaves these out: property tests over degenerate tables.
pytestmark = pytest.mark.slow

#: LLM judges; two share a family so that self-preference has something to measure, and one
#: has no known family (a table recorded by another tool).
JUDGES = (("judge-a", "fam-a"), ("judge-b", "fam-b"), ("judge-c", "fam-a"), ("judge-d", None))
GRADERS = ("exact_match", "regex")
VERDICT_OUTCOMES = ("candidate", "baseline", "tie", "failed", "unparsed")
SCORE_OUTCOMES = (1.0, 2.0, 3.0, 5.0, "nan", "failed", "unparsed")
ORDER_SETS = (("AB", "BA"), ("AB",), ("BA",))
LISTINGS = (("ascending", "descending"), ("ascending",), (None,))
FAMILIES = ("fam-a", "fam-b", "fam-x", None)
PAIRWISE_LABELS = (*VERDICTS, None)
SCORE_LABELS = ("pass", "fail", "3", None)
RELIABILITY = ("trusted", "questionable", "untrusted")


def _row(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": "run-1",
        "baseline": None,
        "baseline_family": None,
        "order": None,
        "prompt_hash": "h",
        "raw_output": "ok",
        "verdict": None,
        "score": None,
        "parse_ok": True,
        "error": None,
        "latency_s": 0.1,
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": 0.0,
        "cached": False,
    }
    row.update(fields)
    return row


def _outcome(outcome: object) -> dict[str, Any]:
    """The fields of a call with this outcome: a verdict, a score, or nothing and why."""
    if outcome == "failed":
        return {"error": "provider outage: 503", "parse_ok": False, "raw_output": None}
    if outcome == "unparsed":
        return {"parse_ok": False, "raw_output": "I cannot decide."}
    if outcome == "nan":
        return {"score": math.nan}
    if isinstance(outcome, float):
        return {"score": outcome}
    return {"verdict": outcome}


@st.composite
def judgments_tables(draw: st.DrawFn) -> pd.DataFrame:
    """A valid judgments table from a real run, degenerate in any of the ways listed above."""
    # Weighted towards the degenerate sizes: no item, one item, one judge.
    n_items = draw(st.sampled_from((0, 1, 1, 2, 3, 4, 5, 6)))
    judges = draw(st.permutations(JUDGES))[: draw(st.sampled_from((0, 1, 1, 2, 2, 3, 3)))]
    graders = draw(st.lists(st.sampled_from(GRADERS), unique=True, max_size=2))
    modes = draw(st.sets(st.sampled_from(("pairwise", "pointwise", "reference")), min_size=1))
    # A table-wide palette of outcomes, or a regime: an outage (every call failed), a parser
    # that reads nothing, judges that never decide.
    regime = draw(st.sampled_from(("any", "any", "outage", "unparseable", "ties")))
    verdicts = sorted(draw(st.sets(st.sampled_from(VERDICT_OUTCOMES), min_size=1)))
    scores = sorted(draw(st.sets(st.sampled_from(SCORE_OUTCOMES), min_size=1)), key=str)
    if regime in ("outage", "unparseable"):
        verdicts = scores = ["failed" if regime == "outage" else "unparsed"]
    elif regime == "ties":
        verdicts = ["tie"]
    order_sets = draw(st.sets(st.sampled_from(ORDER_SETS), min_size=1))
    n_samples = draw(st.integers(1, 3))
    lengths = draw(st.booleans())
    option_orders = draw(st.booleans())
    humans = draw(st.booleans())
    rows: list[dict[str, Any]] = []
    for i in range(n_items):
        mode = draw(st.sampled_from(sorted(modes)))
        cand_fam, base_fam = draw(st.sampled_from(FAMILIES)), draw(st.sampled_from(FAMILIES))
        length = (
            {"len_candidate": draw(st.integers(1, 400)), "len_baseline": draw(st.integers(1, 400))}
            if lengths and draw(st.booleans())
            else {}
        )
        labels = PAIRWISE_LABELS if mode == "pairwise" else SCORE_LABELS
        item = {
            "suite": draw(st.sampled_from(("suite-1", "suite-2"))),
            "item_id": f"item-{i}",
            "human_label": draw(st.sampled_from(labels)) if humans else None,
        }
        answers = [("model-c", cand_fam, length.get("len_candidate"))]
        if mode != "pairwise" or graders:
            answers.append(("model-b", base_fam, length.get("len_baseline")))
        for judge, family in judges:
            for sample in range(n_samples):
                if mode == "pairwise":
                    for order in draw(st.sampled_from(sorted(order_sets))):
                        rows.append(
                            _row(
                                **item,
                                **length,
                                mode=mode,
                                candidate="model-c",
                                candidate_family=cand_fam,
                                baseline="model-b",
                                baseline_family=base_fam,
                                judge=judge,
                                judge_family=family,
                                order=order,
                                sample=sample,
                                **_outcome(draw(st.sampled_from(verdicts))),
                            )
                        )
                    continue
                for name, fam, n_tokens in answers:
                    listings = draw(st.sampled_from(LISTINGS)) if option_orders else (None,)
                    for listing in listings:
                        rows.append(
                            _row(
                                **item,
                                mode=mode,
                                candidate=name,
                                candidate_family=fam,
                                len_candidate=n_tokens,
                                judge=judge,
                                judge_family=family,
                                sample=sample,
                                option_order=listing,
                                **_outcome(draw(st.sampled_from(scores))),
                            )
                        )
        # Every grader grades every answer (pass 1.0, fail 0.0, or no answer to grade).
        for grader in graders:
            for name, fam, n_tokens in answers:
                rows.append(
                    _row(
                        **item,
                        mode=draw(st.sampled_from(("pointwise", "reference"))),
                        candidate=name,
                        candidate_family=fam,
                        len_candidate=n_tokens,
                        judge=grader,
                        judge_family=GRADER_FAMILY,
                        sample=0,
                        **_outcome(draw(st.sampled_from((0.0, 1.0, "failed")))),
                    )
                )
    return judgments_frame(rows)


def _compact(table: pd.DataFrame) -> str:
    """The table's telling columns, for the report of a failing example."""
    columns = ["suite", "item_id", "mode", "candidate", "judge", "judge_family", "order"]
    columns += ["sample", "verdict", "score", "parse_ok", "error", "option_order", "human_label"]
    columns += ["len_candidate", "len_baseline", "candidate_family", "baseline_family"]
    with pd.option_context("display.width", 250, "display.max_rows", 500):
        return table[columns].to_string()


def _llm_judges(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["judge_family"].fillna("") != GRADER_FAMILY, "judge"].dropna())


def _assert_panel(panel: pd.DataFrame) -> None:
    """Every item has a verdict, or is abstained with its reason."""
    for row in panel.to_dict("records"):
        if row["abstained"]:
            assert isinstance(row["reason"], str), row
            assert row["reason"], row
            assert pd.isna(row["verdict"]), row
        else:
            assert row["verdict"] in VERDICTS, row
    assert not panel.duplicated(["suite", "item_id"]).any()


def _assert_score_panel(panel: pd.DataFrame) -> None:
    for row in panel.to_dict("records"):
        if row["abstained"]:
            assert isinstance(row["reason"], str), row
            assert row["reason"], row
        else:
            assert math.isfinite(row["score"]), row


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    table=judgments_tables(),
    quorum=st.sampled_from((None, 1, 2, 3)),
    pass_score=st.sampled_from((None, 3.0)),
)
def test_run_audit_reports_every_degenerate_table(
    table: pd.DataFrame, quorum: int | None, pass_score: float | None
):
    try:
        _audit_and_check(table, quorum, pass_score)
    except BaseException:
        note(_compact(table))  # only when it fails: rendering every table takes time
        raise


def _audit_and_check(table: pd.DataFrame, quorum: int | None, pass_score: float | None) -> None:
    validate_judgments(table)  # the generator makes valid tables only
    report = run_audit(table, n_boot=20, rule=PanelRule(quorum=quorum), pass_score=pass_score)
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data

    # Every LLM judge has a verdict, and a reason whenever it is not trusted; graders are
    # not judges and appear nowhere in the audit.
    judges = _llm_judges(table)
    reliability = report.reliability.set_index("judge")
    assert set(reliability.index) == judges
    for judge, row in reliability.iterrows():
        assert row["verdict"] in RELIABILITY, (judge, row)
        if row["verdict"] != "trusted":
            assert isinstance(row["reasons"], str), (judge, row)
            assert row["reasons"].strip(), (judge, row)
    audited = {
        "judges": report.judges["judge"],
        "position": report.position["judge"],
        "option_order": report.option_order["judge"],
        "self_preference": report.self_preference["judge"],
        "verbosity": report.verbosity["judge"],
        "length_slope": report.length_slope["judge"],
        "agreement": pd.concat([report.agreement["judge_a"], report.agreement["judge_b"]]),
        "kappa_with_others": report.kappa_with_others["judge"],
        "human": report.human["rater"],
        "corrected": report.corrected["rater"],
        "checks": report.checks["judge"],
    }
    for name, named in audited.items():
        assert set(named.dropna()) <= judges | {"panel"}, name

    # Every item the judges saw is in its panel: decided, or abstained with the reason.
    llm = table.loc[table["judge_family"].fillna("") != GRADER_FAMILY]
    _assert_panel(report.panel)
    pairwise_items = set(
        map(tuple, llm.loc[llm["mode"] == "pairwise", ["suite", "item_id"]].values)
    )
    assert set(map(tuple, report.panel[["suite", "item_id"]].values)) == pairwise_items
    _assert_score_panel(report.score_panel)
    scored = llm.loc[llm["mode"] != "pairwise", ["suite", "item_id", "candidate"]]
    assert len(report.score_panel) == len(scored.drop_duplicates())
    wr = report.win_rate
    assert wr.n + wr.abstained == len(report.panel)

    # What people read never shows a NaN or NA, nor claims a limit for what was not measured.
    texts = [*report.summary_lines(), *report.reliability["reasons"], *report.checks["message"]]
    for frame in (report.panel, report.score_panel, report.self_preference, report.verbosity):
        texts += [str(t) for t in frame["reason"].dropna()] if "reason" in frame else []
    assert not [t for t in texts if re.search(r"(?i:\bnan\b)|<NA>|\bNone\b", t)]
    unmeasured = report.checks.loc[report.checks["status"] == "not measured", "message"]
    assert unmeasured.str.endswith("not measured").all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=judgments_tables(), quorum=st.sampled_from((1, 2, 3)))
def test_the_building_blocks_never_raise_on_a_valid_table(table: pd.DataFrame, quorum: int):
    combined = combine_orders(validate_judgments(table))
    assert set(combined["verdict"].dropna()) <= set(VERDICTS)
    for frame in (combine_orders(validate_judgments(table), "abstain"), combined):
        lost = frame.loc[frame["verdict"].isna(), "reason"]
        assert lost.notna().all()
        assert (lost.str.len() > 0).all()
    panel = panel_verdicts(combined, quorum=quorum)
    _assert_panel(panel)
    _assert_score_panel(panel_verdicts(table, method="mean", quorum=quorum))
    _assert_score_panel(panel_verdicts(table, method="median", quorum=quorum))
    wr = win_rate(panel)
    assert wr.n + wr.abstained == len(panel)
    json.dumps(wr.to_dict(), allow_nan=False)
    position = position_bias(table)
    assert (position[["n_rows", "n_invalid", "n_items", "n_missing_order"]] >= 0).all(axis=None)


def _pairwise_outage(n_judges: int = 2, n_items: int = 2) -> pd.DataFrame:
    """Every call of a panel failed: a provider outage."""
    return judgments_frame(
        _row(
            suite="s",
            item_id=f"q{i}",
            mode="pairwise",
            candidate="model-c",
            candidate_family="fam-c",
            baseline="model-b",
            baseline_family="fam-b",
            judge=f"j{j}",
            judge_family=f"fam-{j}",
            order=order,
            sample=0,
            **_outcome("failed"),
        )
        for j in range(n_judges)
        for i in range(n_items)
        for order in ("AB", "BA")
    )


def test_an_outage_of_the_whole_panel_is_reported_not_raised():
    report = run_audit(_pairwise_outage(), n_boot=20)
    assert report.verdicts() == {"j0": "untrusted", "j1": "untrusted"}
    assert all("none of its 4 calls" in r for r in report.reliability["reasons"])
    assert report.panel["abstained"].all()
    assert report.panel["reason"].str.startswith("below quorum: 0 of 2").all()
    assert report.win_rate.n == 0
    assert report.win_rate.abstained == 2
    json.dumps(report.to_dict(), allow_nan=False)


def test_an_outage_of_a_pointwise_panel_abstains_every_item():
    table = judgments_frame(
        _row(
            suite="s",
            item_id=f"q{i}",
            mode="pointwise",
            candidate="model-c",
            candidate_family="fam-c",
            judge=f"j{j}",
            judge_family=f"fam-{j}",
            sample=0,
            **_outcome("failed"),
        )
        for j in range(2)
        for i in range(2)
    )
    report = run_audit(table, n_boot=20)
    assert report.verdicts() == {"j0": "untrusted", "j1": "untrusted"}
    assert len(report.score_panel) == 2
    assert report.score_panel["abstained"].all()
    assert report.score_panel["reason"].str.startswith("below quorum: 0 of 2").all()


def test_grader_rows_are_not_audited_as_judges():
    judged = _pairwise_outage()
    graded = judgments_frame(
        _row(
            suite="s",
            item_id=f"q{i}",
            mode="reference",
            candidate="model-c",
            candidate_family="fam-c",
            judge="exact_match",
            judge_family=GRADER_FAMILY,
            sample=0,
            score=float(i % 2),
        )
        for i in range(2)
    )
    both = pd.concat([judged, graded], ignore_index=True)
    report, alone = run_audit(both, n_boot=20), run_audit(judged, n_boot=20)
    # Every judge figure ignores the graders; only "fluent but wrong" reads them, on purpose.
    with_graders, without = report.to_dict(), alone.to_dict()
    assert with_graders.pop("fluent_but_wrong")["reason"] != "the suite has no deterministic graders"
    assert without.pop("fluent_but_wrong")["reason"] == "the suite has no deterministic graders"
    assert with_graders == without
    assert "exact_match" not in set(report.reliability["judge"])


@pytest.mark.parametrize("n_items", [0, 1])
def test_a_table_of_graders_only_audits_nothing(n_items: int):
    table = judgments_frame(
        _row(
            suite="s",
            item_id=f"q{i}",
            mode="pointwise",
            candidate="model-c",
            candidate_family="fam-c",
            judge="exact_match",
            judge_family=GRADER_FAMILY,
            sample=0,
            score=1.0,
        )
        for i in range(n_items)
    )
    report = run_audit(table, n_boot=20)
    assert report.reliability.empty
    assert report.score_panel.empty
    json.dumps(report.to_dict(), allow_nan=False)


def _pairwise(
    judge: str, family: str | None, item: str, order: str, outcome: object, **kw: Any
) -> dict[str, Any]:
    return _row(
        suite="s",
        item_id=item,
        mode="pairwise",
        candidate="model-c",
        candidate_family="fam-a",
        baseline="model-b",
        baseline_family="fam-b",
        judge=judge,
        judge_family=family,
        order=order,
        sample=0,
        **kw,
        **_outcome(outcome),
    )


def test_a_judge_of_unknown_family_is_never_the_reference_for_self_preference():
    # judge-d's family is unknown (it may be fam-a): judge-a has no reference to compare with.
    table = judgments_frame(
        _pairwise(judge, family, "q", order, "candidate")
        for judge, family in (("judge-a", "fam-a"), ("judge-d", None))
        for order in ("AB", "BA")
    )
    got = run_audit(table, n_boot=20).self_preference.set_index("judge")
    assert got.loc["judge-d", "reason"] == "the judge's family is unknown"
    assert got.loc["judge-a", "reason"].endswith("(judges of unknown family do not count)")
    assert not got["measurable"].any()


def test_verbosity_is_measured_when_every_verdict_came_from_one_order():
    rows = [
        _pairwise(
            "j1",
            "fam-j",
            f"q{i}",
            "AB",
            ("candidate", "baseline")[i % 2],
            len_candidate=50 + 37 * i,
            len_baseline=400 - 23 * i,
        )
        for i in range(14)
    ]
    got = run_audit(judgments_frame(rows), n_boot=20).verbosity.iloc[0]
    assert got["measurable"], got["reason"]
    assert math.isfinite(got["odds_ratio"])
    # One order only: position and the candidate's quality cannot be told apart.
    assert math.isnan(got["position_odds_ratio"])


def test_a_statistic_that_cannot_be_measured_is_not_said_to_miss_its_limit():
    # Only ties: agreement by chance is perfect, so kappa is undefined, not "below 0.4".
    table = judgments_frame(
        _pairwise(judge, f"fam-{judge}", f"q{i}", order, "tie")
        for judge in ("j1", "j2")
        for i in range(3)
        for order in ("AB", "BA")
    )
    report = run_audit(table, n_boot=20)
    kappa = report.checks.loc[report.checks["check"] == "best kappa with another judge"]
    assert (kappa["status"] == "not measured").all()
    assert (kappa["message"] == "best kappa with another judge n/a: not measured").all()
    assert not any("nan" in line for line in report.summary_lines())


def test_the_audit_knows_the_graders_family():
    from evalkit.audit._table import GRADER_FAMILY as AUDIT_GRADER_FAMILY

    assert AUDIT_GRADER_FAMILY == GRADER_FAMILY


def test_a_judge_with_a_single_verdict_gets_a_verdict_and_its_reason():
    report = run_audit(judgments_frame([_pairwise("j1", "fam-j", "q", "AB", "candidate")]))
    row = report.reliability.iloc[0]
    assert row["verdict"] == "questionable"
    assert "only 0 items were judged validly in both positions" in row["reasons"]
    assert report.panel.loc[0, "reason"] == "below quorum: 0 of 1 judges gave a verdict (quorum 1)"
    json.dumps(report.to_dict(), allow_nan=False)


def test_length_regressions_on_a_single_item_are_not_measurable():
    # Ten scores and ten verdicts, each set from one item: item-clustered errors need two.
    scores = [
        _row(
            suite="s",
            item_id="q",
            mode="pointwise",
            candidate=name,
            candidate_family="fam-a",
            len_candidate=n_tokens,
            judge="j1",
            judge_family="fam-j",
            sample=sample,
            score=float(1 + sample % 3),
        )
        for name, n_tokens in (("model-c", 50), ("model-b", 300))
        for sample in range(5)
    ]
    verdicts = [
        {
            **_pairwise("j1", "fam-j", "p", order, ("candidate", "baseline")[sample % 2]),
            "sample": sample,
        }
        for sample in range(5)
        for order in ("AB", "BA")
    ]
    lengths = {"len_candidate": 50, "len_baseline": 300}
    table = judgments_frame([*scores, *({**v, **lengths} for v in verdicts)])
    report = run_audit(table, n_boot=20)
    reason = "every observation comes from one item: its standard error is unknown"
    assert report.length_slope["reason"].tolist() == [reason]
    # One item's answers have one length difference: caught before the model, as before.
    assert report.verbosity["reason"].tolist() == ["the answers' lengths never differ"]
