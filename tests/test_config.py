from pathlib import Path

import pytest

from evalkit.config import check_folders, load_config, read_pyproject
from evalkit.errors import ConfigError


def test_precedence_pyproject_env_cli() -> None:
    cfg = load_config(
        pyproject={"concurrency": 4, "panel": "api"},
        environ={"EVALKIT_CONCURRENCY": "8"},
        cli={"concurrency": None, "timeout_s": 5.0},
    )
    assert (cfg.concurrency, cfg.panel, cfg.timeout_s) == (8, "api", 5.0)
    cfg = load_config(environ={"EVALKIT_CONCURRENCY": "8"}, cli={"concurrency": 2})
    assert cfg.concurrency == 2


def test_errors_name_their_source() -> None:
    with pytest.raises(ConfigError, match=r"pyproject.toml \[tool.evalkit\] concurency: unknown setting"):
        load_config(pyproject={"concurency": 4})
    with pytest.raises(ConfigError, match=r"environment variable EVALKIT_CACHE_MODE: .*'use', 'refresh', 'off' or 'replay'"):
        load_config(environ={"EVALKIT_CACHE_MODE": "sometimes"})
    with pytest.raises(ConfigError, match=r"option --evalkit-concurrency: .*greater than 0"):
        load_config(cli={"concurrency": 0})


def test_bad_toml_is_named(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.evalkit\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_pyproject(tmp_path)


def test_digest_ignores_where_reports_go() -> None:
    assert load_config(cli={"reports_dir": "a"}).digest() == load_config(cli={"reports_dir": "b"}).digest()
    assert load_config(cli={"seed": 1}).digest() != load_config(cli={"seed": 2}).digest()


def test_reliability_thresholds_are_set_in_their_own_table() -> None:
    cfg = load_config(pyproject={"reliability": {"max_flip_rate": 0.3, "min_kappa": None}})
    assert cfg.reliability.max_flip_rate == 0.3
    assert cfg.reliability.min_kappa is None
    assert cfg.reliability.max_position_skew == 0.10  # the rest keep their defaults
    assert load_config().reliability.max_flip_rate == 0.25
    # The thresholds change verdicts, so they change the digest of the settings.
    assert cfg.digest() != load_config().digest()


def test_a_bad_reliability_key_or_value_is_named_with_its_table() -> None:
    with pytest.raises(
        ConfigError,
        match=r"\[tool\.evalkit\.reliability\] max_flip: unknown setting 'max_flip' "
        r"\(did you mean 'max_flip_rate'\?\); known settings: .*max_flip_rate",
    ):
        load_config(pyproject={"reliability": {"max_flip": 0.3}})
    with pytest.raises(
        ConfigError, match=r"\[tool\.evalkit\.reliability\] max_flip_rate: .*less than or equal"
    ):
        load_config(pyproject={"reliability": {"max_flip_rate": 2}})


def test_unknown_evalkit_variables_are_errors_with_the_closest_name() -> None:
    with pytest.raises(ConfigError, match=r"EVALKIT_CONCURENCY: not an evalkit setting \(did you mean 'EVALKIT_CONCURRENCY'\?\)"):
        load_config(environ={"EVALKIT_CONCURENCY": "4"})
    with pytest.raises(ConfigError, match=r"EVALKIT_ZZZ: not an evalkit setting; rename or unset it"):
        load_config(environ={"EVALKIT_ZZZ": "1"})
    with pytest.raises(ConfigError, match=r"unknown setting 'max_call' \(did you mean 'max_calls'\?\)"):
        load_config(pyproject={"max_call": 4})
    # Not a setting, but read on purpose by evalkit's own golden-file tests.
    assert load_config(environ={"EVALKIT_ACCEPT_GOLDEN": "1"}).concurrency == 16


@pytest.mark.parametrize(("source", "where"), [
    ({"cli": {"candidate": ""}}, "option --evalkit-candidate"),
    ({"environ": {"EVALKIT_PANEL": " "}}, "environment variable EVALKIT_PANEL"),
    ({"environ": {"EVALKIT_CANDIDATE": ""}, "pyproject": {"candidate": "openai/x"}}, "environment variable EVALKIT_CANDIDATE"),
])
def test_empty_values_are_refused(source: dict[str, dict[str, str]], where: str) -> None:
    with pytest.raises(ConfigError, match=rf"{where}: empty value"):
        load_config(**source)  # type: ignore[arg-type]
    # "" written in pyproject.toml is a deliberate "none", not an unset variable.
    assert load_config(pyproject={"candidate_api_base": ""}).candidate_api_base == ""


def test_folders_that_cannot_hold_the_cache_or_reports(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    check_folders(load_config(cli={"cache_dir": tmp_path / "new", "reports_dir": tmp_path / "a/b"}))
    assert not (tmp_path / "new").exists(), "checking creates nothing"
    with pytest.raises(ConfigError, match=r"cache_dir .*file: is a file, not a folder; .*--evalkit-cache-dir"):
        check_folders(load_config(cli={"cache_dir": tmp_path / "file"}))
    with pytest.raises(ConfigError, match=r"reports_dir .*file/r: cannot be created, because .*file is a file"):
        check_folders(load_config(cli={"reports_dir": tmp_path / "file" / "r"}))


def test_retry_unparseable_is_off_unless_asked_for_in_any_of_the_three_places() -> None:
    assert load_config().retry_unparseable is False
    assert load_config(pyproject={"retry_unparseable": True}).retry_unparseable is True
    assert load_config(environ={"EVALKIT_RETRY_UNPARSEABLE": "true"}).retry_unparseable is True
    assert load_config(cli={"retry_unparseable": True}).retry_unparseable is True
    bad = r"environment variable EVALKIT_RETRY_UNPARSEABLE: .*bool"
    with pytest.raises(ConfigError, match=bad):
        load_config(environ={"EVALKIT_RETRY_UNPARSEABLE": "sometimes"})
    # Whether cached unreadable replies are asked again is a cache policy, not a result setting.
    assert load_config(cli={"retry_unparseable": True}).digest() == load_config().digest()
