"""Bad input to the `evalkit` command, catalogued: one line `evalkit: error: ...`, exit 2.

Each case writes one broken file (or passes one bad flag) beside otherwise valid input, runs the
command in-process, and checks the exit code, that stderr is the one message naming the file,
line, column or flag, that no traceback escaped, and that nothing on disk was changed or
written (the `-o` target included). The command never calls a model, so there is no provider
to guard here; what it must not do is write a half-made output or print an audit of nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from _project import digest

from evalkit.cli import main


def judgment_rows(**change: object) -> list[dict[str, object]]:
    """A small valid pairwise table: two judges, three items, both orders."""
    rows: list[dict[str, object]] = [
        {"run_id": "r1", "suite": "s", "item_id": f"q{i}", "mode": "pairwise", "judge": judge,
         "judge_family": family, "order": order, "sample": 0, "verdict": "candidate",
         "parse_ok": True, "input_tokens": 10, "output_tokens": 2}
        for i in range(3) for judge, family in (("j1", "openai"), ("j2", "google"))
        for order in ("AB", "BA")
    ]  # fmt: skip
    rows[0].update(change)
    return rows


def jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def put(name: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return apply


def run_folder(
    run_json: str, judgments: str | bytes = jsonl(judgment_rows())
) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        put("run/judgments.jsonl", judgments)(root)
        put("run/run.json", run_json)(root)

    return apply


def later_run_json_a_list(root: Path) -> None:
    """Two runs to compare; the later one's run.json is a list."""
    run_folder('{"run_id": "r1", "status": "complete"}')(root)
    put("later/judgments.jsonl", jsonl(judgment_rows()))(root)
    put("later/run.json", "[]")(root)


GOOD = put("t.jsonl", jsonl(judgment_rows()))

# (id, files to write under tmp_path, argv with {tmp} for tmp_path, parts of the one message)
CASES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    (
        "audit-jsonl-not-utf8",
        put("t.jsonl", b'{"judge": "caf\xe9"}\n'),
        ["audit", "{tmp}/t.jsonl"],
        "t.jsonl: not UTF-8 text (byte 14)",
    ),
    (
        "audit-jsonl-scalar-line",
        put("t.jsonl", "42\n"),
        ["audit", "{tmp}/t.jsonl"],
        "t.jsonl:1: a JSON int where each line must hold one object",
    ),
    (
        "audit-jsonl-array-line",
        put("t.jsonl", jsonl(judgment_rows()) + "[1, 2]\n"),
        ["audit", "{tmp}/t.jsonl"],
        "t.jsonl:13: a JSON list where each line must hold one object",
    ),
    (
        "audit-sample-not-numeric",
        put("t.jsonl", jsonl(judgment_rows(sample="first"))),
        ["audit", "{tmp}/t.jsonl"],
        "t.jsonl: column 'sample' must hold whole numbers; row 0 holds 'first'",
    ),
    (
        "audit-tokens-not-numeric",
        put("t.jsonl", jsonl(judgment_rows(input_tokens="many"))),
        ["audit", "{tmp}/t.jsonl"],
        "t.jsonl: column 'input_tokens' must hold whole numbers; row 0 holds 'many'",
    ),
    (
        "audit-csv-malformed",
        put("t.csv", "suite,item_id\ns,q1\ns,q2,extra,fields\n"),
        ["audit", "{tmp}/t.csv"],
        "t.csv: not a readable CSV file (Error tokenizing data",
    ),
    (
        "audit-csv-empty",
        put("t.csv", ""),
        ["audit", "{tmp}/t.csv"],
        "t.csv: the file is empty; there are no judgments to audit",
    ),
    (
        "audit-jsonl-empty",
        put("t.jsonl", "\n"),
        ["audit", "{tmp}/t.jsonl"],
        "t.jsonl: the file is empty; there are no judgments to audit",
    ),
    (
        "audit-parquet-corrupt",
        put("t.parquet", b"PAR1 this is not parquet PAR1"),
        ["audit", "{tmp}/t.parquet"],
        "t.parquet: not a readable Parquet file",
    ),
    (
        "audit-confidence-too-big",
        GOOD,
        ["audit", "{tmp}/t.jsonl", "--confidence", "5"],
        "--confidence: 5.0 is not a confidence level; give one between 0.5 and 1.0",
    ),
    (
        "audit-confidence-nan",
        GOOD,
        ["audit", "{tmp}/t.jsonl", "--confidence", "nan"],
        "--confidence: nan is not a confidence level",
    ),
    (
        "audit-output-is-a-folder",
        GOOD,
        ["audit", "{tmp}/t.jsonl", "-o", "{tmp}"],
        "-o {tmp}: is a folder; name a file in it instead",
    ),
    (
        "audit-output-below-a-file",
        GOOD,
        ["audit", "{tmp}/t.jsonl", "-o", "{tmp}/t.jsonl/audit.json"],
        "-o {tmp}/t.jsonl/audit.json: cannot be written, because {tmp}/t.jsonl is a file",
    ),
    (
        "report-run-json-truncated",
        run_folder('{"run_id": "r1", "sta'),
        ["report", "{tmp}/run"],
        "run/run.json: not valid JSON (Unterminated string|delete run.json",
    ),
    (
        "report-run-json-a-list",
        run_folder("[1, 2]"),
        ["report", "{tmp}/run"],
        "run/run.json: holds a JSON list, not the object evalkit writes",
    ),
    (
        "report-judgments-bad-column",
        run_folder("{}", jsonl(judgment_rows(sample="x"))),
        ["report", "{tmp}/run"],
        "run/judgments.jsonl: column 'sample' must hold whole numbers; row 0 holds 'x'",
    ),
    (
        "report-judgments-not-utf8",
        run_folder("{}", b'{"judge": "caf\xe9"}\n'),
        ["report", "{tmp}/run"],
        "run/judgments.jsonl: not UTF-8 text",
    ),
    (
        "report-judgments-foreign-columns",
        run_folder("{}", jsonl([{"question_id": "q1", "grader": "g", "choice": "A"}])),
        ["report", "{tmp}/run"],
        "run/judgments.jsonl: the judgments table has no column 'suite'",
    ),
    (
        "compare-run-json-a-list",
        later_run_json_a_list,
        ["compare", "{tmp}/run", "{tmp}/later"],
        "later/run.json: holds a JSON list",
    ),
    (
        "report-output-is-a-folder",
        run_folder("{}"),
        ["report", "{tmp}/run", "-o", "{tmp}/run"],
        "-o {tmp}/run: is a folder; name a file in it instead",
    ),
]


@pytest.mark.parametrize(("name", "setup", "argv", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
    setup: Callable[[Path], None], argv: list[str], message: str,
) -> None:  # fmt: skip
    setup(tmp_path)
    before = digest(tmp_path)
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert err.startswith("evalkit: error: "), err
    assert err.count("\n") == 1, err  # one message, not a traceback or a list of them
    for part in message.replace("{tmp}", str(tmp_path)).split("|"):
        assert part in err, err
    assert out == "", "no audit or report may be printed for bad input"
    assert digest(tmp_path) == before, "nothing may be written or changed"
