"""Compiled report templates are kept in the user's cache folder and reused by the next run."""

from __future__ import annotations

import errno
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evalkit.report import _env


def _names() -> list[str]:
    return sorted(p.name for p in _env._TEMPLATES.glob("*.j2"))


def test_a_second_environment_loads_what_the_first_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _env.compiled_templates_dir() == tmp_path / "evalkit" / "templates"
    first = _env.environment()
    for name in _names():
        first.get_template(name)
    written = sorted(_env.compiled_templates_dir().glob("report-*.cache"))
    assert len(written) == len(_names())

    compiled: list[str] = []
    second = _env.environment()
    original = second.compile

    def counting(source: str, name: str | None = None, *args: object, **kw: object) -> object:
        compiled.append(str(name))
        return original(source, name, *args, **kw)  # type: ignore[arg-type]

    second.compile = counting  # type: ignore[assignment,method-assign]
    rendered = second.get_template("base.html.j2")
    assert compiled == []  # every template came from the cache, none was compiled again
    assert rendered.name == "base.html.j2"


def test_an_edited_template_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.j2").write_text("one {{ x }}")
    monkeypatch.setattr(_env, "_TEMPLATES", folder)
    assert _env.environment().get_template("t.j2").render(x=1) == "one 1"
    (folder / "t.j2").write_text("two {{ x }}")
    assert _env.environment().get_template("t.j2").render(x=2) == "two 2"


def test_a_full_disk_costs_time_not_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    env = _env.environment()

    def full_disk(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    # jinja2 writes each compiled template through a temporary file (the tests run as root,
    # so a read-only folder would not stop the write).
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full_disk)
    assert env.get_template("base.html.j2").name == "base.html.j2"
    assert list(_env.compiled_templates_dir().iterdir()) == []


def test_a_cache_folder_that_cannot_be_made_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    env = _env.environment()
    assert env.bytecode_cache is None
    assert env.get_template("base.html.j2").name == "base.html.j2"


def test_the_report_package_does_not_import_the_leaderboard_fit() -> None:
    # The Bradley-Terry fit needs scipy (0.2-0.4 s to import); a report with one candidate per
    # suite, which is most of them, is rendered at the end of every run without it.
    code = "import sys, evalkit.report; print(sorted(m for m in ('scipy', 'evalkit.leaderboard') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
