"""evalkit's configuration, read once from pyproject.toml, the environment and the command line.

Precedence, lowest to highest: built-in defaults, ``[tool.evalkit]`` in the project's
pyproject.toml, ``EVALKIT_*`` environment variables, command-line options. The result is one
validated, frozen :class:`EvalkitConfig`; nothing else in evalkit reads settings on its own.
Every invalid value is reported with the place it came from (the pyproject key, the variable or
the flag), so the user knows what to edit.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import pydantic

from evalkit.errors import ConfigError
from evalkit.redaction import redact

CacheMode = Literal["use", "refresh", "off", "replay"]
#: How model calls are sent: one by one, or each phase's calls as one provider batch.
Execution = Literal["interactive", "batch"]
InconclusivePolicy = Literal["fail", "warn"]
#: Interval levels evalkit accepts lie strictly between these.
CONFIDENCE_RANGE: Final = (0.5, 1.0)
#: ``EVALKIT_*`` variables that are not settings but are read elsewhere on purpose: accepting
#: a new golden file in evalkit's own tests.
OTHER_ENV_VARS: Final = frozenset({"EVALKIT_ACCEPT_GOLDEN"})


class ReliabilityThresholds(pydantic.BaseModel):
    """The tolerances a judge must stay within to be trusted; None switches a check off.

    Set in ``[tool.evalkit.reliability]`` (e.g. ``max_flip_rate = 0.25``); a misspelt key is an
    error that names it. The audit judges every judge against these
    (:func:`evalkit.audit._reliability.judge_reliability`).
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    #: largest acceptable flip rate (share of items whose two orders disagree; pairwise only:
    #: a pointwise score that moves by one point between listings is noise more than bias,
    #: which the first-option rate judges instead).
    max_flip_rate: float | None = pydantic.Field(default=0.25, ge=0.0, le=1.0)
    #: largest acceptable |first-position rate - 0.5| (also used for option order).
    max_position_skew: float | None = pydantic.Field(default=0.10, ge=0.0, le=0.5)
    #: largest acceptable self-preference, as a share of verdicts (pairwise).
    max_self_preference: float | None = pydantic.Field(default=0.10, ge=0.0, le=1.0)
    #: largest acceptable self-preference in score points (pointwise); off by default, since
    #: it depends on the scale.
    max_self_preference_score: float | None = pydantic.Field(default=None, ge=0.0)
    #: smallest acceptable kappa with the judge it agrees with best (see kappa_with_others).
    min_kappa: float | None = pydantic.Field(default=0.40, ge=-1.0, le=1.0)
    #: the length odds ratio per +100 tokens must lie within [1/x, x].
    max_length_odds_ratio: float | None = pydantic.Field(default=1.5, gt=1.0)
    #: smallest acceptable kappa with the human labels (when there are any).
    min_human_kappa: float | None = pydantic.Field(default=0.40, ge=-1.0, le=1.0)
    #: largest acceptable share of calls without a usable verdict or score.
    max_invalid_rate: float | None = pydantic.Field(default=0.20, ge=0.0, le=1.0)
    #: fewer items judged validly in both orders than this and position bias cannot be told.
    min_items: int = pydantic.Field(default=20, ge=1)
    #: largest acceptable shift of a judge's verdicts toward an edit that should not matter
    #: (a bias probe; see evalkit.probes): 0.10 lets one verdict in ten move with the cue, about
    #: the robustness loss CALM (2024) reports for strong judges; a flagged shift within it is
    #: questionable, beyond it untrusted. None switches the probe checks off.
    max_probe_shift: float | None = pydantic.Field(default=0.10, ge=0.0, le=2.0)
    #: a probe is flagged when its robustness rate is below the swap-only agreement at this
    #: significance (one-sided) and the shift's interval excludes 0.
    probe_alpha: float = pydantic.Field(default=0.05, gt=0.0, lt=1.0)
    #: fewer paired verdicts per (judge, probe) than this (5 items, 2 orders each) and the probe
    #: is not measured: its intervals would span most of the scale.
    min_probe_verdicts: int = pydantic.Field(default=10, ge=1)

    #: smallest acceptable accuracy on the qualification exam (pairs whose better answer is
    #: known). Chance is 0.5 (the exam places the good answer first in half the pairs); 0.75 is
    #: halfway to perfect on pairs made easy on purpose (one planted error in an otherwise
    #: identical text). A judge whose whole interval lies below it is untrusted.
    min_exam_accuracy: float | None = pydantic.Field(default=0.75, ge=0.0, le=1.0)
    #: fewer exam pairs judged validly than this and the exam cannot tell a judge at chance
    #: from a competent one: at 20 pairs a chance judge's Wilson interval (0.30-0.70) lies
    #: below 0.75 and a perfect judge's (0.84-1) above it; at 10 they both reach across it.
    min_exam_pairs: int = pydantic.Field(default=20, ge=1)


class ShardSpec(pydantic.BaseModel):
    """Which part of a run this process runs: shard ``index`` of ``count`` (1-based).

    Read from ``K/N`` (``--evalkit-shard=2/8`` or ``EVALKIT_SHARD=2/8``); which items fall in
    a shard is :func:`evalkit.records._shard.shard_of`'s business.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    index: int
    count: int

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        index, sep, count = value.strip().partition("/")
        if not sep or not index.strip().isdigit() or not count.strip().isdigit():
            raise ValueError(
                f"{value!r} is not K/N; write the shard's number and the number of shards, "
                "e.g. 2/8 for the second of eight"
            )
        return {"index": int(index), "count": int(count)}

    @pydantic.model_validator(mode="after")
    def _in_range(self) -> ShardSpec:
        if self.count < 1:
            raise ValueError(f"{self}: N must be at least 1; e.g. 1/4 for the first of four")
        if not 1 <= self.index <= self.count:
            raise ValueError(
                f"{self}: K must be between 1 and N ({self.count}); shards are numbered "
                f"1/{self.count} to {self.count}/{self.count}"
            )
        return self

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


class EvalkitConfig(pydantic.BaseModel):
    """Every setting of a run. Frozen: pass it around, never mutate it."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    #: litellm model string (or ``local/<name>``) of the model under test; by default the
    #: bundled SmolLM2, so that a project with no API key runs.
    candidate: str = "local/smollm2-135m-instruct"
    #: litellm model string (or ``local/<name>``) of the model it is compared with.
    baseline: str = "local/gemma-3-270m"
    #: OpenAI-compatible server of the candidate / baseline (vLLM, llama.cpp, a proxy…).
    candidate_api_base: str | None = None
    baseline_api_base: str | None = None
    #: name of a panel spec (``local``, ``api``, or a file stem in the project's judges/).
    panel: str = "local"
    cache_mode: CacheMode = "use"
    #: ask a judge again for a cached reply it could not parse (by default such a reply is
    #: replayed as unparseable: at temperature 0, asking again gives the same reply).
    retry_unparseable: bool = False
    cache_dir: Path = Path(".evalkit-cache")
    #: where the response cache lives: ``redis://host:port/db`` (or ``rediss://``) for a Redis
    #: server that every shard, runner and developer shares, or a folder path; unset, the
    #: ``responses`` folder under ``cache_dir``.
    cache_url: str | None = None
    #: seconds a new cache entry is kept before it expires; unset, entries never expire.
    cache_ttl_s: pydantic.PositiveFloat | None = pydantic.Field(default=None, allow_inf_nan=False)
    #: ``batch`` sends each phase's calls that miss the cache through the provider's batch API
    #: (about half the price, answers within hours; see :mod:`evalkit.models._batch`).
    execution: Execution = "interactive"
    #: seconds between two polls of a submitted batch.
    batch_poll_s: pydantic.PositiveFloat = pydantic.Field(default=30.0, allow_inf_nan=False)
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
    confidence: float = pydantic.Field(default=0.95, gt=CONFIDENCE_RANGE[0], lt=CONFIDENCE_RANGE[1])
    seed: int = 0
    #: the audit's tolerances, from the ``[tool.evalkit.reliability]`` table.
    reliability: ReliabilityThresholds = ReliabilityThresholds()
    #: run only this shard of every suite's items (``K/N``); ``evalkit merge`` joins the shards.
    shard: ShardSpec | None = None
    #: the id every shard of one run shares (e.g. the CI run's id); unset, each shard derives
    #: the same one from the config, the datasets, the evalkit version and the git commit.
    run_group: str | None = None

    @pydantic.field_validator("candidate", "baseline")
    @classmethod
    def _model_name(cls, value: str) -> str:
        # Unlike an api_base, where "" means "no server of its own", no model is called "":
        # refused here wherever it comes from, rather than read as "the default".
        if not value.strip():
            raise ValueError(
                "empty model name; give a litellm model string (e.g. openai/gpt-4o-mini) or "
                "local/<name>, or remove the setting to use the bundled default"
            )
        return value

    @pydantic.field_validator("candidate_api_base", "baseline_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value:  # "" means no server of its own, as None does
            check_api_base(value)
        return value

    @pydantic.field_validator("cache_url")
    @classmethod
    def _cache_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_cache_url(value)
        return value

    def cache_location(self) -> Path | str:
        """Where the response cache lives: a folder (a Path) or a Redis URL (a str)."""
        if not self.cache_url:  # "" in pyproject.toml is a deliberate "the default folder"
            return self.cache_dir
        return self.cache_url if is_url(self.cache_url) else Path(self.cache_url)

    def resolved(self, rootdir: Path) -> EvalkitConfig:
        """Return the config with its folders made absolute against the project root.

        Called once, where the config is read, so that nothing else has to know what a
        relative folder is relative to.
        """
        update: dict[str, Any] = {
            name: path if path.is_absolute() else rootdir / path
            for name in ("cache_dir", "reports_dir", "baselines_dir")
            for path in (getattr(self, name),)
        }
        location = self.cache_location()
        if isinstance(location, Path) and self.cache_url:
            update["cache_url"] = str(location if location.is_absolute() else rootdir / location)
        return self.model_copy(update=update)

    def digest(self) -> str:
        """A short hash of the settings that change results (shown in the report)."""
        data = self.model_dump(
            mode="json",
            exclude={
                "reports_dir",
                "cache_dir",
                "cache_url",
                "cache_ttl_s",
                "cache_mode",
                "retry_unparseable",
                "accept",
                "baselines_dir",
                "dry_run",
                # Every shard of a run has the same digest, and so has the merged run.
                "shard",
                "run_group",
                "execution",  # a batch gives the same answers, at another price
                "batch_poll_s",
            },
        )
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


#: Settings that are tables of their own in pyproject.toml, not single values.
_TABLES: Final = {"reliability": ReliabilityThresholds}
#: Environment variable → field. Any other ``EVALKIT_*`` variable is an error (a typo).
ENV_VARS: Final[Mapping[str, str]] = {
    f"EVALKIT_{name.upper()}": name for name in EvalkitConfig.model_fields if name not in _TABLES
}


def in_ci(environ: Mapping[str, str]) -> bool:
    """Whether the process runs in CI (the ``CI`` variable is true), as CI systems set it."""
    return environ.get("CI", "").lower() in ("1", "true", "yes")


def check_api_base(url: str) -> None:
    """Check that ``url`` is an http(s) URL, as litellm needs for an ``api_base``.

    Raises:
        ValueError: it is not (pydantic turns this into a message naming the key).
    """
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(
            f"{url!r} is not an http:// or https:// URL; write the server's full address, "
            "e.g. http://localhost:8000/v1"
        )


#: URL schemes ``cache_url`` accepts (any other ``scheme:`` is refused).
CACHE_URL_SCHEMES: Final = ("redis", "rediss")


def is_url(location: str) -> bool:
    """Whether a cache location is a URL (``scheme:…``) rather than a folder path.

    A scheme of two letters or more, so that a Windows drive (``C:/cache``) is a folder and
    a mistyped ``redis:/host`` is a URL, refused with a reason, not a folder named ``redis:``.
    """
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", location) is not None


def check_cache_url(url: str) -> None:
    """Check that ``url`` is a folder path or a usable ``redis://host:port/db`` URL.

    Raises:
        ValueError: an unknown scheme, a missing host, a port that is not a number from 1 to
            65535, a database that is not a whole number, or the redis package is not
            installed (pydantic turns this into a message naming the key). The message does
            not repeat the URL (nor its password).
    """
    if not is_url(url):
        return
    example = "e.g. redis://localhost:6379/0"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in CACHE_URL_SCHEMES:
        raise ValueError(
            f"the scheme {parts.scheme + ':'!r} is not supported; give a redis:// or "
            f"rediss:// URL ({example}) or a folder path"
        )
    try:
        port = parts.port  # None when absent: Redis's own 6379
    except ValueError:  # not a number, or past 65535
        port = 0
    if port == 0 or not parts.hostname:
        raise ValueError(f"give a host and a port from 1 to 65535 ({example})")
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"the database {database!r} is not a whole number ({example})")
    if importlib.util.find_spec("redis") is None:
        raise ValueError(
            "a Redis cache needs the redis package, which is not installed; install it with "
            "pip install 'evalkit[redis]'"
        )


def check_confidence(value: float, where: str) -> float:
    """Return ``value`` if it is a valid interval level.

    Raises:
        ConfigError: it is not strictly between 0.5 and 1 (or is not a number); the message
            names ``where`` (the flag or key it came from).
    """
    low, high = CONFIDENCE_RANGE
    if not low < value < high:  # also refuses nan, which fails every comparison
        raise ConfigError(
            f"{where}: {value!r} is not a confidence level; give one between {low} and {high} "
            "(exclusive), e.g. 0.95"
        )
    return value


def _did_you_mean(name: str, *, prefix: str = "", fields: list[str] | None = None) -> str:
    """`` (did you mean 'x'?)`` for the setting closest to ``name``, or an empty string.

    ``prefix`` (``EVALKIT_``) is set aside before comparing: shared by every variable, it would
    make any name look close to all of them.
    """
    key = name.removeprefix(prefix).lower()
    known = fields if fields is not None else list(EvalkitConfig.model_fields)
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return (
        f" (did you mean {prefix + match[0].upper() if prefix else match[0]!r}?)" if match else ""
    )


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
        ConfigError: a key or ``EVALKIT_*`` variable is unknown, a variable or flag is empty
            (an unset CI variable expanded to nothing must not silently select a default) or a
            value is invalid; the message names its source.
    """
    environ = environ or {}
    unknown = sorted(v for v in environ if v.startswith("EVALKIT_") and v not in ENV_VARS)
    unknown = [v for v in unknown if v not in OTHER_ENV_VARS]
    if unknown:
        raise ConfigError(
            "; ".join(
                f"environment variable {v}: not an evalkit setting"
                f"{_did_you_mean(v, prefix='EVALKIT_')}; rename or unset it"
                for v in unknown
            )
        )
    sources: dict[str, str] = {}
    merged: dict[str, Any] = {}
    for key, value in (pyproject or {}).items():
        merged[key] = value
        in_table = key in _TABLES and isinstance(value, Mapping)
        sources[key] = (
            f"{pyproject_path} [tool.evalkit.{key}]"
            if in_table
            else f"{pyproject_path} [tool.evalkit] {key}"
        )
    flagged: dict[str, None] = {}  # settings given by a variable or a flag, in order
    for var, field in ENV_VARS.items():
        if var in environ:
            merged[field] = environ[var]
            sources[field] = f"environment variable {var}"
            flagged[field] = None
    for key, value in (cli or {}).items():
        if value is not None:
            merged[key] = value
            sources[key] = f"option --evalkit-{key.replace('_', '-')}"
            flagged[key] = None
    # Only the variables and flags a CI system fills in: there, an empty value is a variable
    # that was not set, whereas "" written in pyproject.toml is a deliberate "none".
    empty = [key for key in flagged if isinstance(merged[key], str) and not merged[key].strip()]
    if empty:
        raise ConfigError(
            "; ".join(
                f"{sources[key]}: empty value; give a value or leave it unset "
                "(is a CI variable it expands missing?)"
                for key in empty
            )
        )
    try:
        config = EvalkitConfig.model_validate(merged)
    except pydantic.ValidationError as exc:
        raise ConfigError(_describe(exc, sources)) from None
    if config.execution == "batch" and config.cache_mode == "replay":
        raise ConfigError(
            f"{sources['execution']}: batch execution submits calls to providers, but "
            f"{sources['cache_mode']} is replay, which makes none; drop the batch execution "
            "to replay the cache, or set another cache mode to submit batches"
        )
    return config


def _describe(exc: pydantic.ValidationError, sources: Mapping[str, str]) -> str:
    lines = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        where = sources.get(field, field)
        model: type[pydantic.BaseModel] = EvalkitConfig
        if field in _TABLES and len(err["loc"]) > 1:
            # A key inside a nested table: name the table and the key, not the whole table.
            model, field = _TABLES[field], str(err["loc"][1])
            where = f"{where} {field}"
        if err["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            hint = _did_you_mean(field, fields=list(model.model_fields))
            lines.append(f"{where}: unknown setting {field!r}{hint}; known settings: {known}")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            # Redacted: a cache_url may carry a Redis password.
            lines.append(f"{where}: {msg} (got {redact(repr(err.get('input')))})")
    return "; ".join(lines)


def check_folders(config: EvalkitConfig) -> None:
    """Check, before any call, that the run can write its cache and its reports.

    Creates nothing: a folder that does not exist yet only needs a writable place to be made.

    Raises:
        ConfigError: ``cache_dir`` or ``reports_dir`` is a file, or cannot be created or
            written; the message names the setting and the path.
    """
    for name in ("cache_dir", "reports_dir"):
        path: Path = getattr(config, name)
        problem = _folder_problem(path)
        if problem:
            flag = name.replace("_", "-")
            raise ConfigError(
                f"{name} {path}: {problem}; choose another folder with --evalkit-{flag}, "
                f"EVALKIT_{name.upper()} or {name} under [tool.evalkit]"
            )
    location = config.cache_location()
    if config.cache_url and isinstance(location, Path) and (problem := _folder_problem(location)):
        raise ConfigError(
            f"cache_url {location}: {problem}; choose another folder or a redis:// URL with "
            "--evalkit-cache-url, EVALKIT_CACHE_URL or cache_url under [tool.evalkit]"
        )


def _folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot serve as a writable folder, or None."""
    if path.exists():
        if not path.is_dir():
            return "is a file, not a folder"
        return None if os.access(path, os.W_OK | os.X_OK) else "is not writable"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot be created, because {parent} is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created, because {parent} is not writable"
    return None
