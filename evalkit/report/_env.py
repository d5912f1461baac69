"""The report's jinja2 environment, shared by the report and the comparison page.

Compiling the report's templates costs more than rendering them (about 0.1 s of CPU, paid at
the end of every run), so the compiled code is kept in the user's cache folder
(``$XDG_CACHE_HOME/evalkit/templates``, by default ``~/.cache/evalkit/templates``). jinja2 keys
each entry by the template's name and a checksum of its source, and refuses entries written by
another jinja2 or Python version, so an edited or upgraded template is simply compiled again.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

import jinja2
from jinja2.bccache import Bucket

from evalkit.report._format import FILTERS

_TEMPLATES: Final = Path(__file__).resolve().parent / "templates"


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """jinja2's file bytecode cache, except that a failed write is no error.

    A report must render in a read-only home or a full disk: the cache only saves time.
    """

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def compiled_templates_dir() -> Path:
    """Where compiled report templates are kept: ``$XDG_CACHE_HOME/evalkit/templates``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evalkit" / "templates"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The cache of compiled templates, or None when its folder cannot be made."""
    folder = compiled_templates_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _CompiledTemplates(str(folder), pattern="report-%s.cache")


def environment() -> jinja2.Environment:
    """A jinja2 environment over the report's templates.

    Autoescaped, strict about undefined names, with the filters of :mod:`evalkit.report._format`;
    compiled templates are reused from :func:`compiled_templates_dir` when they are there.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        bytecode_cache=_bytecode_cache(),
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
