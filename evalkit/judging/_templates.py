"""Prompt templates: jinja2 files looked up in the project's ``judges/``, then evalkit's own.

Templates render with ``StrictUndefined``: a variable the template uses but the caller does not
supply is an error, never an empty string silently sent to a paid model. :meth:`Templates.check`
renders a template with placeholder values before a run starts, so such a mistake is reported
with the file and the variable name before any call is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from evalkit.errors import SpecError

PACKAGED_DIR = Path(__file__).resolve().parent.parent / "judges"


class Templates:
    """A jinja2 environment over the project's judges/ folder with evalkit's as fallback."""

    def __init__(self, project_dir: Path | None = None) -> None:
        dirs = [d for d in (project_dir, PACKAGED_DIR) if d is not None and d.is_dir()]
        self._dirs = dirs
        # Prompts are plain text sent to a model, not HTML: autoescaping would corrupt them.
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )
        # Inline templates compiled once per source: a suite's prompt renders once per item,
        # and compiling it each time cost more than the rest of a judge call's own work.
        self._inline: dict[str, jinja2.Template] = {}

    def render(self, name: str, variables: Mapping[str, Any]) -> str:
        """Render template ``name`` with ``variables``.

        Raises:
            SpecError: the template is missing, malformed or uses an undefined variable.
        """
        try:
            return self._env.get_template(name).render(**variables).strip()
        except jinja2.TemplateNotFound as exc:
            if exc.name not in (None, name):  # an {% include %} or {% extends %} inside it
                raise SpecError(
                    f"template {self._where(name)} includes {exc.name!r}, which is not in "
                    "judges/ or evalkit's packaged templates; add that file or fix the include"
                ) from None
            raise SpecError(
                f"template {name!r} not found in judges/ or evalkit's packaged templates; "
                "check the spec's template key"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise SpecError(
                f"template {name!r} uses an undefined variable ({exc.message}); "
                "use only the variables evalkit passes, or add the field to the dataset"
            ) from None
        except UnicodeDecodeError as exc:
            raise SpecError(
                f"template {self._where(name)}: not UTF-8 text (byte {exc.start}); "
                "re-save it as UTF-8"
            ) from None
        except Exception as exc:  # any error a template expression raises
            raise SpecError(
                f"template {self._where(name)} failed while rendering: "
                f"{type(exc).__name__}: {exc}; fix the expression in the template"
            ) from None

    def _where(self, name: str) -> str:
        """The file template ``name`` is read from (the first folder that has it)."""
        for folder in self._dirs:
            if (folder / name).is_file():
                return str(folder / name)
        return repr(name)

    @staticmethod
    def variables(source: str) -> frozenset[str]:
        """The variables an inline template reads from its caller (empty if it does not parse).

        A template that does not parse reports its own error, with its place, when it is
        rendered; here it simply asks for nothing.

        >>> sorted(Templates.variables("{{ text }} ({{ lang | upper }}){% set x = 1 %}{{ x }}"))
        ['lang', 'text']
        """
        from jinja2 import meta

        try:
            parsed = jinja2.Environment(autoescape=False).parse(source)
        except jinja2.TemplateSyntaxError:
            return frozenset()
        return frozenset(meta.find_undeclared_variables(parsed))

    def render_string(self, source: str, variables: Mapping[str, Any], *, where: str) -> str:
        """Render an inline template (e.g. a suite's prompt); errors name ``where``.

        Raises:
            SpecError: the template is malformed or uses an undefined variable.
        """
        try:
            template = self._inline.get(source)
            if template is None:
                template = self._inline[source] = self._env.from_string(source)
            return template.render(**variables).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"{where}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise SpecError(f"{where}: undefined variable ({exc.message})") from None
        except jinja2.TemplateNotFound as exc:
            raise SpecError(
                f"{where}: includes {exc.name!r}, which is not in judges/ or evalkit's "
                "packaged templates; add that file or fix the include"
            ) from None
        except Exception as exc:  # any error a template expression raises
            raise SpecError(
                f"{where}: failed while rendering: {type(exc).__name__}: {exc}; fix the expression"
            ) from None

    def check(
        self, name: str, variables: Mapping[str, Any] | Iterable[str], *, shown: Iterable[str] = ()
    ) -> None:
        """Render ``name`` with sample ``variables`` to catch mistakes before any call.

        ``variables`` maps each variable to a sample value (a bare list of names gets
        ``<name>`` placeholders). Each variable in ``shown`` must hold a string whose value
        reaches the rendered prompt: a judge template that forgot to show an answer would
        otherwise send every judge the same incomplete prompt.

        Raises:
            SpecError: as :meth:`render`, or a ``shown`` variable never reaches the prompt.
        """
        if not isinstance(variables, Mapping):
            variables = {v: f"<{v}>" for v in variables}
        text = self.render(name, variables)
        missing = [v for v in shown if str(variables[v]) not in text]
        if missing:
            raise SpecError(
                f"template {name!r} never shows {', '.join(map(repr, missing))}; "
                "add {{ " + missing[0] + " }} to it"
            )
