"""Finding judge and panel specs by name: the project's ``judges/`` first, then evalkit's own.

A file in the project's folder overrides a packaged file of the same name, so a project can
retune a shipped judge without copying the others. :func:`load_panel` validates everything a
panel needs (each judge's spec, its template with the variables it will get, its parser) so
that a mistake is reported before the first call is made.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evalkit.errors import SpecError
from evalkit.judging._parsers import ParserFn, get_parser
from evalkit.judging._spec import JudgeSpec, PanelSpec, parse_spec
from evalkit.judging._templates import PACKAGED_DIR, Templates
from evalkit.models import family_of

#: Variables a pairwise judge template receives.
PAIRWISE_VARIABLES = ("question", "answer_a", "answer_b")


@dataclasses.dataclass(frozen=True, slots=True)
class Judge:
    """A validated judge: its spec, its family and its parser."""

    spec: JudgeSpec
    family: str
    parse: ParserFn

    @property
    def name(self) -> str:
        """The judge's name (its spec file's stem unless the spec says otherwise)."""
        return self.spec.name


@dataclasses.dataclass(frozen=True, slots=True)
class Panel:
    """A validated panel and its judges, in the spec's order."""

    spec: PanelSpec
    judges: tuple[Judge, ...]

    @property
    def name(self) -> str:
        """The panel's name."""
        return self.spec.name


def _spec_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    files = [*folder.glob("*.yaml"), *folder.glob("*.yml")]
    return {p.name.rsplit(".", 1)[0]: p for p in sorted(files)}


class JudgeRegistry:
    """Every judge and panel spec visible from a project."""

    def __init__(self, project_dir: Path | None = None) -> None:
        self.project_dir = project_dir
        self.templates = Templates(project_dir)
        self._files = {**_spec_files(PACKAGED_DIR), **_spec_files(project_dir or Path("/-"))}

    def names(self) -> list[str]:
        """Names of every spec file visible to the project."""
        return sorted(self._files)

    def spec(self, name: str) -> JudgeSpec | PanelSpec:
        """Return the validated spec called ``name``.

        Raises:
            SpecError: there is no such spec, or it is invalid.
        """
        path = self._files.get(name)
        if path is None:
            raise SpecError(
                f"no judge or panel named {name!r}; available: {', '.join(self.names())} "
                "(add a YAML file to your project's judges/ folder)"
            )
        return parse_spec(path)

    def judge(self, name: str) -> Judge:
        """Return the judge called ``name``, with its template and parser checked.

        Raises:
            SpecError: missing, invalid, not a judge, or its template or parser is broken.
        """
        spec = self.spec(name)
        if not isinstance(spec, JudgeSpec):
            raise SpecError(f"{self._files[name]}: {name!r} is a panel, not a judge")
        where = self._files[name]
        try:
            parse = get_parser(spec.parser)
            self.templates.check(spec.template, PAIRWISE_VARIABLES)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
        return Judge(spec=spec, family=spec.family or family_of(spec.model), parse=parse)

    def panel(self, name: str) -> Panel:
        """Return the panel called ``name`` with all its judges validated.

        A judge name given instead of a panel makes a panel of one.

        Raises:
            SpecError: the panel or any of its judges is missing or invalid.
        """
        spec = self.spec(name)
        if isinstance(spec, JudgeSpec):
            spec = PanelSpec(name=name, judges=[name])
        judges = tuple(self.judge(j) for j in spec.judges)
        if len({j.name for j in judges}) != len(judges):
            raise SpecError(f"{self._files[name]}: the panel lists a judge twice")
        return Panel(spec=spec, judges=judges)
