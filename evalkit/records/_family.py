"""How a model family is spelt: one canonical form, so that every comparison can be exact."""

from __future__ import annotations


def family_name(value: object) -> str | None:
    """The canonical spelling of a declared model family (trimmed, lower-case), or None if blank.

    Families reach evalkit from dataset rows (``generator_family``), judge specs, ``evalkit.app``
    and ``evalkit.recorded``; written by people, ``"Google"`` and ``"google "`` mean the
    family that :func:`evalkit.models.family_of` calls ``"google"``. Each entry point canonicalises
    once, so the family policy, the Lineage gate and the audit compare names exactly.

    >>> family_name(" Google "), family_name(""), family_name(None)
    ('google', None, None)
    """
    if value is None:
        return None
    name = str(value).strip().lower()
    return name or None
