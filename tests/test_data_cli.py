"""`evalkit data compare|diversity`: reads one column of JSONL/CSV/Parquet; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_sim import clean, noisy

from evalkit.cli import main


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    eval_path = tmp_path / "eval.jsonl"
    eval_path.write_text(
        "".join(json.dumps({"id": i, "question": t}) + "\n" for i, t in enumerate(clean(rng, 60)))
    )
    prod_path = tmp_path / "prod.csv"
    pd.DataFrame({"user": range(80), "message": noisy(rng, clean(rng, 80))}).to_csv(
        prod_path, index=False
    )
    return eval_path, prod_path


def test_compare_prints_a_summary_and_writes_json(
    files: tuple[Path, Path], tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    eval_path, prod_path = files
    out = tmp_path / "cmp.json"
    code = main(
        [
            "data",
            "compare",
            str(eval_path),
            str(prod_path),
            "--prod-field",
            "message",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "60 texts from field 'question'" in printed
    assert "80 texts from field 'message'" in printed
    assert "classifier AUC" in printed
    data = json.loads(out.read_text())
    assert data["n_eval"] == 60
    assert data["n_prod"] == 80
    assert data["classifier"]["auc"]["low"] > 0.5
    assert {s["name"] for s in data["shifts"] if s["flagged"]} >= {"lower_share", "has_misspelling"}


def test_parquet_and_sampling_read_one_column_with_a_stated_seed(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    path = tmp_path / "prod.parquet"
    pd.DataFrame({"text": noisy(rng, clean(rng, 300)), "blob": ["x" * 50] * 300}).to_parquet(path)
    eval_path = tmp_path / "eval.csv"
    pd.DataFrame({"question": clean(rng, 40)}).to_csv(eval_path, index=False)
    assert (
        main(["data", "compare", str(eval_path), str(path), "--sample", "100", "--seed", "3"]) == 0
    )
    assert "100 texts from field 'text'; a seeded sample of 300" in capsys.readouterr().out


def test_diversity_of_a_file_and_against_an_earlier_version(
    files: tuple[Path, Path], tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    eval_path, _ = files
    assert main(["data", "diversity", str(eval_path)]) == 0
    assert "distinct_2:" in capsys.readouterr().out
    collapsed = tmp_path / "v2.jsonl"
    rows = eval_path.read_text().splitlines()[:15] * 4
    collapsed.write_text("\n".join(rows) + "\n")
    out = tmp_path / "div.json"
    assert (
        main(["data", "diversity", str(collapsed), "--before", str(eval_path), "-o", str(out)]) == 0
    )
    data = json.loads(out.read_text())
    assert data["change"]["near_duplicate_share"]["value"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prod-field", "msg"], "prod.csv: no field 'msg'; its columns are user, message"),
        (["--field", "nope"], "eval.jsonl: field 'nope' is empty or missing in every row"),
        (["--sample", "0"], "--sample 0: give a number of rows of at least 1"),
        (["--confidence", "95"], "--confidence"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_field(
    files: tuple[Path, Path], args: list[str], message: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    eval_path, prod_path = files
    code = main(["data", "compare", str(eval_path), str(prod_path), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("evalkit: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_a_numeric_field_and_a_missing_file_are_named(
    tmp_path: Path, files: tuple[Path, Path], capsys
) -> None:  # type: ignore[no-untyped-def]
    _, prod_path = files
    assert main(["data", "diversity", str(prod_path), "--field", "user"]) == 2
    assert "prod.csv: field 'user' holds no text" in capsys.readouterr().err
    numbers = tmp_path / "n.jsonl"
    numbers.write_text('{"question": 1}\n{"question": 2}\n')
    assert main(["data", "diversity", str(numbers)]) == 2
    assert "n.jsonl: field 'question' holds no text" in capsys.readouterr().err
    assert main(["data", "diversity", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err


def test_a_file_without_a_known_text_field_says_to_pass_field(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    pd.DataFrame({"body": ["a b", "c d"]}).to_csv(path, index=False)
    assert main(["data", "diversity", str(path)]) == 2
    assert "pass --field with one of its columns: body" in capsys.readouterr().err


def test_a_broken_jsonl_line_is_named(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "e.jsonl"
    path.write_text('{"question": "where is my order"}\n{"question": "oops\n')
    assert main(["data", "diversity", str(path)]) == 2
    assert "e.jsonl:2: not valid JSON" in capsys.readouterr().err


def test_compare_names_the_tags_the_eval_set_never_asks(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    prod = clean(rng, 200)
    tags = ["cancel" if "cancel" in t else "refund" if "refund" in t else "other" for t in prod]
    pd.DataFrame({"message": prod, "tag": tags}).to_csv(tmp_path / "prod.csv", index=False)
    evals = [t for t in clean(rng, 100) if "cancel" not in t]
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps({"question": t}) + "\n" for t in evals))
    out = tmp_path / "cmp.json"
    code = main(["data", "compare", str(tmp_path / "eval.jsonl"), str(tmp_path / "prod.csv"),
                 "--prod-field", "message", "-o", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    share = tags.count("cancel") / 200
    assert f"kinds of request (3 tags): 1 not covered by the eval set, {share:.0%}" in printed
    assert "tag 'cancel'" in printed
    (missing,) = [c for c in json.loads(out.read_text())["coverage"]["clusters"] if c["uncovered"]]
    assert (missing["tag"], missing["eval_count"]) == ("cancel", 0)
