"""Judging: judge and panel specs, prompt templates, verdict parsers and pairwise swaps.

- Specs (:class:`JudgeSpec`, :class:`PanelSpec`) are YAML files in ``judges/``, found by
  :class:`JudgeRegistry` (the project's folder first, then evalkit's packaged one) and
  validated before any call: :meth:`JudgeRegistry.panel` returns a panel of judges whose
  templates and parsers are known to work.
- A judge judges in one mode: ``pairwise`` (A / B / tie, always in both orders, mapped back to
  the original labels), ``pointwise`` (a rubric score on the spec's scale) or ``reference`` (a
  score given a reference answer). A judge parses a reply and checks it against the mode and
  the scale; it never guesses.
- Parsers turn a reply into a :class:`Parsed` and live in :data:`PARSERS` by name (built-ins:
  ``ab``, ``rating``, ``json``, ``leading``); add one with ``@PARSERS.register("name")`` or
  from a separate package through the entry-point group ``evalkit.parsers``.
"""

from evalkit.judging._parsers import PARSERS, Parsed
from evalkit.judging._registry import JudgeRegistry
from evalkit.judging._spec import JudgeSpec, PanelSpec

__all__ = [
    "PARSERS",
    "JudgeRegistry",
    "JudgeSpec",
    "PanelSpec",
    "Parsed",
]
