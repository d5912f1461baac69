"""Finding judge and panel specs by name: the project's ``judges/`` first, then evalkit's own.

A file in the project's folder overrides a packaged file of the same name, so a project can
retune a shipped judge without copying the others (and may ``extends:`` the packaged judge it
replaces). :meth:`JudgeRegistry.panel` validates everything a panel needs — each judge's spec,
its template rendered with the variables of its mode, its parser, the aggregation method, the
quorum — so that every mistake is reported, naming the file and the key, before the first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from evalkit.errors import SpecError
from evalkit.judging._judge import VARIABLES, Judge, Panel
from evalkit.judging._parsers import PARSERS
from evalkit.judging._spec import JudgeSpec, PanelSpec, parse_spec
from evalkit.judging._templates import PACKAGED_DIR, Templates
from evalkit.models import family_of
from evalkit.records._judgments import Mode

#: Kind of each registered panel method: ``verdict`` (pairwise) or ``score`` (scored modes).
AggregationKinds = Mapping[str, Literal["verdict", "score"]]


def _spec_files(folder: Path | None) -> dict[str, Path]:
    if folder is None or not folder.is_dir():
        return {}
    files = [*folder.glob("*.yaml"), *folder.glob("*.yml")]
    return {p.name.rsplit(".", 1)[0]: p for p in sorted(files)}


class JudgeRegistry:
    """Every judge and panel spec visible from a project."""

    def __init__(self, project_dir: Path | None = None) -> None:
        self.project_dir = project_dir
        self.templates = Templates(project_dir)
        self._packaged = _spec_files(PACKAGED_DIR)
        self._files = {**self._packaged, **_spec_files(project_dir)}

    def names(self) -> list[str]:
        """Names of every spec file visible to the project."""
        return sorted(self._files)

    def path(self, name: str) -> Path | None:
        """The file the spec called ``name`` is read from, or None."""
        return self._files.get(name)

    def _find(self, name: str, asking: Path) -> Path | None:
        found = self._files.get(name)
        # A project file that extends the packaged judge it overrides means the packaged one.
        if found == asking:
            return self._packaged.get(name)
        return found

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
        return parse_spec(path, self._find)

    def judge(self, name: str) -> Judge:
        """Return the judge called ``name``, with its template and parser checked.

        Raises:
            SpecError: missing, invalid, not a judge, or its template or parser is broken;
                the message names the spec file and the key.
        """
        spec = self.spec(name)
        where = self._files[name]
        if not isinstance(spec, JudgeSpec):
            raise SpecError(f"{where}: {name!r} is a panel, not a judge")
        try:
            parse = PARSERS.get(spec.parser)
        except SpecError as exc:
            raise SpecError(f"{where}: parser: {exc}") from None
        judge = Judge(spec=spec, family=spec.family or family_of(spec.model), parse=parse,
                      path=where)  # fmt: skip
        try:
            judge.check(self.templates)
        except SpecError as exc:
            given = ", ".join(VARIABLES[spec.mode])
            raise SpecError(
                f"{where}: template: {exc} (a {spec.mode} judge's template gets: {given})"
            ) from None
        return judge

    def panel(
        self,
        name: str,
        *,
        mode: Mode | None = None,
        aggregations: AggregationKinds | None = None,
    ) -> Panel:
        """Return the panel called ``name`` with all its judges validated.

        A judge name given instead of a panel makes a panel of one. With ``mode``, a panel of
        another mode is replaced by its ``variants`` entry for that mode. With
        ``aggregations`` (the panel's registered methods and their kinds), the panel's
        method must be registered and fit the mode.

        Raises:
            SpecError: the panel or any of its judges is missing or invalid, its judges mix
                modes, it has no variant for ``mode``, or its aggregation is unknown or does
                not fit; the message names the file and the key.
        """
        spec = self.spec(name)
        where = self._files[name]
        if isinstance(spec, JudgeSpec):
            method = "majority" if spec.mode == "pairwise" else "mean"
            spec = PanelSpec(name=name, judges=[name], aggregation=method)
        self._check_variants(spec, where)
        judges = tuple(self._panel_judge(j, where) for j in spec.judges)
        _check_unique_names(judges, where)
        modes = sorted({j.mode for j in judges})
        if len(modes) > 1:
            listed = ", ".join(f"{j.name} ({j.mode})" for j in judges)
            raise SpecError(f"{where}: judges: a panel judges in one mode; got {listed}")
        panel = Panel(spec=spec, judges=judges, path=where)
        if mode is not None and panel.mode != mode:
            variant = spec.variants.get(mode)
            if variant is None:
                raise SpecError(
                    f"{where}: panel {name!r} judges {panel.mode}, but the suite is {mode}; "
                    f"add 'variants: {{{mode}: <a {mode} panel>}}' to it, or choose a {mode} "
                    "panel"
                )
            panel = self.panel(variant, aggregations=aggregations)
            if panel.mode != mode:
                raise SpecError(
                    f"{where}: variants.{mode}: panel {variant!r} judges {panel.mode}, not {mode}"
                )
            return panel
        if aggregations is not None:
            _check_aggregation(panel, where, aggregations)
        return panel

    def _panel_judge(self, name: str, where: Path) -> Judge:
        path = self._files.get(name)
        if path is None:
            judges = [n for n in self.names() if n != where.stem]
            raise SpecError(
                f"{where}: judges: no judge named {name!r}; available: {', '.join(judges)}"
            )
        if isinstance(self.spec(name), PanelSpec):
            raise SpecError(f"{where}: judges: {name!r} is a panel; list judges only")
        return self.judge(name)

    def _check_variants(self, spec: PanelSpec, where: Path) -> None:
        for variant_mode, variant in spec.variants.items():
            if variant not in self._files:
                raise SpecError(
                    f"{where}: variants.{variant_mode}: no panel named {variant!r}; "
                    f"available: {', '.join(self.names())}"
                )


def _check_unique_names(judges: tuple[Judge, ...], where: Path) -> None:
    """Refuse two judge files that declare the same ``name:``: their rows would be one judge's."""
    first: dict[str, Judge] = {}
    for judge in judges:
        other = first.setdefault(judge.name, judge)
        if other is not judge:
            raise SpecError(
                f"{where}: judges: {other.path} and {judge.path} both define a judge named "
                f"{judge.name!r}; give each judge its own name (or drop the name key: it "
                "defaults to the file's stem)"
            )


def _check_aggregation(panel: Panel, where: Path, aggregations: AggregationKinds) -> None:
    method = panel.spec.aggregation
    kind = aggregations.get(method)
    if kind is None:
        raise SpecError(
            f"{where}: aggregation: unknown method {method!r}; registered methods: "
            f"{', '.join(sorted(aggregations))}"
        )
    wanted = "verdict" if panel.mode == "pairwise" else "score"
    if kind != wanted:
        fitting = ", ".join(sorted(m for m, k in aggregations.items() if k == wanted))
        raise SpecError(
            f"{where}: aggregation: {method!r} combines {kind}s, but the panel's judges give "
            f"{wanted}s ({panel.mode}); use one of: {fitting}"
        )
