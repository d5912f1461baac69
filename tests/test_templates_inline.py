"""Inline templates (a suite's prompt) render per item from one compiled template."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from evalkit.errors import SpecError
from evalkit.judging._templates import Templates


def test_an_inline_template_is_compiled_once_and_renders_each_rows_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[str] = []
    compile_ = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(source))
        return compile_(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    templates = Templates()
    rendered = [
        templates.render_string("Q: {{ question }}", {"question": q}, where="suite s")
        for q in ("one", "two", "three")
    ]
    assert rendered == ["Q: one", "Q: two", "Q: three"]
    assert compiled == ["Q: {{ question }}"]


def test_a_broken_inline_template_fails_every_time_it_is_rendered() -> None:
    templates = Templates()
    for _ in range(2):
        with pytest.raises(SpecError, match=r"^suite s: "):
            templates.render_string("{{ question ", {"question": "q"}, where="suite s")
    with pytest.raises(SpecError, match="suite s: undefined variable"):
        templates.render_string("{{ missing }}", {}, where="suite s")
