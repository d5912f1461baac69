"""run.json is a typed, versioned record: written once, read back through the same models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evalkit.cli import main
from evalkit.errors import UsageError
from evalkit.records import RunRecord, SuiteRecord, read_run
from evalkit.records._run import SCHEMA_VERSION, CallCounts, GateRecord, ModelRef, SuiteModels
from evalkit.records._store import write_run
from evalkit.records.schema import schema_text
from evalkit.report import load_run
from evalkit.session import summary_lines
from evalkit.session._finalize import ClosedRun

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "docs" / "run-record.schema.json"


def _record() -> RunRecord:
    model = ModelRef(name="openai/gpt-4o-mini", family="openai")
    gate = GateRecord(
        name="win_rate", outcome="pass", figure=0.7, low=0.6, high=0.8, n=40, threshold=0.5,
        message="win rate 70 % [60 %, 80 %] clears 50 %",
    )  # fmt: skip
    suite = SuiteRecord(
        name="qa",
        models=SuiteModels(candidate=model, baseline=model, panel="p"),
        calls=CallCounts(judge=4, unparseable=1, failed=1, not_run=1),
        gates=[gate],
    )
    return RunRecord(run_id="r1", status="complete", started=1.0, finished=2.0, suites=[suite])


def _folder(tmp_path: Path, run: dict[str, Any]) -> Path:
    (tmp_path / "judgments.jsonl").write_text("")
    (tmp_path / "run.json").write_text(json.dumps(run))
    return tmp_path


def test_the_committed_schema_is_the_models_schema() -> None:
    # Regenerate with: python -m evalkit.records.schema > docs/run-record.schema.json
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_the_schema_module_prints_the_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "evalkit.records.schema"], capture_output=True, text=True, check=True
    ).stdout
    schema = json.loads(out)
    assert schema["title"] == "RunRecord"
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_a_record_is_written_and_read_back_unchanged(tmp_path: Path) -> None:
    record = _record()
    write_run(tmp_path, record)
    assert json.loads((tmp_path / "run.json").read_text())["schema_version"] == SCHEMA_VERSION
    assert read_run(tmp_path) == record


def test_the_terminal_summary_reads_the_record(tmp_path: Path) -> None:
    lines = summary_lines(ClosedRun(_record(), tmp_path / "report.html"))
    assert any(
        line.startswith("  4 judge calls: 1 unparseable, 1 failed (1 not run), 0 from cache; ")
        for line in lines
    )
    assert "  gate win_rate      PASS         win rate 70 % [60 %, 80 %] clears 50 %" in lines
    assert lines[-2:] == ["cost: $0.0000 (answers $0.0000, judges $0.0000, audit $0); 1.0 s",
                          f"report: {tmp_path / 'report.html'}"]  # fmt: skip


def test_a_run_json_from_before_versioning_still_loads(tmp_path: Path) -> None:
    data = _record().model_dump(mode="json")
    del data["schema_version"]
    del data["suites"][0]["calls"]["not_run"]  # counted since the status column
    assert read_run(_folder(tmp_path, data)) == _record().model_copy(
        update={"suites": [_record().suites[0].model_copy(update={"calls": CallCounts(
            judge=4, unparseable=1, failed=1)})]}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(schema_version=99), "schema_version 99 is not one this evalkit reads"),
        (lambda d: d["suites"][0]["calls"].update(judge="many"), "field suites[0].calls.judge is"),
        (lambda d: d.update(colour="blue"), "field colour is not a field of run.json"),
        (lambda d: d.pop("run_id"), "field run_id is missing"),
        (
            lambda d: d["suites"][0]["gates"][0].update(outcome="maybe"),
            "suites[0].gates[0].outcome",
        ),
    ],
    ids=["unknown-version", "wrong-type", "unknown-field", "missing-field", "bad-outcome"],
)
def test_a_bad_run_json_is_one_message_naming_the_file_and_the_field(
    tmp_path: Path, change: Any, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _record().model_dump(mode="json")
    change(data)
    folder = _folder(tmp_path, data)
    with pytest.raises(UsageError) as info:
        load_run(folder)
    message = str(info.value)
    assert message.startswith(f"{folder / 'run.json'}: ")
    assert expected in message
    assert "\n" not in message
    assert "pydantic" not in message
    # The command says it in one line, exits 2, and leaves the folder as it was.
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert expected in err
    assert not (folder / "report.html").exists()


def test_a_run_json_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "judgments.jsonl").write_text("")
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(UsageError, match=r"run\.json: not valid JSON"):
        load_run(tmp_path)


def test_a_scored_suite_prints_its_judges_verdicts_not_an_empty_position_table(
    tmp_path: Path,
) -> None:
    # Regression: the arithmetic demo printed the pairwise judge table's header with no rows.
    from evalkit.records._run import AuditSummary

    audit = AuditSummary(
        confidence=0.95, seed=0, n_boot=10, thresholds={},
        verdicts={"smollm2": "untrusted", "gemma": "questionable"},
    )  # fmt: skip
    suite = _record().suites[0].model_copy(update={"audit": audit, "position": []})
    record = _record().model_copy(update={"suites": [suite]})
    lines = summary_lines(ClosedRun(record, tmp_path / "report.html"))
    assert not any("first-position rate" in line for line in lines)
    assert "  judges: gemma questionable, smollm2 untrusted" in lines
