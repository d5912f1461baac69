from pathlib import Path

import pytest

from evalkit.config import load_config, read_pyproject
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
        match=r"\[tool\.evalkit\.reliability\] max_flip: unknown setting 'max_flip'; "
        r"known settings: .*max_flip_rate",
    ):
        load_config(pyproject={"reliability": {"max_flip": 0.3}})
    with pytest.raises(
        ConfigError, match=r"\[tool\.evalkit\.reliability\] max_flip_rate: .*less than or equal"
    ):
        load_config(pyproject={"reliability": {"max_flip_rate": 2}})
