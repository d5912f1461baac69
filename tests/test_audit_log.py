"""`evalkit audit FILE` on judge logs shaped like published ones, each figure hand-computed.

The logs in tests/data/ are small copies of the shapes papers publish:

- mtbench_human_judgments.jsonl — MT-Bench human judgments: question_id, model_a, model_b,
  winner (model_a / model_b / tie), judge, turn; one order per row, two judges per item;
- alpacaeval_annotations.json — AlpacaEval annotations: a JSON array, one order, preference
  1 (output_1, the reference generator) or 2 (output_2), a human preference, a subset column;
- pandalm_swapped.json — PandaLM / JudgeBench style: an object holding a list, both orders per
  item with a boolean swap flag, the judge's result naming the *position* it picked (1 first,
  2 second, 0 tie) and a human label 0 / 1 / 2 (2 meaning tie).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit.audit._input import load_log
from evalkit.audit._logfile import read_log
from evalkit.audit._mapping import load_map_file, parse_map
from evalkit.cli import main

DATA = Path(__file__).parent / "data"
MTBENCH = DATA / "mtbench_human_judgments.jsonl"
ALPACA = DATA / "alpacaeval_annotations.json"
PANDALM = DATA / "pandalm_swapped.json"

MTBENCH_MAP = [
    "--map", "item_id=question_id+turn", "--map", "candidate=model_a",
    "--map", "baseline=model_b", "--map", "verdict=winner:model_a=candidate,model_b=baseline,tie=tie",
]  # fmt: skip
ALPACA_MAP = [
    "--map", "item_id=instruction", "--map", "judge=annotator",
    "--map", "candidate=generator_2", "--map", "baseline=generator_1",
    "--map", "verdict=preference:1=baseline,2=candidate",
    "--map", "human_label=human_preference:1=baseline,2=candidate",
]  # fmt: skip
PANDALM_MAP = [
    "--map", "item_id=idx", "--map", "order=swapped:false=AB,true=BA",
    "--map", "verdict=result:1=first,2=second,0=tie",
    "--map", "human_label=label:0=candidate,1=baseline,2=tie",
]  # fmt: skip


def audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[dict[str, Any], str]:
    """Run `evalkit audit` with -o; return the JSON written and what was printed."""
    out = tmp_path / "audit.json"
    code = main(["audit", *argv, "--n-boot", "200", "-o", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.read_text()), printed


def judge_row(data: dict[str, Any], judge: str, frame: str = "human") -> dict[str, Any]:
    key = "rater" if frame == "human" else "judge"
    return next(r for r in data[frame] if r[key] == judge)


# --- reading logs as they are ------------------------------------------------------------------


def test_a_json_object_holding_a_list_is_read_as_its_rows() -> None:
    table = read_log(PANDALM)
    assert len(table) == 48
    assert {"idx", "swapped", "result", "label"} <= set(table.columns)


def test_a_json_array_is_read_and_nested_objects_become_dotted_columns(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    path.write_text(
        json.dumps([{"id": 1, "meta": {"judge": "g"}}, {"id": 2, "meta": {"judge": "h"}}])
    )
    table = read_log(path)
    assert list(table["meta.judge"]) == ["g", "h"]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".csv.gz", ".parquet.gz", ".json.gz", ".tsv"])
def test_gzip_and_other_formats_read_the_same_rows(tmp_path: Path, suffix: str) -> None:
    rows = pd.read_json(MTBENCH, lines=True)
    plain = tmp_path / f"log{suffix.removesuffix('.gz')}"
    if plain.suffix == ".jsonl":
        rows.to_json(plain, orient="records", lines=True)
    elif plain.suffix == ".json":
        rows.to_json(plain, orient="records")
    elif plain.suffix == ".csv":
        rows.to_csv(plain, index=False)
    elif plain.suffix == ".tsv":
        rows.to_csv(plain, index=False, sep="\t")
    else:
        rows.to_parquet(plain)
    path = plain
    if suffix.endswith(".gz"):
        path = tmp_path / f"log{suffix}"
        path.write_bytes(gzip.compress(plain.read_bytes()))
    got = read_log(path)
    assert got["winner"].tolist() == rows["winner"].tolist()
    assert got["question_id"].astype(int).tolist() == rows["question_id"].tolist()


def test_only_the_columns_the_audit_needs_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.read_json(MTBENCH, lines=True).assign(raw_output="long text " * 50).to_parquet(path)
    log = load_log(path, [parse_map(m) for m in MTBENCH_MAP[1::2]])
    assert "raw_output" not in log.table.columns or log.table["raw_output"].isna().all()
    assert len(log.table) == 24


# --- mapping ---------------------------------------------------------------------------------


def test_map_translates_values_sets_constants_and_joins_columns() -> None:
    maps = [
        parse_map("item_id=question_id+turn"),
        parse_map("verdict=winner:model_a=candidate,model_b=baseline,tie=tie"),
        parse_map("suite=@mt-bench"),
    ]
    table = load_log(MTBENCH, maps).table
    first = table.iloc[0]
    assert (first["item_id"], first["verdict"], first["suite"]) == ("81/1", "candidate", "mt-bench")
    assert set(table["verdict"]) == {"candidate", "baseline", "tie"}


def test_a_yaml_mapping_file_reads_like_the_flags(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "item_id: idx\n"
        "order: {column: swapped, values: {false: AB, true: BA}}\n"
        "verdict: {column: result, values: {1: first, 2: second, 0: tie}}\n"
        "judge: {value: pandalm}\n"
    )
    from_file = load_log(PANDALM, load_map_file(path)).table
    flags = load_log(
        PANDALM, [parse_map(m) for m in PANDALM_MAP[1:6:2]] + [parse_map("judge=@pandalm")]
    ).table
    assert from_file["verdict"].tolist() == flags["verdict"].tolist()
    assert set(from_file["judge"]) == {"pandalm"}


def test_positions_are_mapped_back_through_the_order() -> None:
    table = load_log(PANDALM, [parse_map(m) for m in PANDALM_MAP[1::2]]).table
    item0 = table.loc[table["item_id"] == "0"].set_index("order")
    # Item 0: the judge picked the candidate in both orders: 1 (first) in AB, 2 (second) in BA.
    assert item0.loc["AB", "verdict"] == item0.loc["BA", "verdict"] == "candidate"


def test_both_orders_on_one_row_become_two_rows(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("qid,judge,g1,g2\n1,gpt-4,model_a,model_b\n2,gpt-4,tie,tie\n")
    maps = [
        parse_map("item_id=qid"),
        parse_map("verdict_ab=g1:model_a=candidate,model_b=baseline,tie=tie"),
        parse_map("verdict_ba=g2:model_a=candidate,model_b=baseline,tie=tie"),
    ]
    table = load_log(path, maps).table.sort_values(["item_id", "order"])
    assert table[["item_id", "order", "verdict"]].values.tolist() == [
        ["1", "AB", "candidate"], ["1", "BA", "baseline"], ["2", "AB", "tie"], ["2", "BA", "tie"],
    ]  # fmt: skip


# --- figures, each against a hand computation ---------------------------------------------------


def test_mtbench_one_order_two_judges_win_rate_by_turn(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, printed = audit(tmp_path, capsys, str(MTBENCH), *MTBENCH_MAP, "--by", "turn")
    # One order per row: each verdict counts as it is (--flip two), and two judges per item
    # with quorum 2: they agree → that verdict, they disagree → a tie.
    # Turn 1: q81 C, q82 tie, q83 B, q84 tie, q85 C, q86 tie → 2 won, 3 tied, 1 lost.
    # Turn 2: q81 C, q82 C, q83 tie, q84 tie, q85 B, q86 C → 3 won, 2 tied, 1 lost.
    wr = data["win_rate"]
    assert (wr["wins"], wr["ties"], wr["losses"], wr["abstained"]) == (5, 5, 2, 0)
    assert wr["rate"] == pytest.approx(7.5 / 12)
    groups = data["by"]["groups"]
    assert groups["1"]["win_rate"]["rate"] == pytest.approx(3.5 / 6)
    assert groups["2"]["win_rate"]["rate"] == pytest.approx(4 / 6)
    # The two judges agree on 8 of the 12 items.
    pair = data["agreement"][0]
    assert (pair["n_units"], pair["raw_agreement"]) == (12, pytest.approx(8 / 12))
    assert "--flip two) (one order per item)" in printed
    assert "turn = 2 (12 rows):" in printed
    # No position figure is made up from a log with one order.
    assert all(p["first_position_rate"] is None for p in data["position"])
    reasons = " ".join(r["reasons"] for r in data["reliability"])
    assert "position bias is not measurable, every call was made in the same order" in reasons


def test_alpacaeval_one_order_accuracy_and_win_rate_with_standard_error(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    data, printed = audit(tmp_path, capsys, str(ALPACA), *ALPACA_MAP, "--by", "dataset")
    # preference 2 (the model) on 6 of 10 items: win rate 0.6; outcomes six 1s and four 0s:
    # sample sd sqrt(10 * 0.24 / 9), standard error that / sqrt(10).
    wr = data["win_rate"]
    assert (wr["wins"], wr["losses"], wr["ties"]) == (6, 4, 0)
    assert wr["rate"] == pytest.approx(0.6)
    assert wr["standard_error"] == pytest.approx((10 * 0.24 / 9) ** 0.5 / 10**0.5)
    # The annotator matches the human preference on 8 of 10 items.
    human = judge_row(data, "weighted_alpaca_eval_gpt4_turbo")
    assert (human["n_items"], human["accuracy"]) == (10, pytest.approx(0.8))
    assert (
        "humans (pairwise, 10 labelled items): weighted_alpaca_eval_gpt4_turbo accuracy 80.0% ["
        in printed
    )
    assert "SE 0.163" in printed
    # helpful_base: preferences 2, 2, 1, 2 → 3 of 4; koala: 2, 1, 1 → 1 of 3; oasst: 2, 2, 1.
    rates = {k: g["win_rate"]["rate"] for k, g in data["by"]["groups"].items()}
    assert rates == pytest.approx({"helpful_base": 0.75, "koala": 1 / 3, "oasst": 2 / 3})


def test_pandalm_both_orders_flip_rate_position_and_two_accuracies(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, printed = audit(tmp_path, capsys, str(PANDALM), *PANDALM_MAP)
    # Items 0-9 candidate, 10-15 baseline, 16-19 tie in both orders; 20-23 the answer shown
    # first in both orders (a flip): consistency 20/24.
    pos = judge_row(data, "pandalm-7b", "position")
    assert pos["flip_rate"] == pytest.approx(4 / 24)
    # Decisive single-order verdicts: AB 14 first of 20, BA 10 first of 20 → 24/40.
    assert (pos["n_decisive"], pos["n_first"]) == (40, 24)
    # Flips count as ties: 10 won, 8 tied, 6 lost; sd of the outcomes / sqrt(24) = 1/12.
    wr = data["win_rate"]
    assert (wr["wins"], wr["ties"], wr["losses"]) == (10, 8, 6)
    assert wr["rate"] == pytest.approx(14 / 24)
    assert wr["standard_error"] == pytest.approx(1 / 12)
    # Labels: items 8, 9 are ties (judge: candidate), 20-23 split candidate/baseline.
    # Combined verdicts match on 18 of 24; per order: 8 + 6 + 4 + 4 halves = 20 of 24.
    human = judge_row(data, "pandalm-7b")
    assert human["accuracy"] == pytest.approx(18 / 24)
    assert human["accuracy_orders"] == pytest.approx(20 / 24)
    assert "accuracy 75.0% [" in printed
    assert "averaged over orders 83.3% [" in printed
    assert not data["warnings"]


def test_the_flip_convention_changes_only_what_flips_count_as(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rates = {}
    for flip in ("tie", "abstain", "two"):
        data, printed = audit(tmp_path, capsys, str(PANDALM), *PANDALM_MAP, "--flip", flip)
        wr = data["win_rate"]
        rates[flip] = (wr["wins"], wr["ties"], wr["losses"], wr["abstained"])
        assert f"(--flip {flip})" in printed
    # abstain: the 4 flipped items have no vote and, one judge, no quorum.
    # two: a flipped item splits the judge's vote half candidate, half baseline → a tie.
    assert rates == {"tie": (10, 8, 6, 0), "abstain": (10, 4, 6, 4), "two": (10, 8, 6, 0)}


def test_unmapped_swapped_verdicts_are_detected_with_the_fix(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    wrong = [*PANDALM_MAP]
    wrong[5] = "verdict=result:1=candidate,2=baseline,0=tie"  # positions read as answers
    data, printed = audit(tmp_path, capsys, str(PANDALM), *wrong)
    (warning,) = data["warnings"]
    # Unmapped, BA verdicts agree with AB only on the 4 ties and the 4 first-picks: 8 of 24.
    assert "disagree on 66.7% of 24 items" in warning
    assert "would make it 83.3% consistent" in warning
    assert "--map verdict=COLUMN:1=first,2=second,0=tie" in warning
    assert printed.count("warning: judge pandalm-7b") == 1


def test_a_position_biased_judge_is_not_mistaken_for_unmapped_verdicts(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Always picks the answer shown first: flips on every item, but each order alone is one label.
    rows = [
        {"item_id": i, "judge": "j", "order": o, "verdict": "candidate" if o == "AB" else "baseline"}
        for i in range(30) for o in ("AB", "BA")
    ]  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data, _ = audit(tmp_path, capsys, str(path))
    assert data["warnings"] == []
    assert judge_row(data, "j", "position")["first_position_rate"] == 1.0


def test_randomised_single_orders_measure_position_bias(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # One order per item, AB on even items and BA on odd ones; the judge picks the answer shown
    # first on 24 of 30 items (and the second on the other 6).
    rows = []
    for i in range(30):
        order = "AB" if i % 2 == 0 else "BA"
        first = "candidate" if order == "AB" else "baseline"
        second = "baseline" if order == "AB" else "candidate"
        rows.append(
            {"item_id": i, "judge": "j", "order": order, "verdict": first if i < 24 else second}
        )
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data, _ = audit(tmp_path, capsys, str(path))
    pos = judge_row(data, "j", "position")
    assert (pos["n_decisive"], pos["n_first"]) == (30, 24)
    assert pos["first_position_rate"] == pytest.approx(0.8)
    assert pos["basis"] == "one randomised order per item"
    reasons = judge_row(data, "j", "reliability")["reasons"]
    assert "first-position rate 0.800" in reasons
    assert "flip" not in reasons


def test_missing_verdicts_count_as_ties_when_asked(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"item_id": i, "judge": "j", "order": o, "verdict": "candidate"}
        for i in range(4) for o in ("AB", "BA")
    ]  # fmt: skip
    rows[1]["verdict"] = None  # item 0, BA: unparseable
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data, _ = audit(tmp_path, capsys, str(path))
    assert (data["win_rate"]["wins"], data["win_rate"]["abstained"]) == (3, 1)
    data, printed = audit(tmp_path, capsys, str(path), "--missing", "tie")
    # Item 0: candidate (AB) and, now, tie (BA): the orders disagree → a tie.
    wr = data["win_rate"]
    assert (wr["wins"], wr["ties"], wr["abstained"]) == (3, 1, 0)
    assert "a missing verdict counts as a tie (--missing tie)" in printed


def test_o_is_written_before_stdout_and_a_closed_pipe_prints_no_traceback(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    out = tmp_path / "audit.json"
    monkeypatch.setattr("sys.stdout", ClosedPipe())
    code = main(["audit", str(PANDALM), *PANDALM_MAP, "--n-boot", "50", "-o", str(out)])
    assert code == 0
    assert json.loads(out.read_text())["win_rate"]["wins"] == 10


def test_audit_into_a_closed_pipe_exits_cleanly(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "audit.json"
    cmd = [sys.executable, "-m", "evalkit.cli", "audit", str(PANDALM), *PANDALM_MAP,
           "--by", "item_id", "--n-boot", "20", "-o", str(out)]  # fmt: skip
    # The reader goes away before the audit prints its first line, as `| head` does after its
    # lines: every write to stdout then fails with EPIPE.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 0, err
    assert "Traceback" not in err, err
    assert "BrokenPipe" not in err, err
    assert json.loads(out.read_text())["by"]["column"] == "item_id"


def test_two_verdicts_split_a_flipping_judges_vote_in_the_one_panel_rule() -> None:
    from evalkit.audit._table import validate_judgments
    from evalkit.panel import PanelRule, item_verdicts

    # j1 says candidate in both orders; j2 flips (candidate in AB, baseline in BA).
    table = validate_judgments(
        pd.DataFrame(
            {
                "suite": "s", "item_id": "q", "judge": ["j1", "j1", "j2", "j2"],
                "order": ["AB", "BA", "AB", "BA"],
                "verdict": ["candidate", "candidate", "candidate", "baseline"],
            }
        )
    )  # fmt: skip
    got = {
        flip: item_verdicts(table, PanelRule(disagreement=flip))["pairwise"].iloc[0]
        for flip in ("tie", "abstain", "two")
    }
    # tie: j2's flip is a tie vote → candidate 1 vs tie 1 → no majority, a tie.
    assert (got["tie"]["verdict"], got["tie"]["votes_tie"]) == ("tie", 1.0)
    # abstain: j2 casts no vote → 1 valid judge of 2, below the quorum of 2.
    assert bool(got["abstain"]["abstained"])
    # two: j2's vote is split half and half → candidate 1.5 vs baseline 0.5.
    assert got["two"]["verdict"] == "candidate"
    assert (got["two"]["votes_candidate"], got["two"]["votes_baseline"]) == (1.5, 0.5)


@pytest.mark.parametrize("distinct", [3, 5000], ids=["repeated-rows", "distinct-rows"])
def test_bootstrap_sums_resample_n_units_whichever_way_they_are_drawn(distinct: int) -> None:
    import numpy as np

    from evalkit.audit._intervals import resampled_sums

    # Repeated rows are drawn as counts over the distinct rows, distinct rows by index: both
    # must give n units per replicate, the observed sum on average, and the bootstrap spread.
    n = 5000
    rng = np.random.default_rng(3)
    values = rng.integers(0, distinct, n).astype(float)
    data = np.column_stack([np.ones(n), values])
    reps = resampled_sums(data, 2000, np.random.default_rng(4))
    np.testing.assert_array_equal(reps[:, 0], n)
    assert reps[:, 1].mean() == pytest.approx(values.sum(), rel=0.002)
    assert reps[:, 1].std() == pytest.approx(values.std() * n**0.5, rel=0.05)


def test_a_log_mixing_one_and_two_orders_says_what_the_single_ones_count_as(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Items 0-2 in both orders, item 3 in AB only.
    rows = [{"item_id": i, "judge": "j", "order": o, "verdict": "candidate"}
            for i in range(3) for o in ("AB", "BA")] + [
        {"item_id": 3, "judge": "j", "order": "AB", "verdict": "candidate"}]  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data, printed = audit(tmp_path, capsys, str(path))
    assert "1 of 4 judge-item pairs were judged in one order only" in printed
    assert (data["win_rate"]["wins"], data["win_rate"]["abstained"]) == (3, 1)
    data, _ = audit(tmp_path, capsys, str(path), "--flip", "two")
    assert (data["win_rate"]["wins"], data["win_rate"]["abstained"]) == (4, 0)


def test_lengths_in_words_let_a_one_order_log_be_audited_for_verbosity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lengths = ["--map", "len_candidate=#output_2", "--map", "len_baseline=#output_1"]
    data, _ = audit(tmp_path, capsys, str(ALPACA), *ALPACA_MAP, *lengths)
    row = judge_row(data, "weighted_alpaca_eval_gpt4_turbo", "verbosity")
    # output_2 ("Model answer i, a little longer.", 6 words) is always the longer answer
    # (output_1: "Reference answer i.", 3 words), and is preferred on 6 of 10 items.
    assert (row["n_unequal"], row["longer_rate"]) == (10, pytest.approx(0.6))
    table = load_log(ALPACA, [parse_map("len_candidate=#output_2"), parse_map("item_id=instruction"),
                              parse_map("judge=annotator"), parse_map("verdict=preference:1=baseline,2=candidate")]).table  # fmt: skip
    assert set(table["len_candidate"]) == {6}


def test_groups_are_counted_under_the_whole_logs_convention(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Group "both": items judged in both orders, one flipped; group "one": AB only.
    rows = [{"item_id": 0, "judge": "j", "order": "AB", "verdict": "candidate", "g": "both"},
            {"item_id": 0, "judge": "j", "order": "BA", "verdict": "baseline", "g": "both"},
            {"item_id": 1, "judge": "j", "order": "AB", "verdict": "candidate", "g": "one"}]  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data, _ = audit(tmp_path, capsys, str(path), "--by", "g")
    # The log has both orders somewhere: --flip tie for every group, so the AB-only item of
    # group "one" has no combined verdict there either (not "two" because the group alone
    # happens to have one order).
    assert data["by"]["groups"]["one"]["rule"]["disagreement"] == "tie"
    assert data["by"]["groups"]["one"]["win_rate"]["abstained"] == 1
    assert data["by"]["groups"]["both"]["win_rate"]["ties"] == 1
