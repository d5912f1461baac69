from pathlib import Path

import pytest

from evalkit.errors import SpecError
from evalkit.judging import JudgeRegistry, JudgeSpec, PanelSpec, parse_spec


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_packaged_panels_load_with_two_families() -> None:
    panel = JudgeRegistry(None).panel("local")
    assert [j.name for j in panel.judges] == ["smollm2", "gemma"]
    assert {j.family for j in panel.judges} == {"huggingface", "google"}
    api = JudgeRegistry(None).panel("api")
    assert {j.family for j in api.judges} == {"openai", "anthropic", "google"}


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "j.yaml", "kind: judge\nmodel: openai/gpt-4o\ntemplate: t.j2\ntemprature: 0\n")
    with pytest.raises(SpecError, match=r"j\.yaml: unknown key 'temprature'"):
        parse_spec(path)


def test_missing_key_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"missing required key 'model'"):
        parse_spec(write(tmp_path, "a.yaml", "kind: judge\ntemplate: t.j2\n"))
    with pytest.raises(SpecError, match=r"b\.yaml: not valid YAML"):
        parse_spec(write(tmp_path, "b.yaml", "kind: judge\n  model: [\n"))
    with pytest.raises(SpecError, match="quorum 3 is larger than the panel"):
        parse_spec(write(tmp_path, "c.yaml", "kind: panel\njudges: [a, b]\nquorum: 3\n"))


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    spec = parse_spec(write(tmp_path, "mine.yaml", "kind: panel\njudges: [smollm2]\n"))
    assert isinstance(spec, PanelSpec)
    assert spec.name == "mine"


def test_template_with_undefined_variable_is_reported_before_any_call(tmp_path: Path) -> None:
    judges = tmp_path / "judges"
    write(judges, "bad.j2", "Q: {{ question }} A: {{ answer_a }} B: {{ answer_b }} R: {{ rubric }}")
    write(judges, "strict.yaml", "kind: judge\nmodel: openai/gpt-4o\ntemplate: bad.j2\n")
    with pytest.raises(SpecError, match=r"strict\.yaml: .*undefined variable \('rubric' is undefined\)"):
        JudgeRegistry(judges).judge("strict")


def test_project_file_overrides_packaged_one(tmp_path: Path) -> None:
    judges = tmp_path / "judges"
    write(judges, "smollm2.yaml", "kind: judge\nmodel: openai/gpt-4o-mini\ntemplate: pairwise_chat.j2\n")
    judge = JudgeRegistry(judges).judge("smollm2")
    assert isinstance(judge.spec, JudgeSpec)
    assert judge.spec.model == "openai/gpt-4o-mini"
    assert judge.family == "openai"


def test_unknown_panel_lists_what_exists() -> None:
    with pytest.raises(SpecError, match=r"no judge or panel named 'nope'; available: .*local"):
        JudgeRegistry(None).panel("nope")
