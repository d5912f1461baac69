"""cache_url: where the response cache lives (a folder or Redis), checked before any call."""

from pathlib import Path

import pytest

from evalkit.config import check_folders, load_config
from evalkit.errors import ConfigError


def test_absent_or_empty_cache_url_is_the_cache_dir_folder(tmp_path: Path) -> None:
    assert load_config().cache_location() == Path(".evalkit-cache")
    assert load_config(pyproject={"cache_url": ""}).cache_location() == Path(".evalkit-cache")
    cfg = load_config(cli={"cache_dir": "c"}).resolved(tmp_path)
    assert cfg.cache_location() == tmp_path / "c"


def test_a_redis_url_comes_from_any_of_the_three_places() -> None:
    url = "redis://127.0.0.1:6390/2"
    assert load_config(pyproject={"cache_url": url}).cache_location() == url
    assert load_config(environ={"EVALKIT_CACHE_URL": url}).cache_location() == url
    assert load_config(cli={"cache_url": url}).cache_location() == url
    assert load_config(cli={"cache_url": "rediss://h/0"}).cache_location() == "rediss://h/0"


def test_a_windows_drive_is_a_folder_not_a_url() -> None:
    assert load_config(cli={"cache_url": "C:/cache"}).cache_location() == Path("C:/cache")


def test_a_plain_path_is_a_folder_made_absolute_against_the_project(tmp_path: Path) -> None:
    cfg = load_config(pyproject={"cache_url": "shared/cache"}).resolved(tmp_path)
    assert cfg.cache_location() == tmp_path / "shared" / "cache"
    # The response cache moved; the bundled models' files stay under cache_dir.
    assert cfg.cache_dir == tmp_path / ".evalkit-cache"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:6379/0", r"the scheme 'http:' is not supported; give a redis://"),
        ("memcached://h:11211", r"the scheme 'memcached:' is not supported"),
        ("redis:/h:6379/0", r"give a host and a port"),
        ("redis://h:99999/0", r"give a host and a port from 1 to 65535"),
        ("redis://h:port/0", r"give a host and a port from 1 to 65535"),
        ("redis://h:0/0", r"give a host and a port from 1 to 65535"),
        ("redis:///0", r"give a host and a port"),
        ("redis://h:6379/cache", r"the database 'cache' is not a whole number"),
    ],
)
def test_a_malformed_cache_url_is_named_with_its_source(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"\[tool.evalkit\] cache_url: {problem}"):
        load_config(pyproject={"cache_url": url})
    with pytest.raises(ConfigError, match=rf"environment variable EVALKIT_CACHE_URL: {problem}"):
        load_config(environ={"EVALKIT_CACHE_URL": url})
    with pytest.raises(ConfigError, match=rf"option --evalkit-cache-url: {problem}"):
        load_config(cli={"cache_url": url})


def test_the_message_about_a_bad_url_never_shows_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(cli={"cache_url": "redis://:hunter2-pw@h:99999/0"})
    assert "hunter2" not in str(caught.value)
    assert "redis://[redacted]@h:99999/0" in str(caught.value)


def test_ttl_must_be_a_positive_finite_number() -> None:
    assert load_config(environ={"EVALKIT_CACHE_TTL_S": "3600"}).cache_ttl_s == 3600.0
    for bad in ("0", "-5", "inf", "week"):
        with pytest.raises(ConfigError, match=r"EVALKIT_CACHE_TTL_S"):
            load_config(environ={"EVALKIT_CACHE_TTL_S": bad})


def test_where_the_cache_lives_does_not_change_the_results_digest() -> None:
    shared = load_config(cli={"cache_url": "redis://h:1/0", "cache_ttl_s": 60.0})
    assert shared.digest() == load_config().digest()


def test_a_cache_url_folder_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(
        ConfigError, match=r"cache_url .*file: is a file, not a folder; .*--evalkit-cache-url"
    ):
        check_folders(load_config(cli={"cache_url": str(tmp_path / "file")}))
    check_folders(load_config(cli={"cache_url": "redis://h:1/0"}))  # nothing to check locally


def test_a_redis_url_without_the_redis_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    with pytest.raises(ConfigError, match=r"--evalkit-cache-url: .*pip install 'evalkit\[redis\]'"):
        load_config(cli={"cache_url": "redis://h:1/0"})
