"""Judge and panel specs: packaged panels, validation, and one clear error per mistake.

Every mistake must be reported before any call, naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import SpecError
from evalkit.judging import JudgeRegistry, JudgeSpec, PanelSpec
from evalkit.judging._spec import parse_spec
from evalkit.judging._templates import PACKAGED_DIR
from evalkit.panel._aggregate import AggregatorKinds

KINDS = AggregatorKinds()
CHAT = "kind: judge\nmodel: openai/gpt-4o\ntemplate: pairwise_chat.j2\n"
RUBRIC = (
    "kind: judge\nmodel: openai/gpt-4o\nmode: pointwise\ntemplate: rubric_chat.j2\n"
    "parser: rating\nscale: {min: 1, max: 10}\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def judges(tmp_path: Path) -> Path:
    return tmp_path / "judges"


# --- packaged specs ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["pairwise", "pointwise", "reference"])
def test_packaged_panels_switch_every_mode_with_one_name(mode: str) -> None:
    registry = JudgeRegistry(None)
    local = registry.panel("local", mode=mode, aggregations=KINDS)  # type: ignore[arg-type]
    api = registry.panel("api", mode=mode, aggregations=KINDS)  # type: ignore[arg-type]
    assert local.mode == api.mode == mode
    assert [j.family for j in local.judges] == ["huggingface", "google"]
    assert [j.family for j in api.judges] == ["openai", "anthropic", "google"]
    assert [j.spec.model for j in api.judges] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4-5-20251001",
        "gemini/gemini-2.5-flash",
    ]
    assert api.spec.quorum == 2
    assert local.spec.aggregation == ("majority" if mode == "pairwise" else "mean")


def test_every_packaged_spec_is_valid() -> None:
    registry = JudgeRegistry(None)
    names = registry.names()
    assert len(names) >= 20
    for name in names:
        spec = registry.spec(name)
        if isinstance(spec, JudgeSpec):
            registry.judge(name)
        else:
            registry.panel(name, aggregations=KINDS)


def test_variants_inherit_the_base_judge() -> None:
    rubric = JudgeRegistry(None).judge("gpt-4o-mini-rubric")
    assert rubric.spec.model == "openai/gpt-4o-mini"
    assert rubric.spec.params == {"temperature": 0.0, "max_tokens": 512}
    assert rubric.spec.system is not None
    assert (rubric.mode, rubric.spec.parser, rubric.spec.repair_template) == (
        "pointwise",
        "rating",
        "repair.j2",
    )
    small = JudgeRegistry(None).judge("smollm2-rubric")
    assert small.spec.params == {"temperature": 0.0, "max_tokens": 6}  # params merge key by key


# --- one clear error per mistake ------------------------------------------------------------


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "j.yaml", CHAT + "temprature: 0\n")
    with pytest.raises(SpecError, match=r"j\.yaml: unknown key 'temprature'"):
        parse_spec(path)
    path = write(tmp_path, "k.yaml", RUBRIC.replace("max: 10", "max: 10, mx: 3"))
    with pytest.raises(SpecError, match=r"k\.yaml: unknown key 'scale\.mx'"):
        parse_spec(path)
    path = write(tmp_path, "p.yaml", "kind: panel\njudges: [a]\nquroum: 1\n")
    with pytest.raises(SpecError, match=r"p\.yaml: unknown key 'quroum'"):
        parse_spec(path)


def test_missing_key_bad_yaml_and_oversized_quorum(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"a\.yaml: missing required key 'model'"):
        parse_spec(write(tmp_path, "a.yaml", "kind: judge\ntemplate: t.j2\n"))
    with pytest.raises(SpecError, match=r"b\.yaml: not valid YAML"):
        parse_spec(write(tmp_path, "b.yaml", "kind: judge\n  model: [\n"))
    with pytest.raises(
        SpecError, match=r"c\.yaml: quorum: 3 is larger than the panel \(2 judges\)"
    ):
        parse_spec(write(tmp_path, "c.yaml", "kind: panel\njudges: [a, b]\nquorum: 3\n"))
    with pytest.raises(SpecError, match=r"d\.yaml: judges: the panel lists a judge twice"):
        parse_spec(write(tmp_path, "d.yaml", "kind: panel\njudges: [a, a]\n"))
    with pytest.raises(SpecError, match=r"e\.yaml: expected a mapping"):
        parse_spec(write(tmp_path, "e.yaml", "- a\n- b\n"))


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    spec = parse_spec(write(tmp_path, "mine.yaml", "kind: panel\njudges: [smollm2]\n"))
    assert isinstance(spec, PanelSpec)
    assert spec.name == "mine"


def test_template_with_undefined_variable_names_spec_template_and_variables(judges: Path) -> None:
    write(judges, "bad.j2", "Q: {{ question }} A: {{ answer_a }} B: {{ answer_b }} R: {{ rubric }}")
    write(judges, "strict.yaml", "kind: judge\nmodel: openai/gpt-4o\ntemplate: bad.j2\n")
    with pytest.raises(
        SpecError,
        match=r"strict\.yaml: template: template 'bad\.j2' uses an undefined variable "
        r"\('rubric' is undefined\).*gets: question, answer_a, answer_b",
    ):
        JudgeRegistry(judges).judge("strict")


def test_template_that_never_shows_an_answer_is_an_error(judges: Path) -> None:
    write(
        judges,
        "blind.j2",
        "Which is better? {{ answer_a }} {% if false %}{{ answer_b }}{% endif %}",
    )
    write(judges, "blind.yaml", "kind: judge\nmodel: openai/gpt-4o\ntemplate: blind.j2\n")
    with pytest.raises(SpecError, match=r"blind\.yaml: template: .*never shows 'answer_b'"):
        JudgeRegistry(judges).judge("blind")
    write(judges, "noref.yaml", RUBRIC.replace("pointwise", "reference"))
    with pytest.raises(SpecError, match=r"noref\.yaml: .*never shows 'reference'"):
        JudgeRegistry(judges).judge("noref")


def test_missing_template_and_broken_template(judges: Path) -> None:
    write(judges, "gone.yaml", "kind: judge\nmodel: openai/gpt-4o\ntemplate: nowhere.j2\n")
    with pytest.raises(SpecError, match=r"gone\.yaml: template: template 'nowhere\.j2' not found"):
        JudgeRegistry(judges).judge("gone")
    write(judges, "syntax.j2", "{{ answer_a }} {{ answer_b }} {% if %}")
    write(judges, "syntax.yaml", "kind: judge\nmodel: openai/gpt-4o\ntemplate: syntax.j2\n")
    with pytest.raises(SpecError, match=r"syntax\.yaml: template: .*syntax\.j2:1"):
        JudgeRegistry(judges).judge("syntax")


def test_unknown_parser_names_file_and_key(judges: Path) -> None:
    write(judges, "p.yaml", CHAT + "parser: abc\n")
    with pytest.raises(SpecError, match=r"p\.yaml: parser: unknown parser 'abc'; known parsers"):
        JudgeRegistry(judges).judge("p")


def test_the_pointwise_mode_has_one_name(judges: Path) -> None:
    # Packaged templates and panels say "rubric" (rubric_chat.j2, api-rubric); the mode does not.
    write(judges, "r.yaml", RUBRIC.replace("mode: pointwise", "mode: rubric"))
    with pytest.raises(SpecError, match=r"r\.yaml: mode: 'rubric' is not a mode; write 'mode: pointwise'"):
        JudgeRegistry(judges).judge("r")
    write(judges, "r.yaml", RUBRIC)
    assert JudgeRegistry(judges).judge("r").spec.mode == "pointwise"


def test_panel_naming_a_missing_judge_names_the_panel_file(judges: Path) -> None:
    write(judges, "mine.yaml", "kind: panel\njudges: [smollm2, ghost]\n")
    with pytest.raises(SpecError, match=r"mine\.yaml: judges: no judge named 'ghost'; available"):
        JudgeRegistry(judges).panel("mine")
    write(judges, "nested.yaml", "kind: panel\njudges: [local]\n")
    with pytest.raises(SpecError, match=r"nested\.yaml: judges: 'local' is a panel"):
        JudgeRegistry(judges).panel("nested")


def test_aggregation_must_be_registered_and_fit_the_mode(judges: Path) -> None:
    write(judges, "avg.yaml", "kind: panel\njudges: [smollm2]\naggregation: avg\n")
    with pytest.raises(SpecError, match=r"avg\.yaml: aggregation: unknown method 'avg'; "):
        JudgeRegistry(judges).panel("avg", aggregations=KINDS)
    write(judges, "mean.yaml", "kind: panel\njudges: [smollm2]\naggregation: mean\n")
    with pytest.raises(
        SpecError, match=r"mean\.yaml: aggregation: 'mean' combines scores, .*majority, weighted"
    ):
        JudgeRegistry(judges).panel("mean", aggregations=KINDS)
    write(judges, "vote.yaml", "kind: panel\njudges: [smollm2-rubric]\naggregation: majority\n")
    with pytest.raises(SpecError, match=r"vote\.yaml: aggregation: .*use one of: mean, median"):
        JudgeRegistry(judges).panel("vote", aggregations=KINDS)


def test_a_panel_judges_in_one_mode(judges: Path) -> None:
    write(judges, "mixed.yaml", "kind: panel\njudges: [smollm2, gemma-rubric]\n")
    with pytest.raises(SpecError, match=r"mixed\.yaml: judges: a panel judges in one mode"):
        JudgeRegistry(judges).panel("mixed")


def test_variants_are_checked(judges: Path) -> None:
    write(judges, "v.yaml", "kind: panel\njudges: [smollm2]\nvariants: {pointwise: nope}\n")
    with pytest.raises(SpecError, match=r"v\.yaml: variants\.pointwise: no panel named 'nope'"):
        JudgeRegistry(judges).panel("v")
    write(judges, "w.yaml", "kind: panel\njudges: [smollm2]\nvariants: {pointwise: local}\n")
    with pytest.raises(
        SpecError, match=r"w\.yaml: variants\.pointwise: panel 'local' judges pairwise"
    ):
        JudgeRegistry(judges).panel("w", mode="pointwise")
    write(judges, "x.yaml", "kind: panel\njudges: [smollm2]\n")
    with pytest.raises(SpecError, match=r"x\.yaml: panel 'x' judges pairwise, but the suite is "):
        JudgeRegistry(judges).panel("x", mode="reference")
    with pytest.raises(SpecError, match=r"variants: unknown key|variants\.bogus"):
        parse_spec(write(judges, "y.yaml", "kind: panel\njudges: [a]\nvariants: {bogus: x}\n"))


def test_a_single_judge_is_a_panel_of_one() -> None:
    panel = JudgeRegistry(None).panel("gemma-rubric", mode="pointwise", aggregations=KINDS)
    assert [j.name for j in panel.judges] == ["gemma-rubric"]
    assert (panel.spec.aggregation, panel.spec.quorum) == ("mean", 1)


def test_scale_rules(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"a\.yaml: scale: a pointwise judge needs a scale"):
        parse_spec(write(tmp_path, "a.yaml", RUBRIC.replace("scale: {min: 1, max: 10}\n", "")))
    with pytest.raises(SpecError, match=r"b\.yaml: scale: a pairwise judge has no scale"):
        parse_spec(write(tmp_path, "b.yaml", CHAT + "scale: {min: 1, max: 5}\n"))
    with pytest.raises(SpecError, match=r"c\.yaml: scale: min 5 must be below max 1"):
        parse_spec(write(tmp_path, "c.yaml", RUBRIC.replace("min: 1, max: 10", "min: 5, max: 1")))
    likert = parse_spec(
        write(
            tmp_path,
            "d.yaml",
            RUBRIC.replace("{min: 1, max: 10}", "{labels: {1: wrong, 3: right}}"),
        )
    )
    assert isinstance(likert, JudgeSpec)
    assert likert.scale is not None
    assert (likert.scale.low, likert.scale.high) == (1, 3)
    assert [o["score"] for o in likert.scale.options("descending")] == [3, 1]


def test_repair_needs_a_chat_judge_and_a_template(judges: Path, tmp_path: Path) -> None:
    text = "kind: judge\nmodel: openai/x\ntemplate: pairwise_completion.j2\n"
    with pytest.raises(SpecError, match=r"r\.yaml: repair: only chat-style judges"):
        parse_spec(write(tmp_path, "r.yaml", text + "prompt_style: completion\nrepair: true\n"))
    write(judges, "fix.yaml", CHAT + "repair: fix_me.j2\n")
    with pytest.raises(SpecError, match=r"fix\.yaml: template: template 'fix_me\.j2' not found"):
        JudgeRegistry(judges).judge("fix")


def test_option_orders_need_a_template_that_lists_the_options(judges: Path) -> None:
    likert = RUBRIC.replace("{min: 1, max: 10}", "{labels: {1: wrong, 2: right}}")
    write(judges, "both.yaml", likert + "option_orders: [ascending, descending]\n")
    assert JudgeRegistry(judges).judge("both").spec.option_orders == ["ascending", "descending"]
    write(judges, "flat.yaml", RUBRIC + "option_orders: [ascending, descending]\n")
    with pytest.raises(SpecError, match=r"flat\.yaml: .*same prompt for every option order"):
        JudgeRegistry(judges).judge("flat")
    with pytest.raises(SpecError, match=r"option_orders: only pointwise and reference judges"):
        parse_spec(write(judges, "pw.yaml", CHAT + "option_orders: [descending]\n"))


def test_repeats_get_their_own_seed() -> None:
    spec = JudgeSpec(name="j", model="m", template="t", samples=3, params={"temperature": 1.0})
    assert [spec.sample_params(s)["seed"] for s in range(3)] == [0, 1, 2]
    seeded = spec.model_copy(update={"params": {"seed": 40}})
    assert seeded.sample_params(2) == {"seed": 42}
    single = JudgeSpec(name="j", model="m", template="t", params={"temperature": 0.0})
    assert single.sample_params(0) == {"temperature": 0.0}  # some providers reject a seed


# --- extends and overrides ------------------------------------------------------------------


def test_extends_merges_params_and_the_child_wins(judges: Path) -> None:
    write(
        judges,
        "base.yaml",
        CHAT + "params: {temperature: 0.0, max_tokens: 100}\nsystem: Be fair.\n",
    )
    write(judges, "child.yaml", "kind: judge\nextends: base\nparams: {max_tokens: 300}\n")
    write(judges, "grandchild.yaml", "kind: judge\nextends: child\nmodel: openai/gpt-4o-mini\n")
    spec = JudgeRegistry(judges).judge("grandchild").spec
    assert (spec.name, spec.model, spec.system) == ("grandchild", "openai/gpt-4o-mini", "Be fair.")
    assert spec.params == {"temperature": 0.0, "max_tokens": 300}


def test_extends_errors_name_the_file(judges: Path) -> None:
    write(judges, "orphan.yaml", "kind: judge\nextends: nobody\n")
    with pytest.raises(SpecError, match=r"orphan\.yaml: extends: no judge named 'nobody'"):
        JudgeRegistry(judges).judge("orphan")
    write(judges, "a.yaml", "kind: judge\nextends: b\n")
    write(judges, "b.yaml", "kind: judge\nextends: a\n")
    with pytest.raises(SpecError, match=r"extends: the specs extend each other"):
        JudgeRegistry(judges).judge("a")
    write(judges, "pan.yaml", "kind: panel\nextends: local\njudges: [smollm2]\n")
    with pytest.raises(SpecError, match=r"pan\.yaml: extends: only a judge can extend a judge"):
        JudgeRegistry(judges).spec("pan")


def test_project_file_overrides_packaged_one_and_may_extend_it(judges: Path) -> None:
    write(
        judges,
        "smollm2.yaml",
        "kind: judge\nmodel: openai/gpt-4o-mini\ntemplate: pairwise_chat.j2\n",
    )
    judge = JudgeRegistry(judges).judge("smollm2")
    assert judge.spec.model == "openai/gpt-4o-mini"
    assert judge.family == "openai"
    write(judges, "gemma.yaml", "kind: judge\nextends: gemma\nparams: {max_tokens: 5}\n")
    gemma = JudgeRegistry(judges).judge("gemma")
    assert gemma.spec.model == "local/gemma-3-270m"
    assert gemma.spec.params == {"temperature": 0.0, "max_tokens": 5, "stop": ["\n"]}
    assert gemma.path == judges / "gemma.yaml"


def test_unknown_panel_lists_what_exists() -> None:
    with pytest.raises(SpecError, match=r"no judge or panel named 'nope'; available: .*local"):
        JudgeRegistry(None).panel("nope")


def test_packaged_folder_ships_a_template_per_mode() -> None:
    shipped = {p.name for p in PACKAGED_DIR.glob("*.j2")}
    for mode in ("pairwise", "rubric", "reference"):
        assert {f"{mode}_chat.j2", f"{mode}_completion.j2"} <= shipped
    assert "repair.j2" in shipped


def test_the_project_examples_are_valid() -> None:
    project = Path(__file__).parents[1] / "judges"
    registry = JudgeRegistry(project)
    panel = registry.panel("helpfulness", mode="pointwise", aggregations=KINDS)
    assert [j.family for j in panel.judges] == ["openai", "anthropic"]
    likert = panel.judges[0].spec
    assert likert.option_orders == ["ascending", "descending"]
    assert likert.scale is not None
    assert likert.scale.labels is not None
    assert sorted(likert.scale.labels) == [1, 2, 3, 4, 5]
    assert panel.judges[1].spec.params["drop_params"] is True
    # The examples add judges; they override none of the packaged ones.
    assert not {p.stem for p in project.glob("*.yaml")} & {
        p.stem for p in PACKAGED_DIR.glob("*.yaml")
    }


def test_scale_size_is_bounded_at_101_options(tmp_path: Path) -> None:
    widest = parse_spec(write(tmp_path, "a.yaml", RUBRIC.replace("min: 1, max: 10", "min: 0, max: 100")))
    assert isinstance(widest, JudgeSpec)
    assert widest.scale is not None
    assert len(widest.scale.options("ascending")) == 101
    with pytest.raises(SpecError, match=r"b\.yaml: scale: 0-101 lists 102 scores; a scale may have at most 101"):
        parse_spec(write(tmp_path, "b.yaml", RUBRIC.replace("min: 1, max: 10", "min: 0, max: 101")))
    labels = "{" + ", ".join(f"{i}: s{i}" for i in range(102)) + "}"
    with pytest.raises(SpecError, match=r"c\.yaml: scale: labels: 102 labelled scores; a scale may have at most 101"):
        parse_spec(write(tmp_path, "c.yaml", RUBRIC.replace("{min: 1, max: 10}", f"{{labels: {labels}}}")))
    with pytest.raises(SpecError, match=r"d\.yaml: scale: min and max must be finite numbers"):
        parse_spec(write(tmp_path, "d.yaml", RUBRIC.replace("max: 10", "max: .inf")))


@pytest.mark.parametrize(("params", "message"), [
    ("{seed: 2024-01-01}", r"params\.seed: 2024-01-01 is read as a date"),
    ("{stop: [a, 2024-01-01 10:00:00]}", r"params\.stop\[1\]: 2024-01-01 10:00:00 is read as a datetime"),
    ("{extra_body: {1: x}}", r"params\.extra_body key: 1 is read as an int"),
    ("{temperature: .nan}", r"params\.temperature: nan is read as a float"),
])
def test_params_must_be_json(tmp_path: Path, params: str, message: str) -> None:
    with pytest.raises(SpecError, match=rf"a\.yaml: {message}, which cannot be sent to a model"):
        parse_spec(write(tmp_path, "a.yaml", CHAT + f"params: {params}\n"))
    # the same values quoted are text, and fine
    assert parse_spec(write(tmp_path, "b.yaml", CHAT + "params: {seed: '2024-01-01', n: 1.5}\n"))


@pytest.mark.parametrize(("text", "message"), [
    ("judges: [a]\n", r"missing required key 'kind'; add 'kind: panel'"),
    ("model: openai/gpt-4o\ntemplate: pairwise_chat.j2\n", r"missing required key 'kind'; add 'kind: judge'"),
    ("kind: jduge\nmodel: openai/gpt-4o\n", r"kind: 'jduge' is neither judge nor panel; write 'kind: judge'"),
])
def test_kind_is_asked_for_plainly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=rf"a\.yaml: {message}"):
        parse_spec(write(tmp_path, "a.yaml", text))
