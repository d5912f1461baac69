"""The report page: what it shows, that it shows it safely, and that it is a pure render."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_report_runs import write_run

from evalkit.panel import combine_orders
from evalkit.records import read_judgments
from evalkit.records._store import JUDGMENTS_FILE, RUN_FILE
from evalkit.report import RunData, load_run, render
from evalkit.report._items import MAX_TEXT_CHARS, item_data
from evalkit.report._load import panel_frame

GOLDEN = Path(__file__).parent / "test_report_golden" / "summary.html"
#: Set to 1 to accept a changed summary as the new golden file.
ACCEPT = os.environ.get("EVALKIT_ACCEPT_GOLDEN") == "1"
DATA_BLOCK = re.compile(r'<script type="application/json" id="item-data">(.*?)</script>', re.S)


def item_blob(html: str) -> dict:
    (raw,) = DATA_BLOCK.findall(html)
    return json.loads(raw)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    return load_run(write_run(tmp_path_factory.mktemp("run") / "run", n_items=60))


@pytest.fixture(scope="module")
def html(run: RunData) -> str:
    return render(run)


def test_the_top_answers_did_it_pass(run: RunData, html: str) -> None:
    (gate,) = run.run.suites[0].gates
    headline = re.search(r'<div class="headline outcome (\w+)">(.*?)</div>', html)
    assert headline is not None
    assert headline[1] == gate.outcome
    assert headline[2].startswith(gate.outcome.upper())
    row = html[html.index('<table class="gates">') :].split("</table>")[0]
    for shown in (
        gate.name,
        f"{gate.figure:.3f}",
        f"[{gate.low:.3f}, {gate.high:.3f}]",
    ):
        assert shown in row
    assert f'<td class="num">{gate.n}</td>' in row


def test_models_cost_and_run_facts(run: RunData, html: str) -> None:
    for text in ("openai/cand-model", "meta/base-model", "(anthropic)", "(google)", "(meta)"):
        assert text in html
    usage = html[html.index('<table class="usage">') :].split("</table>")[0]
    rows = usage.split("<tr")[2:]  # after the header row
    calls = [int(re.findall(r'<td class="num">([\d,]+)</td>', r)[0].replace(",", "")) for r in rows]
    # candidate, baseline, judges, swapped order (part of the judges), total.
    n = 60
    assert calls == [n, n, n * 6, n * 3, n * 8]
    cost = run.answers["cost_usd"].sum() + run.judgments["cost_usd"].sum()
    assert f"${cost:.4f}" in usage
    assert "1 min 24 s" in html  # finished - started = 83.5 s
    assert "abc123def456" in html  # config hash
    assert "0.1.0" in html


def test_the_dashboard_says_which_judges_to_trust_and_why(run: RunData, html: str) -> None:
    audit = run.run.suites[0].audit.model_dump()
    dashboard = html[html.index('<table class="judges">') :].split("</table>")[0]
    for record in audit["reliability"]:
        assert f'<span class="badge {record["verdict"]}">{record["verdict"]}</span>' in dashboard
    assert audit["verdicts"]["first"] == "untrusted"
    assert "first-position rate" in dashboard
    # The why: every reason of every judge is listed.
    for record in audit["reliability"]:
        for reason in filter(None, record["reasons"].split("; ")):
            assert reason.replace("'", "&#39;") in dashboard
    assert "Can these judges be trusted?" in html


def test_every_chart_is_inline_svg(html: str) -> None:
    charts = re.findall(r'<figure class="chart" data-chart="([\w-]+)">\s*<svg', html)
    assert set(charts) == {"first-position", "length", "verdicts", "kappa-heatmap"}
    assert "<script src" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "default-src 'none'" in html  # nothing may load even if markup got in


def test_agreement_figures(run: RunData, html: str) -> None:
    audit = run.run.suites[0].audit.model_dump()
    fleiss = next(r for r in audit["panel_agreement"] if r["statistic"] == "fleiss_kappa")
    assert "Fleiss&#39; kappa" in html
    assert f"{fleiss['estimate']:.3f} [{fleiss['low']:.3f}, {fleiss['high']:.3f}]" in html
    assert "Krippendorff&#39;s alpha (nominal)" in html
    pairs = audit["agreement"]
    assert len(pairs) == 3
    for pair in pairs:
        assert f"{pair['judge_a']} vs {pair['judge_b']}: kappa {pair['kappa']:.2f}" in html


def test_items_needing_a_look_come_first(run: RunData, html: str) -> None:
    data = item_blob(html)
    items = data["items"]
    combined = combine_orders(run.judgments)
    flipped = combined.loc[combined["consistent"].eq(False).fillna(False), "item_id"]
    several = combined.groupby("item_id")["verdict"].nunique() > 1
    first = set(flipped) | set(several[several].index)
    n_first = len(first)
    assert 0 < n_first < 60
    assert set(items["id"][:n_first]) == first
    assert not any(items["disagree"][n_first:])
    assert not any(items["flips"][n_first:])
    # Each item's calls are its own, in the slice first[i]:first[i]+n[i].
    calls = data["calls"]
    for i in (0, n_first, 59):
        span = range(items["first"][i], items["first"][i] + items["n"][i])
        assert len(span) == 6
        rows = run.judgments[run.judgments["item_id"] == items["id"][i]]
        assert sorted(calls["raw"][k] for k in span) == sorted(rows["raw_output"])
    assert f"{n_first} of 60 items" in html


def test_warnings_and_failures_are_counted(run: RunData, html: str) -> None:
    warnings = html[html.index('id="warnings"') : html.index('id="items"')]
    assert "Lineage and family warnings (1)" in warnings
    assert "judge solid is from the meta family, like the baseline" in warnings
    n_parse = int(run.judgments["error"].str.startswith("parse").sum())
    assert n_parse > 0
    assert f"Parse failures ({n_parse})" in warnings
    assert "failed judge calls (0)" in warnings


def test_the_summary_matches_its_golden_file(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", n_items=40, seed=7)
    html = render(load_run(run))
    obtained = html[html.index('<section id="summary">') : html.index('<h2 id="run">')]
    if ACCEPT or not GOLDEN.exists():
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(obtained, encoding="utf-8")
        if not ACCEPT:
            pytest.fail(f"wrote a new golden file {GOLDEN}; check it and run again")
    expected = GOLDEN.read_text(encoding="utf-8")
    if obtained != expected:
        GOLDEN.with_suffix(".obtained.html").write_text(obtained, encoding="utf-8")
        diff = difflib.unified_diff(
            expected.splitlines(), obtained.splitlines(), "golden", "obtained", lineterm=""
        )
        pytest.fail("the summary changed (EVALKIT_ACCEPT_GOLDEN=1 accepts it):\n" + "\n".join(diff))


HOSTILE = {
    0: '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">',
    1: '</textarea></pre></script><!-- <a href="javascript:alert(1)">click</a> -->',
    2: "x" * 200_000,
    3: '</SCRIPT ><script type="application/json">{}</script> {{ 7*7 }} \u2028\u2029 日本語',
}


def test_hostile_answers_are_data_not_markup(tmp_path: Path) -> None:
    run = load_run(
        write_run(
            tmp_path / "run", n_items=25, texts=HOSTILE, raw={1: HOSTILE[0]}, errors={3: HOSTILE[1]}
        )
    )
    html = render(run)
    # Exactly two script elements: the data block and the page's own script.
    assert len(re.findall(r"<script", html, re.I)) == 2
    assert len(re.findall(r"</script", html, re.I)) == 2
    (raw,) = DATA_BLOCK.findall(html)
    assert "<" not in raw
    assert ">" not in raw
    links = re.findall(r"<a\s[^>]*>", html)
    assert links
    assert all(re.fullmatch(r'<a href="#[\w-]+">', a) for a in links), links
    data = json.loads(raw)
    ids = data["items"]["id"]
    for index, text in HOSTILE.items():
        shown = data["items"]["cand"][ids.index(f"item-{index:05d}")]
        # Kept as text (only the 200 KB line is shortened, and says so).
        assert shown == text if index != 2 else shown == "x" * MAX_TEXT_CHARS
    long = ids.index("item-00002")
    assert data["items"]["cand_cut"][long] == [MAX_TEXT_CHARS * 3 // 4, 200_000 - MAX_TEXT_CHARS]
    assert "日本語" in raw  # non-ASCII stays as it is, not \u-escaped


SECRETS = (
    "sk-proj-REPORTSECRET0123456789abcdef",
    "AIzaSyREPORTSECRET-0123456789abcdefghijk",
    "hunter2-url-password",
    "bearer-token-0123456789",
    "raw-header-key-0123456789",
)


def test_secrets_are_redacted_wherever_they_come_from(tmp_path: Path) -> None:
    sk, google, password, bearer, header = SECRETS
    run_dir = write_run(
        tmp_path / "run",
        n_items=25,
        texts={0: f"my key is {sk}", 1: f"try ?key={google}"},
        raw={2: f"Authorization: Bearer {bearer}"},
        errors={4: f"HTTP 401 from proxy; headers {{'x-api-key': '{header}'}}"},
        config={"api_key": "plain-config-secret-1234", "candidate_api_base":
                f"https://bob:{password}@proxy.example/v1"},
        run_errors={"other": f"suite failed: api_key={sk}"},
    )  # fmt: skip
    run = json.loads((run_dir / RUN_FILE).read_text())
    run["suites"][0]["gates"][0]["message"] += f" (Bearer {bearer})"
    run["suites"][0]["lineage"][0]["message"] += f" {google}"
    (run_dir / RUN_FILE).write_text(json.dumps(run))
    html = render(load_run(run_dir))
    for secret in (*SECRETS, "plain-config-secret-1234"):
        assert secret not in html
    assert "[redacted]" in html
    assert "proxy.example" in html  # the rest of the text stays readable


def test_a_bare_judgments_table_is_audited_and_rendered(run: RunData, tmp_path: Path) -> None:
    shutil.copy(run.run_dir / JUDGMENTS_FILE, tmp_path / JUDGMENTS_FILE)
    bare = load_run(tmp_path)
    assert bare.run.status == "re-audited"
    html = render(bare)
    assert "NO GATES" in html
    assert "no gates: this suite was audited, not gated" in html
    assert '<span class="badge untrusted">untrusted</span>' in html
    assert item_blob(html)["items"]["cand"][0] is None  # no answers file: nothing to show


def test_a_pointwise_table_gets_a_score_distribution(tmp_path: Path) -> None:
    rows = read_judgments(write_run(tmp_path / "pairwise", n_items=30))
    rows = rows.loc[rows["order"] == "AB"].assign(
        mode="pointwise", order=None, verdict=None, baseline=None, baseline_family=None,
        score=(rows["item_id"].str[-1].astype(int) % 5 + 1).astype(float),
    )  # fmt: skip
    folder = tmp_path / "pointwise"
    folder.mkdir()
    rows.to_json(folder / JUDGMENTS_FILE, orient="records", lines=True)
    html = render(load_run(folder))
    assert 'data-chart="scores"' in html
    assert 'data-chart="verdicts"' not in html
    assert "score 5" in html


def test_render_is_pure(run: RunData) -> None:
    before = {p.name: p.read_bytes() for p in run.run_dir.iterdir()}
    first, second = render(run), render(run)
    assert first == second
    assert {p.name: p.read_bytes() for p in run.run_dir.iterdir()} == before


def test_a_tight_budget_cuts_every_long_text_to_one_length(run: RunData) -> None:
    panel = panel_frame(run.run)
    combined = combine_orders(run.judgments)
    full = item_data(run.judgments, run.answers, combined, panel)
    assert full.n_cut == 0
    assert full.text_cap is None
    tight = item_data(run.judgments, run.answers, combined, panel, budget=20_000)
    cap = tight.text_cap
    assert cap is not None
    assert 0 < cap < 200
    texts = full.data["calls"]["raw"]
    for original, shown, cut in zip(
        texts, tight.data["calls"]["raw"], tight.data["calls"]["raw_cut"], strict=True
    ):
        if cut:
            where, removed = cut
            assert len(shown) == cap
            assert removed == len(original) - cap
            assert shown == original[:where] + original[len(original) - (cap - where) :]
            assert shown.endswith(original[-3:])  # the verdict at the end survives
        else:
            assert shown == original
            assert original is None or len(original) <= cap


def test_an_interrupted_run_says_so(tmp_path: Path) -> None:
    html = render(load_run(write_run(tmp_path / "run", n_items=25, status="interrupted")))
    assert "This run was interrupted" in html


def test_tags_from_the_answers_become_a_filter(html: str) -> None:
    assert '<select id="f-tag">' in html
    for tag in ("math", "history", "code", "safety"):
        assert f'<option value="{tag}">{tag}</option>' in html
    assert pd.Series(item_blob(html)["items"]["tags"]).map(len).eq(1).all()


def test_the_item_table_shows_the_panel_verdict_the_gates_used(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", n_items=25)
    run = json.loads((run_dir / RUN_FILE).read_text())
    suite = run["suites"][0]
    # The gates' panel (suite["panel"]) can differ from the audit's (another quorum).
    suite["panel"] = [dict(r, verdict=None, abstained=True) for r in suite["panel"]]
    (run_dir / RUN_FILE).write_text(json.dumps(run))
    items = item_blob(render(load_run(run_dir)))["items"]
    assert set(items["panel"]) == {"abstained"}
    del suite["panel"]
    (run_dir / RUN_FILE).write_text(json.dumps(run))
    items = item_blob(render(load_run(run_dir)))["items"]
    assert "abstained" not in items["panel"]  # the audit's panel, quorum 2 of 3: no abstention


def test_a_run_whose_only_suite_failed_still_renders(tmp_path: Path) -> None:
    (tmp_path / JUDGMENTS_FILE).touch()
    message = "suite 'demo': suites/data.jsonl: dataset file not found"
    run = {"run_id": "r", "status": "complete", "suites": [], "errors": {"demo": message}}
    (tmp_path / RUN_FILE).write_text(json.dumps(run))
    html = render(load_run(tmp_path))
    assert "ERROR: 1 suite(s) could not run" in html
    assert "dataset file not found" in html
    assert item_blob(html)["items"]["id"] == []
