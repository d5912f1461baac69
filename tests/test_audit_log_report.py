"""`evalkit report FILE`: the full HTML report of a judge log recorded elsewhere."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from evalkit.cli import main

DATA = Path(__file__).parent / "data"
PANDALM_MAP = [
    "--map", "item_id=idx", "--map", "order=swapped:false=AB,true=BA",
    "--map", "verdict=result:1=first,2=second,0=tie",
    "--map", "human_label=label:0=candidate,1=baseline,2=tie",
]  # fmt: skip
MTBENCH_MAP = [
    "--map", "item_id=question_id+turn", "--map", "candidate=model_a", "--map", "baseline=model_b",
    "--map", "verdict=winner:model_a=candidate,model_b=baseline,tie=tie",
]  # fmt: skip


def text_of(page: str) -> str:
    """The page's visible text, in one line."""
    page = re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_report_of_a_log_shows_its_judges_agreement_and_items(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "pandalm_swapped.json"
    shutil.copy(DATA / log.name, log)
    assert main(["report", str(log), *PANDALM_MAP]) == 0
    page = (tmp_path / "pandalm_swapped.json.report.html").read_text()
    text = text_of(page)
    assert "status re-audited" in text
    assert "Items (24)" in text
    # The judge's dashboard row: flip rate 4/24 and first-position rate 24/40, as the audit has them.
    assert "pandalm-7b" in text
    assert "0.17 [" in text and "0.60 [" in text  # noqa: PT018
    assert "Agreement with human labels" in text
    assert f"report: {tmp_path / 'pandalm_swapped.json.report.html'}" in capsys.readouterr().out


def test_report_of_a_one_order_log_decides_its_items(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "mt.jsonl"
    shutil.copy(DATA / "mtbench_human_judgments.jsonl", log)
    out = tmp_path / "r.html"
    assert main(["report", str(log), *MTBENCH_MAP, "-o", str(out)]) == 0
    text = text_of(out.read_text())
    assert "Items (12)" in text
    # Each verdict counts as it is (--flip two): no item is abstained for want of a second order.
    assert "below quorum" not in text
    assert "(--flip two) (one order per item)" in capsys.readouterr().out


def test_report_of_a_log_with_a_bad_mapping_is_one_message(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "mt.jsonl"
    shutil.copy(DATA / "mtbench_human_judgments.jsonl", log)
    assert main(["report", str(log), "--map", "verdict=winner:model_a=candidate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalkit: error: ")
    assert "column 'winner' holds" in err
    assert not (tmp_path / "mt.jsonl.report.html").exists()


@pytest.mark.parametrize("flip", ["tie", "two"])
def test_the_report_follows_the_flip_convention(tmp_path: Path, flip: str) -> None:
    log = tmp_path / "pandalm_swapped.json"
    shutil.copy(DATA / log.name, log)
    out = tmp_path / f"{flip}.html"
    assert main(["report", str(log), *PANDALM_MAP, "--flip", flip, "-o", str(out)]) == 0
    assert "Items (24)" in text_of(out.read_text())
