"""Judge and panel specs: the YAML files in ``judges/``, validated.

A judge spec says which model judges, how it is prompted (a jinja2 template, chat or
completion style), how its sampling is set and how its answer is parsed. A panel spec says
which judges sit on the panel and how their verdicts combine. Both are pydantic models with
``extra="forbid"``, so a misspelt key is an error that names the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml

from evalkit.errors import SpecError
from evalkit.models import PromptStyle

FamilyPolicy = Literal["warn", "exclude", "error"]
Disagreement = Literal["tie", "abstain"]


class _Spec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class JudgeSpec(_Spec):
    """One judge: a model plus the prompt, sampling and parser that make it a judge."""

    kind: Literal["judge"] = "judge"
    name: str
    #: litellm model string, or ``local/<name>`` for a bundled model.
    model: str
    #: overrides the family inferred from the model string.
    family: str | None = None
    mode: Literal["pairwise"] = "pairwise"
    #: a template file name, looked up in the project's judges/ then in evalkit's own.
    template: str
    prompt_style: PromptStyle = "chat"
    #: system message for chat-style judges.
    system: str | None = None
    params: dict[str, Any] = pydantic.Field(default_factory=lambda: {"temperature": 0.0})
    parser: str = "ab"
    samples: pydantic.PositiveInt = 1
    timeout_s: pydantic.PositiveFloat | None = None
    api_base: str | None = None


class PanelSpec(_Spec):
    """A panel: the judges, how their combined verdicts aggregate, and the quorum."""

    kind: Literal["panel"] = "panel"
    name: str
    judges: list[str] = pydantic.Field(min_length=1)
    aggregation: str = "majority"
    #: fewest valid judge verdicts an item needs; below it the item is abstained.
    quorum: pydantic.PositiveInt = 1
    #: what a judge's two orders disagreeing counts as.
    disagreement: Disagreement = "tie"
    #: what to do when a judge shares a family with the candidate or the baseline.
    family_policy: FamilyPolicy = "warn"

    @pydantic.model_validator(mode="after")
    def _quorum_fits(self) -> PanelSpec:
        if self.quorum > len(self.judges):
            raise ValueError(
                f"quorum {self.quorum} is larger than the panel ({len(self.judges)} judges)"
            )
        return self


Spec = Annotated[JudgeSpec | PanelSpec, pydantic.Field(discriminator="kind")]
_SPEC_ADAPTER: pydantic.TypeAdapter[JudgeSpec | PanelSpec] = pydantic.TypeAdapter(Spec)


def parse_spec(path: Path) -> JudgeSpec | PanelSpec:
    """Read and validate one spec file; ``name`` defaults to the file's stem.

    Raises:
        SpecError: the file is not valid YAML or does not describe a judge or panel; the
            message names the file and each offending key.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({exc}); fix the file") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping of keys (kind, model, template, …)")
    data.setdefault("name", path.name.removesuffix(".yaml").removesuffix(".yml"))
    try:
        return _SPEC_ADAPTER.validate_python(data)
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"] if p not in ("judge", "panel"))
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {loc!r} (remove it or check its spelling)")
            elif err["type"] == "missing":
                problems.append(f"missing required key {loc!r}")
            else:
                problems.append(f"{loc or 'spec'}: {err['msg']}")
        raise SpecError(f"{path}: " + "; ".join(problems)) from None
