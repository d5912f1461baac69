"""The report's jinja2 environment, shared by the report and the comparison page."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import jinja2

from evalkit.report._format import FILTERS

_TEMPLATES: Final = Path(__file__).resolve().parent / "templates"


def environment() -> jinja2.Environment:
    """A jinja2 environment over the report's templates.

    Autoescaped, strict about undefined names, with the filters of :mod:`evalkit.report._format`.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    # ``tojson`` escapes <, >, & and ' for a <script> block; keep non-ASCII text as it is (a
    # \uXXXX per character would triple the size of non-Latin answers) and refuse NaN, which
    # is not JSON and would stop the page's script.
    env.policies["json.dumps_kwargs"] = {
        "ensure_ascii": False,
        "separators": (",", ":"),
        "allow_nan": False,
    }
    return env


#: The environment every page is rendered with.
ENV: Final = environment()
