"""evalkit's configuration, read once from pyproject.toml, the environment and the command line.

Precedence, lowest to highest: built-in defaults, ``[tool.evalkit]`` in the project's
pyproject.toml, ``EVALKIT_*`` environment variables, command-line options. The result is one
validated, frozen :class:`EvalkitConfig`; nothing else in evalkit reads settings on its own.
Every invalid value is reported with the place it came from (the pyproject key, the variable or
the flag), so the user knows what to edit.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import pydantic

from evalkit.errors import ConfigError

CacheMode = Literal["use", "refresh", "off", "replay"]
InconclusivePolicy = Literal["fail", "warn"]


class EvalkitConfig(pydantic.BaseModel):
    """Every setting of a run. Frozen: pass it around, never mutate it."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    #: litellm model string of the model under test; None means the bundled local candidate.
    candidate: str | None = None
    #: litellm model string of the model it is compared with; None means the bundled baseline.
    baseline: str | None = None
    #: OpenAI-compatible server of the candidate / baseline (vLLM, llama.cpp, a proxy…).
    candidate_api_base: str | None = None
    baseline_api_base: str | None = None
    #: name of a panel spec (``local``, ``api``, or a file stem in the project's judges/).
    panel: str = "local"
    cache_mode: CacheMode = "use"
    cache_dir: Path = Path(".evalkit-cache")
    reports_dir: Path = Path("reports")
    #: where accepted runs are kept (commit this folder): the NoRegression gate reads it.
    baselines_dir: Path = Path("evalkit-baselines")
    #: record this run as the accepted one of each suite that ran.
    accept: bool = False
    #: count the calls, tokens and cost a run would make, and make none.
    dry_run: bool = False
    #: the most calls in flight at once, per model.
    concurrency: pydantic.PositiveInt = 16
    #: seconds one attempt may take before it is abandoned and retried; finite, since an
    #: attempt that may never end would hang the whole run.
    timeout_s: pydantic.PositiveFloat = pydantic.Field(default=30.0, allow_inf_nan=False)
    #: retries after the first attempt, for transient failures only.
    max_retries: pydantic.NonNegativeInt = 4
    #: base of the exponential backoff, in seconds.
    backoff_s: pydantic.PositiveFloat = 0.5
    #: longest single wait between attempts, Retry-After included.
    max_backoff_s: pydantic.PositiveFloat = 60.0
    budget_usd: pydantic.NonNegativeFloat | None = None
    max_calls: pydantic.PositiveInt | None = None
    #: what an inconclusive gate does: fail the run, or only warn; unset means fail in CI
    #: (the CI environment variable is set) and warn elsewhere.
    inconclusive: InconclusivePolicy | None = None
    #: confidence level of every interval evalkit reports.
    confidence: float = pydantic.Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = 0

    def resolved(self, rootdir: Path) -> EvalkitConfig:
        """Return the config with its folders made absolute against the project root.

        Called once, where the config is read, so that nothing else has to know what a
        relative folder is relative to.
        """
        return self.model_copy(
            update={
                name: path if path.is_absolute() else rootdir / path
                for name in ("cache_dir", "reports_dir", "baselines_dir")
                for path in (getattr(self, name),)
            }
        )

    def digest(self) -> str:
        """A short hash of the settings that change results (shown in the report)."""
        data = self.model_dump(
            mode="json",
            exclude={
                "reports_dir",
                "cache_dir",
                "cache_mode",
                "accept",
                "baselines_dir",
                "dry_run",
            },
        )
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


#: Environment variable → field. Only these are read; others are ignored.
ENV_VARS: Final[Mapping[str, str]] = {
    f"EVALKIT_{name.upper()}": name for name in EvalkitConfig.model_fields
}


def read_pyproject(rootdir: Path) -> dict[str, Any]:
    """Return the ``[tool.evalkit]`` table of ``rootdir/pyproject.toml`` (empty if absent).

    Raises:
        ConfigError: the file is not valid TOML.
    """
    path = rootdir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from exc
    table = data.get("tool", {}).get("evalkit", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.evalkit] must be a table")
    return table


def load_config(
    *,
    pyproject: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
    pyproject_path: Path | str = "pyproject.toml",
) -> EvalkitConfig:
    """Merge the three sources (later wins) into one validated config.

    ``cli`` maps field names to values already parsed by the command line (None = not given).

    Raises:
        ConfigError: a key is unknown or a value invalid; the message names its source.
    """
    sources: dict[str, str] = {}
    merged: dict[str, Any] = {}
    for key, value in (pyproject or {}).items():
        merged[key] = value
        sources[key] = f"{pyproject_path} [tool.evalkit] {key}"
    for var, field in ENV_VARS.items():
        if environ and environ.get(var, "") != "":
            merged[field] = environ[var]
            sources[field] = f"environment variable {var}"
    for key, value in (cli or {}).items():
        if value is not None:
            merged[key] = value
            sources[key] = f"option --evalkit-{key.replace('_', '-')}"
    try:
        return EvalkitConfig.model_validate(merged)
    except pydantic.ValidationError as exc:
        raise ConfigError(_describe(exc, sources)) from None


def _describe(exc: pydantic.ValidationError, sources: Mapping[str, str]) -> str:
    lines = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        where = sources.get(field, field)
        if err["type"] == "extra_forbidden":
            known = ", ".join(sorted(EvalkitConfig.model_fields))
            lines.append(f"{where}: unknown setting {field!r}; known settings: {known}")
        else:
            lines.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)
