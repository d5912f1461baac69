r"""What a deterministic grader is, how graders register by name, and how they are built from data.

A grader checks one answer without calling a model (exact match, regex, numeric tolerance, JSON
schema, contains / not contains). Its result lands in the judgments table beside the judges'
rows, so gates can combine both; see :mod:`evalkit.graders` for the row convention.
Built-in graders register with ``@GRADERS.register(kind)`` exactly as a user's would, and
:func:`make_grader` builds one from a mapping such as ``{"kind": "regex", "pattern": "^\\d+$"}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from evalkit._registry import Registry
from evalkit.errors import DatasetError, SpecError

#: The ``judge_family`` of every grader row: no model family, so never a lineage conflict.
GRADER_FAMILY: Final = "deterministic"


@dataclasses.dataclass(frozen=True, slots=True)
class Grade:
    """A grader's result: pass or fail, and a short detail a person can check."""

    passed: bool
    detail: str

    @property
    def score(self) -> float:
        """1.0 for a pass, 0.0 for a fail (the ``score`` column of the grader's row)."""
        return 1.0 if self.passed else 0.0


@runtime_checkable
class Grader(Protocol):
    """Checks one answer, deterministically, from the answer and the item's fields."""

    @property
    def name(self) -> str:
        """The name its rows carry in the ``judge`` column (unique within a suite)."""
        ...

    def fields(self) -> tuple[str, ...]:
        """Dataset fields the grader reads (every item must have them)."""
        ...

    def describe(self) -> str:
        """Its kind and settings as canonical text.

        A change of settings changes the rows' ``prompt_hash``.
        """
        ...

    def grade(self, answer: str, item: Mapping[str, Any]) -> Grade:
        """Grade ``answer`` to the item whose dataset fields are ``item``.

        Never raises for a bad answer: a wrong or malformed answer is a fail with the reason
        in ``detail``.
        """
        ...


#: Grader classes by kind (entry-point group ``evalkit.graders``), for :func:`make_grader`.
GRADERS: Registry[type] = Registry("grader kind", "evalkit.graders", SpecError)


def make_grader(spec: Mapping[str, Any]) -> Grader:
    """Build a grader from ``{"kind": <registered kind>, **its settings}``.

    Raises:
        SpecError: no kind, an unknown kind, or settings the kind does not accept or rejects;
            the message names the kind and the setting.
    """
    settings = dict(spec)
    kind = settings.pop("kind", None)
    if not isinstance(kind, str):
        raise SpecError(f"a grader needs a kind; known grader kinds: {', '.join(GRADERS.names())}")
    cls = GRADERS.get(kind)
    known = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else None
    unknown = sorted(set(settings) - known) if known is not None else []
    if unknown:
        raise SpecError(
            f"grader {kind!r}: unknown setting(s) {', '.join(unknown)}; "
            f"its settings are: {', '.join(sorted(known or ()))}"
        )
    try:
        grader = cls(**settings)
    except TypeError as exc:
        raise SpecError(f"grader {kind!r}: {exc}") from None
    if not isinstance(grader, Grader):
        raise SpecError(f"grader kind {kind!r} does not build a grader")
    return grader


def check_graders(graders: Iterable[Grader], taken: Iterable[str] = ()) -> None:
    """Check that grader names are unique and clash with no judge name in ``taken``.

    Raises:
        SpecError: two graders share a name, or a grader is named like a judge.
    """
    seen = set(taken)
    for grader in graders:
        if grader.name in seen:
            raise SpecError(
                f"grader name {grader.name!r} is used twice (by a judge or another grader); "
                "give the grader its own name=..."
            )
        seen.add(grader.name)


def check_fields(
    graders: Iterable[Grader], items: Iterable[tuple[str, Mapping[str, Any]]], dataset: Path
) -> None:
    """Check that every item has every field the graders read, before any call is made.

    ``items`` is ``(item id, fields)`` pairs.

    Raises:
        DatasetError: an item lacks a field (or it is empty); the message names the dataset,
            the item, the field and the grader.
    """
    needs = [(field, g.name) for g in graders for field in g.fields()]
    for item_id, fields in items:
        for field, name in needs:
            value = fields.get(field)
            if value is None or value == "" or value == []:
                raise DatasetError(
                    f"{dataset}: item {item_id!r} has no field {field!r}, which grader "
                    f"{name!r} reads; add it to every row or drop the grader"
                )
