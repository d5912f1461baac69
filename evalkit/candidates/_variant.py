"""A prompt variant of a model: ``evalkit.variant("local/smollm2", name="terse", system=...)``.

The same model asked another way: its own prompt template and/or system message in place of
the suite's, under a name of its own, so that several variants of one model can be
candidates of one suite (``Suite(candidates=[...])``) and be told apart in every table. The
judges still see the suite's question: a variant changes how the model is asked, not what
it is judged on.
"""

from __future__ import annotations

import dataclasses

from evalkit.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Variant:
    """A model asked with its own prompt and/or system message (made by :func:`variant`)."""

    model: str
    #: how the tables name it (its label in a multi-candidate suite).
    name: str
    #: jinja2 template of the question over the row's fields; None keeps the suite's.
    prompt: str | None = None
    #: the system message; None keeps the suite's, "" sends none.
    system: str | None = None

    @property
    def label(self) -> str:
        """How the tables name the variant."""
        return self.name


def variant(
    model: str, *, name: str, prompt: str | None = None, system: str | None = None
) -> Variant:
    """Declare ``model`` asked with ``prompt`` and/or ``system`` instead of the suite's.

    ``name`` is how the answers, the judgments and the leaderboard name it. The prompt is
    rendered for every row before any call (a field it reads that a row lacks is an error
    naming the suite, the candidate and the item).

    >>> variant("local/smollm2-135m-instruct", name="terse", system="Be brief.").label
    'terse'


    Raises:
        UsageError: ``model`` or ``name`` is empty, or neither ``prompt`` nor ``system`` is
            given (the variant would be the model itself).
    """
    if not isinstance(model, str) or not model.strip():
        raise UsageError(f"evalkit.variant: model must be a model string, got {model!r}")
    if not isinstance(name, str) or not name.strip():
        raise UsageError(
            f"evalkit.variant({model!r}): give the variant a name=, which the tables and the "
            "leaderboard call it by"
        )
    if prompt is None and system is None:
        raise UsageError(
            f"evalkit.variant({model!r}, name={name!r}): set prompt= or system= (or both); "
            f"without either, use the model string {model!r} itself as the candidate"
        )
    return Variant(model=model, name=name, prompt=prompt, system=system)
