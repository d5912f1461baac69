"""Bad judge logs and bad mappings for `evalkit audit`: one line `evalkit: error: ...`, exit 2.

Each case writes one file (or passes one flag), runs the command with `-o`, and checks the one
message naming the file, column, value or flag and what to do, that nothing was printed, and
that nothing on disk was written or changed (the `-o` target included).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from _project import digest

from evalkit.cli import main

DATA = Path(__file__).parent / "data"
MT = ["--map", "item_id=question_id+turn",
      "--map", "verdict=winner:model_a=candidate,model_b=baseline,tie=tie"]  # fmt: skip


def copy(name: str, as_name: str | None = None) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        shutil.copy(DATA / name, root / (as_name or name))

    return apply


def put(name: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return apply


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for setup in setups:
            setup(root)

    return apply


MTB = "mtbench_human_judgments.jsonl"
MT_FILE = "{tmp}/" + MTB
# (id, files to write under tmp_path, argv with {tmp}, parts of the one message, |-separated)
CASES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    ("columns-missing-named-together", copy(MTB), ["audit", MT_FILE],
     f"{MTB}: the log has no column 'item_id' (the identity of the item that was judged); no column 'verdict' or 'score'|--map item_id=question_id|Its columns are: question_id, model_a, model_b, winner, judge, turn"),
    ("json-array-in-jsonl", copy("alpacaeval_annotations.json", "a.jsonl"), ["audit", "{tmp}/a.jsonl"],
     "a.jsonl: holds a JSON array, not one JSON object per line; rename it to a.json"),
    ("jsonl-in-json", put("a.json", '{"a": 1}\n{"a": 2}\n'), ["audit", "{tmp}/a.json"],
     "a.json: holds one JSON object per line, not one JSON document; rename it to a.jsonl"),
    ("json-object-without-rows", put("a.json", '{"model": "x", "n": 3}'), ["audit", "{tmp}/a.json"],
     "a.json: holds a JSON dict with no list of rows in it"),
    ("json-object-with-two-lists", put("a.json", '{"a": [{"x": 1}], "b": [{"x": 2}]}'), ["audit", "{tmp}/a.json"],
     "a.json: holds several lists of rows ('a', 'b'); save the one to audit as a JSON array"),
    ("json-array-of-scalars", put("a.json", "[1, 2]"), ["audit", "{tmp}/a.json"],
     "a.json: element 0 of the array is a JSON int; every element must be an object"),
    ("gzip-corrupt", put("a.jsonl.gz", b"not gzip"), ["audit", "{tmp}/a.jsonl.gz"],
     "a.jsonl.gz: not a readable gzip file"),
    ("unknown-file-type", put("a.xlsx", b"PK"), ["audit", "{tmp}/a.xlsx"],
     "a.xlsx: unsupported file type '.xlsx'; use .jsonl, .ndjson, .json, .csv, .tsv, .parquet"),
    ("map-not-a-pair", copy(MTB), ["audit", MT_FILE, "--map", "item_id"],
     "--map 'item_id': write it as OURS=THEIRS"),
    ("map-translation-not-a-pair", copy(MTB), ["audit", MT_FILE, "--map", "verdict=winner:model_a"],
     "--map 'verdict=winner:model_a': the translation 'model_a' is not FROM=TO"),
    ("map-value-not-listed", copy(MTB), ["audit", MT_FILE, "--map", "item_id=question_id+turn", "--map", "verdict=winner:model_a=candidate,model_b=baseline"],
     "--map verdict=winner:model_a=candidate,model_b=baseline: column 'winner' holds 'tie' (rows 12, 13), which the translation does not list"),
    ("map-source-absent", copy(MTB), ["audit", MT_FILE, "--map", "verdict=choice", "--map", "item_id=qid+turn"],
     "the log has no column 'choice', 'qid'; its columns are: question_id"),
    ("map-unknown-target", copy(MTB), ["audit", MT_FILE, "--map", "verdikt=winner"],
     "--map 'verdikt': not an evalkit column; map to one of:"),
    ("map-target-twice", copy(MTB), ["audit", MT_FILE, "--map", "judge=@a", "--map", "judge=@b"],
     "--map: 'judge' mapped more than once; keep one"),
    ("positions-without-order", copy(MTB), ["audit", MT_FILE, "--map", "item_id=question_id+turn", "--map", "verdict=winner:model_a=first,model_b=second,tie=tie"],
     "verdicts first/second name a position, so evalkit needs each row's order|--map order=swapped:false=AB,true=BA"),
    ("item-spans-columns", copy(MTB), ["audit", MT_FILE, "--map", "item_id=question_id", "--map", MT[3]],
     "rows 0, 2 record the same judge call|--map item_id=COLUMN1+COLUMN2"),
    ("map-file-missing", copy(MTB), ["audit", MT_FILE, "--map-file", "{tmp}/nope.yaml"],
     "--map-file {tmp}/nope.yaml: no such file"),
    ("map-file-unknown-key", both(copy(MTB), put("m.yaml", "verdict: {column: winner, valuez: {a: b}}\n")), ["audit", MT_FILE, "--map-file", "{tmp}/m.yaml"],
     "--map-file {tmp}/m.yaml: entry verdict.valuez: Extra inputs are not permitted"),
    ("map-file-column-and-value", both(copy(MTB), put("m.yaml", "judge: {column: judge, value: x}\n")), ["audit", MT_FILE, "--map-file", "{tmp}/m.yaml"],
     "--map-file {tmp}/m.yaml: entry judge: Value error, give either column: (with optional values:) or value:, not both"),
    ("map-file-not-a-mapping", both(copy(MTB), put("m.yaml", "- a\n- b\n")), ["audit", MT_FILE, "--map-file", "{tmp}/m.yaml"],
     "--map-file {tmp}/m.yaml: must map evalkit columns to yours"),
    ("by-column-absent", copy(MTB), ["audit", MT_FILE, *MT, "--by", "subset"],
     "--by 'subset': the log has no such column (nor a --map that makes it); its columns are: question_id"),
    ("n-boot-zero", copy(MTB), ["audit", MT_FILE, *MT, "--n-boot", "0"], "--n-boot 0: give a number of resamples, at least 1"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "setup", "argv", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_log_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
    setup: Callable[[Path], None], argv: list[str], message: str,
) -> None:  # fmt: skip
    setup(tmp_path)
    before = digest(tmp_path)
    argv = [*argv, "-o", "{tmp}/audit.json"]
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert err.startswith("evalkit: error: "), err
    assert err.count("\n") == 1, err  # one message, not a traceback or a list of them
    for part in message.replace("{tmp}", str(tmp_path)).split("|"):
        assert part in err, err
    assert out == "", "no audit may be printed for bad input"
    assert digest(tmp_path) == before, "nothing may be written or changed"


def test_a_fixed_mapping_reads_what_the_bad_one_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(DATA / MTB, tmp_path / MTB)
    out = tmp_path / "audit.json"
    assert main(["audit", str(tmp_path / MTB), *MT, "--n-boot", "20", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["win_rate"]["n"] == 12
