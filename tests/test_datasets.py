import json
from pathlib import Path

import pytest

from evalkit.errors import DatasetError
from evalkit.records._dataset import load_dataset


def jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_reads_ids_tags_and_labels(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "d.jsonl", [
        {"id": "a", "question": "Q1", "tags": ["x", "y"], "human_label": "candidate"},
        {"question": "Q2", "generator_family": "openai"},
    ])
    items = load_dataset(path)
    assert [i.id for i in items] == ["a", "row-2"]
    assert items[0].tags == ("x", "y")
    assert items[0].human_label == "candidate"
    assert items[1].generator_family == "openai"


def test_csv_rows_are_numbered_as_an_editor_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,question\na,Q1\nb,\n")
    with pytest.raises(DatasetError, match=r"d\.csv:3: field 'question' must be non-empty text"):
        load_dataset(path)


@pytest.mark.parametrize(("content", "message"), [
    ("", r"the dataset is empty"),
    ('{"id": "a"}\n', r":1: missing field 'question'"),
    ('{"id": "a", "question": "q"}\n{"id": "a", "question": "r"}\n', r":2: duplicate id 'a' \(first used on row 1\)"),
    ('{"question": "q"\n', r":1: not valid JSON"),
    ('["q"]\n', r":1: expected a JSON object"),
    ('{"question": "q", "human_label": "A"}\n', r"'human_label' is 'A'; use one of candidate, baseline, tie"),
    ('{"question": "' + "x" * 100_001 + '"}\n', r"field 'question' is 100,001 characters"),
])
def test_bad_rows_name_file_row_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)


def test_wrong_encoding_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"question": "café"}\n'.encode("latin-1"))
    with pytest.raises(DatasetError, match="not UTF-8 text"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_dataset(tmp_path / "missing.jsonl")


def test_required_fields_come_from_the_prompt_template(tmp_path: Path) -> None:
    # Regression: every suite required a 'question' field, whatever its prompt read.
    from evalkit import Suite
    from evalkit.errors import DatasetError

    path = jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "Bonjour", "lang": "fr"}])
    suite = Suite("s", dataset=path, prompt="Translate from {{ lang }}: {{ text }}")
    assert [i.fields["text"] for i in suite.items()] == ["Bonjour"]
    other = Suite("s", dataset=path, prompt="{{ text }} / {{ tone }}")
    with pytest.raises(DatasetError, match="missing field 'tone'"):
        other.items()
    explicit = Suite("s", dataset=path, prompt="{{ text }}", required_fields=["text", "lang"])
    assert explicit.fields_needed() == ("text", "lang")


def test_raw_line_separators_inside_strings_are_text_not_line_breaks(tmp_path: Path) -> None:
    # JSON allows U+2028, U+2029, U+0085 and form feed unescaped inside a string; only "\n"
    # ends a JSONL record.
    texts = ["a\u2028b", "c\u0085d", "e\u2029f\x0cg"]
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps({"question": t}, ensure_ascii=False) + "\r\n" for t in texts),
        encoding="utf-8",
    )
    items = load_dataset(path)
    assert [i.fields["question"] for i in items] == texts
    assert [i.id for i in items] == ["row-1", "row-2", "row-3"]


@pytest.mark.parametrize(("field", "message"), [
    ({"docs": ["ok", "x" * 100_001]}, r"d\.jsonl:1: field 'context\.docs\[1\]' is 100,001 characters"),
    (["x" * 100_001], r"d\.jsonl:1: field 'context\[0\]' is 100,001 characters"),
    ({"a": {"b": "bad \ud800"}}, r"d\.jsonl:1: field 'context\.a\.b' holds '\\ud800' at character 4"),
])
def test_nested_strings_are_held_to_the_field_rules(tmp_path: Path, field: object, message: str) -> None:
    path = jsonl(tmp_path / "d.jsonl", [{"question": "q", "context": field}])
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)
