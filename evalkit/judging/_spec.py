"""Judge and panel specs: the YAML files in ``judges/``, validated.

A judge spec says which model judges, in which mode (pairwise, pointwise rubric score, or
reference-guided score), how it is prompted (a jinja2 template, chat or completion style), how
it samples, how its answer is parsed and, for scores, on which scale. A panel spec says which
judges sit on the panel, how their verdicts combine, the quorum and the family policy. Both
are pydantic models with ``extra="forbid"``, so a misspelt key is an error that names the file
and the key.

A judge spec may ``extends: <another judge>``: the other spec's keys are taken as defaults
(``params`` merged key by key), so a rubric variant of a judge restates only what differs::

    kind: judge
    extends: gpt-4o-mini
    mode: pointwise
    template: rubric_chat.j2
    parser: rating
    scale: {min: 1, max: 10}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml

from evalkit.config import check_api_base
from evalkit.errors import SpecError
from evalkit.models._types import PromptStyle
from evalkit.records._family import family_name
from evalkit.records._judgments import Mode

FamilyPolicy = Literal["warn", "exclude", "error"]
Disagreement = Literal["tie", "abstain"]
OptionOrder = Literal["ascending", "descending"]
#: Reliability verdicts of the audit, which the ``weighted`` aggregation turns into weights.
RELIABILITY_VERDICTS = ("trusted", "questionable", "untrusted")
#: The packaged repair prompt, used when a spec says ``repair: true``.
DEFAULT_REPAIR_TEMPLATE = "repair.j2"
#: Most options a scale may list: 0-100 is the widest scale a judge prompt can show usefully,
#: and every option is rendered into the prompt.
MAX_SCALE_OPTIONS = 101


class _Spec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class ScaleSpec(_Spec):
    """The scale of a pointwise or reference judge's score.

    Either a range (``{min: 1, max: 10}``: any number in it is a valid score) or a Likert /
    multiple-choice scale (``labels: {1: Wrong, 2: Partly right, 3: Right}``: only those scores,
    each with the meaning the judge is shown).
    """

    min: float | None = None
    max: float | None = None
    labels: dict[int, str] | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _range_from_labels(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("labels"), dict) and data["labels"]:
            keys = [k for k in data["labels"] if isinstance(k, int)]
            if keys:
                data = {"min": min(keys), "max": max(keys), **data}
        return data

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> ScaleSpec:
        if self.labels is not None:
            if len(self.labels) < 2:
                raise ValueError("labels: a Likert scale needs at least two labelled scores")
            if len(self.labels) > MAX_SCALE_OPTIONS:
                raise ValueError(
                    f"labels: {len(self.labels):,} labelled scores; a scale may have at most "
                    f"{MAX_SCALE_OPTIONS}"
                )
            if (self.min, self.max) != (min(self.labels), max(self.labels)):
                raise ValueError("min/max disagree with the labelled scores; drop min and max")
            return self
        if self.min is None or self.max is None:
            raise ValueError("give min and max (e.g. {min: 1, max: 10}) or labels")
        if not math.isfinite(self.min) or not math.isfinite(self.max):
            raise ValueError("min and max must be finite numbers")
        if self.min >= self.max:
            raise ValueError(f"min {self.min:g} must be below max {self.max:g}")
        count = math.floor(self.max) - math.ceil(self.min) + 1
        if count > MAX_SCALE_OPTIONS:
            raise ValueError(
                f"{self.min:g}-{self.max:g} lists {count:,} scores; a scale may have at most "
                f"{MAX_SCALE_OPTIONS} (e.g. {{min: 0, max: 100}}), since each is shown to the judge"
            )
        return self

    @property
    def low(self) -> float:
        """The lowest valid score."""
        assert self.min is not None  # set by the validator
        return self.min

    @property
    def high(self) -> float:
        """The highest valid score."""
        assert self.max is not None  # set by the validator
        return self.max

    def check(self, score: float) -> str | None:
        """Return why ``score`` is not on this scale, or None when it is."""
        if self.labels is not None:
            if score not in self.labels:
                allowed = ", ".join(str(k) for k in sorted(self.labels))
                return f"score {score:g} is not one of the scale's options ({allowed})"
            return None
        if not self.low <= score <= self.high:
            return f"score {score:g} is outside the scale {self.low:g}-{self.high:g}"
        return None

    def options(self, order: OptionOrder) -> list[dict[str, Any]]:
        """The scale's options as the template lists them: ``{score, label}`` in ``order``.

        A range scale lists its whole numbers with an empty label.
        """
        if self.labels is not None:
            items = [{"score": k, "label": v} for k, v in sorted(self.labels.items())]
        else:
            first, last = int(self.low), int(self.high)
            items = [{"score": k, "label": ""} for k in range(first, last + 1)]
        return items if order == "ascending" else items[::-1]


class JudgeSpec(_Spec):
    """One judge: a model plus the prompt, sampling and parser that make it a judge."""

    kind: Literal["judge"] = "judge"
    name: str
    #: another judge whose keys this one starts from (resolved when the file is read).
    extends: str | None = None
    #: litellm model string, or ``local/<name>`` for a bundled model.
    model: str
    #: overrides the family inferred from the model string.
    family: str | None = None
    mode: Mode = "pairwise"
    #: a template file name, looked up in the project's judges/ then in evalkit's own.
    template: str
    prompt_style: PromptStyle = "chat"
    #: system message for chat-style judges.
    system: str | None = None
    params: dict[str, Any] = pydantic.Field(default_factory=lambda: {"temperature": 0.0})
    parser: str = "ab"
    #: the score's scale; required for pointwise and reference judges.
    scale: ScaleSpec | None = None
    #: how the scale's options are listed; both listings measure option-order bias.
    option_orders: list[OptionOrder] = pydantic.Field(default=["ascending"], min_length=1)
    #: independent repeats of each call, recorded as separate rows (sample 0..k-1).
    samples: pydantic.PositiveInt = 1
    #: ask once more, with this repair prompt (true: the packaged one), when a reply cannot be
    #: parsed; chat-style judges only.
    repair: bool | str = False
    #: per-attempt timeout of this judge's calls (default: the run's ``timeout_s`` setting).
    timeout_s: pydantic.PositiveFloat | None = None
    api_base: str | None = None

    @pydantic.model_validator(mode="after")
    def _json_params(self) -> JudgeSpec:
        # An "after" model validator, so that the message names the nested key (params.seed).
        for path, value in _non_json(self.params, "params"):
            kind = type(value).__name__
            article = "an" if kind[0] in "aeiou" else "a"
            raise ValueError(
                f"{path}: {value!s} is read as {article} {kind}, which cannot be sent to a "
                "model; quote it to send text, or write a number, true/false or a list"
            )
        return self

    @pydantic.field_validator("mode", mode="before")
    @classmethod
    def _one_word_per_mode(cls, value: object) -> object:
        # The packaged files call the pointwise mode's templates and panels "rubric"
        # (rubric_chat.j2, api-rubric): name the mode word rather than list the choices.
        if value == "rubric":
            raise ValueError("'rubric' is not a mode; write 'mode: pointwise' (a score per answer)")
        return value

    @pydantic.field_validator("family")
    @classmethod
    def _canonical_family(cls, value: str | None) -> str | None:
        return family_name(value)

    @pydantic.field_validator("api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value:  # "" means no server of its own, as None does
            check_api_base(value)
        return value

    @pydantic.model_validator(mode="after")
    def _mode_fits(self) -> JudgeSpec:
        if self.mode == "pairwise":
            if self.scale is not None:
                raise ValueError("scale: a pairwise judge has no scale; set mode to pointwise")
            if self.option_orders != ["ascending"]:
                raise ValueError("option_orders: only pointwise and reference judges list options")
        elif self.scale is None:
            raise ValueError(f"scale: a {self.mode} judge needs a scale, e.g. {{min: 1, max: 10}}")
        if len(set(self.option_orders)) != len(self.option_orders):
            raise ValueError("option_orders: each listing may appear once")
        if self.repair and self.prompt_style != "chat":
            raise ValueError("repair: only chat-style judges can be asked to repair a reply")
        return self

    @property
    def repair_template(self) -> str | None:
        """The repair prompt's template name, or None when repair is off."""
        if self.repair is True:
            return DEFAULT_REPAIR_TEMPLATE
        return self.repair or None

    def sample_params(self, sample: int) -> dict[str, Any]:
        """Sampling parameters of repeat ``sample``.

        Repeats get ``seed = base + sample`` (base: the spec's seed, else 0), so that a
        provider that honours seeds draws them independently; a single sample is sent as
        written, since some providers reject a seed.
        """
        params = dict(self.params)
        if self.samples > 1:
            base = params.get("seed")
            params["seed"] = (base if isinstance(base, int) else 0) + sample
        return params


def _non_json(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Each value inside ``value`` that JSON cannot carry (a date, a set…), with its key path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                yield f"{path} key", key
            yield from _non_json(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _non_json(inner, f"{path}[{index}]")
    elif (isinstance(value, float) and not math.isfinite(value)) or (
        value is not None and not isinstance(value, str | int | float | bool)
    ):
        yield path, value


class PanelSpec(_Spec):
    """A panel: the judges, how their combined verdicts aggregate, and the quorum."""

    kind: Literal["panel"] = "panel"
    name: str
    judges: list[str] = pydantic.Field(min_length=1)
    #: a panel method registered in evalkit.panel (majority, weighted for verdicts; mean,
    #: median for scores).
    aggregation: str = "majority"
    #: fewest valid judge verdicts an item needs; below it the item is abstained.
    quorum: pydantic.PositiveInt = 1
    #: what a judge's two orders disagreeing counts as.
    disagreement: Disagreement = "tie"
    #: what to do when a judge shares a family with the candidate, the baseline or the model
    #: that generated the item.
    family_policy: FamilyPolicy = "warn"
    #: for the ``weighted`` aggregation: the weight of each reliability verdict.
    reliability_weights: dict[str, float] = pydantic.Field(
        default_factory=lambda: {"trusted": 1.0, "questionable": 0.5, "untrusted": 0.0}
    )
    #: the panel to use instead for suites of another mode (e.g. ``pointwise: api-rubric``), so
    #: that one setting switches every suite of a run.
    variants: dict[Mode, str] = pydantic.Field(default_factory=dict)

    @pydantic.model_validator(mode="after")
    def _quorum_fits(self) -> PanelSpec:
        if self.quorum > len(self.judges):
            raise ValueError(
                f"quorum: {self.quorum} is larger than the panel ({len(self.judges)} judges)"
            )
        if len(set(self.judges)) != len(self.judges):
            raise ValueError("judges: the panel lists a judge twice")
        unknown = sorted(set(self.reliability_weights) - set(RELIABILITY_VERDICTS))
        if unknown:
            raise ValueError(
                f"reliability_weights: unknown verdict(s) {', '.join(unknown)}; use "
                + ", ".join(RELIABILITY_VERDICTS)
            )
        if any(w < 0 for w in self.reliability_weights.values()):
            raise ValueError("reliability_weights: weights must not be negative")
        return self


Spec = Annotated[JudgeSpec | PanelSpec, pydantic.Field(discriminator="kind")]
_SPEC_ADAPTER: pydantic.TypeAdapter[JudgeSpec | PanelSpec] = pydantic.TypeAdapter(Spec)
#: ``(name, file asking)`` -> the file of the spec called ``name`` (for ``extends``), or None.
Finder = Callable[[str, Path], Path | None]


def read_mapping(path: Path) -> dict[str, Any]:
    """Read one spec file's YAML mapping.

    Raises:
        SpecError: the file cannot be read, is not valid YAML or is not a mapping.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({exc}); fix the file") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping of keys (kind, model, template, …)")
    return data


def _resolve_extends(
    path: Path, data: dict[str, Any], find: Finder, seen: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """``data`` merged onto the spec it extends (recursively); the child's keys win."""
    parent_name = data.get("extends")
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise SpecError(f"{path}: extends: give the name of another judge")
    parent_path = find(parent_name, path)
    if parent_path is None:
        raise SpecError(f"{path}: extends: no judge named {parent_name!r}")
    if parent_path in (*seen, path):
        chain = " -> ".join(p.name for p in (*seen, path, parent_path))
        raise SpecError(f"{path}: extends: the specs extend each other ({chain})")
    parent = _resolve_extends(parent_path, read_mapping(parent_path), find, (*seen, path))
    if parent.get("kind", "judge") != "judge" or data.get("kind", "judge") != "judge":
        raise SpecError(f"{path}: extends: only a judge can extend a judge")
    # The parent's name is its identity, not a default for the child.
    merged = {k: v for k, v in parent.items() if k != "name"}
    merged.update(data)
    if isinstance(parent.get("params"), dict) and isinstance(data.get("params"), dict):
        merged["params"] = {**parent["params"], **data["params"]}
    return merged


def _message(err: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"] if p not in ("judge", "panel"))
    if err["type"] == "extra_forbidden":
        return f"unknown key {loc!r} (remove it or check its spelling)"
    if err["type"] == "missing":
        return f"missing required key {loc!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if not loc:
        return msg
    return f"{loc}: {msg}"


def parse_spec(path: Path, find: Finder | None = None) -> JudgeSpec | PanelSpec:
    """Read and validate one spec file; ``name`` defaults to the file's stem.

    ``find`` locates the spec an ``extends`` key names; by default, a file of that name in the
    same folder.

    Raises:
        SpecError: the file is not valid YAML, does not describe a judge or panel, or extends
            a spec that is missing or circular; the message names the file and each
            offending key.
    """
    data = read_mapping(path)
    data.setdefault("name", path.name.removesuffix(".yaml").removesuffix(".yml"))
    if "extends" in data:
        data = _resolve_extends(path, data, find or _sibling_finder(path.parent))
    _check_kind(path, data)
    try:
        return _SPEC_ADAPTER.validate_python(data)
    except pydantic.ValidationError as exc:
        problems = [_message(err) for err in exc.errors()]
        raise SpecError(f"{path}: " + "; ".join(problems)) from None


def _check_kind(path: Path, data: Mapping[str, Any]) -> None:
    """Refuse a missing or unknown ``kind`` plainly (pydantic would speak of discriminators)."""
    kind = data.get("kind")
    if kind in ("judge", "panel"):
        return
    guess = "panel" if "judges" in data else "judge"
    if kind is None:
        raise SpecError(f"{path}: missing required key 'kind'; add 'kind: {guess}' to the file")
    raise SpecError(f"{path}: kind: {kind!r} is neither judge nor panel; write 'kind: {guess}'")


def _sibling_finder(folder: Path) -> Finder:
    def find(name: str, asking: Path) -> Path | None:
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    return find
