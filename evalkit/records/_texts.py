"""The texts a run keeps so that a later run can measure what its diversity lost.

Diversity is a property of a whole set of texts, and most of its figures depend on the set's
size, so a later run can only be compared with an accepted one by measuring both sets at one
size (see :func:`evalkit.data.compare_diversity`). Stored figures could not be re-measured at
another size; the texts can. What is kept is a seeded sample of at most ``max_texts`` texts,
each cut to ``max_chars`` characters, so that the accepted-run file stays small enough to
commit (at most about ``2 * max_texts * max_chars`` characters, a few hundred kB for usual
answers). The figures are computed from these texts, in one place, when they are compared.
"""

from __future__ import annotations

from typing import Final, Literal

import pydantic

#: The version of :class:`SuiteTexts`' shape; bump it when a field changes meaning.
TEXTS_VERSION: Final = 1


class TextSample(pydantic.BaseModel):
    """A seeded sample of a set of ``n`` texts (all of them when ``n`` is at most the cap)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    n: int
    texts: list[str]


class SuiteTexts(pydantic.BaseModel):
    """A suite's clean inputs and its candidate's answers to them, as kept for diversity.

    ``inputs`` are the clean items' questions as the candidate was asked them (perturbed
    variants left out); ``answers`` the candidate's usable answers to those items. Both are
    drawn with ``seed`` and cut to ``max_chars``.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = TEXTS_VERSION
    seed: int
    max_texts: int
    max_chars: int
    inputs: TextSample
    answers: TextSample
