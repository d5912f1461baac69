"""One evalkit project on disk, for the tests that run suites in a pytest subprocess.

:func:`make_project` writes what a user's project holds: ``pyproject.toml`` whose
``[tool.evalkit]`` points the candidate and baseline (simulated writers) at the fake provider,
``judges/`` with one YAML file per simulated judge and a panel named ``sim``, and ``suites/``
with a dataset and a suite module. :func:`run_pytest` runs ``pytest suites/`` there, in an
environment cleaned of the caller's evalkit and pytest settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit import Suite
from evalkit.config import EvalkitConfig
from evalkit.session import EvalSession
from evalkit.session._result import SuiteResult
from evalkit.testing import FakeProvider

#: The API key every run sends; evalkit must never write it anywhere.
SECRET = "sk-evalkit-SECRET-4242"
N_ITEMS = 40
GATES = "[evalkit.gates.WinRate(at_least=0.5, min_items=20)]"
#: Simulated judges by name, with their families: ``sim-judge-<name>`` on the fake provider.
JUDGES: Mapping[str, str] = {"fair": "anthropic", "first": "google"}
#: Retry settings fast enough for tests; a caller's ``settings`` may override them.
FAST_RETRIES: Mapping[str, object] = {"max_retries": 1, "backoff_s": 0.01}


def numbered_rows(n_items: int = N_ITEMS) -> list[dict[str, object]]:
    """The default dataset: ``q00``, ``q01``, ... with a question each."""
    return [{"id": f"q{i:02d}", "question": f"Question number {i}?"} for i in range(n_items)]


def make_project(
    root: Path,
    fake: FakeProvider,
    *,
    candidate_q: float = 0.8,
    baseline_q: float = 0.4,
    gates: str = GATES,
    n_items: int = N_ITEMS,
    rows: Sequence[Mapping[str, object]] | None = None,
    settings: Mapping[str, object] = FAST_RETRIES,
    judges: Mapping[str, str] = JUDGES,
    judge_params: str | None = "{max_tokens: 50}",
    panel: str = "quorum: 1\n",
) -> Path:
    """Write a project under ``root`` (created if needed) and return ``root``.

    The candidate and baseline are ``sim-writer`` models of quality ``candidate_q`` and
    ``baseline_q``; ``settings`` are more ``[tool.evalkit]`` keys (they override the models'
    keys too); ``panel`` is appended to the panel file after its ``judges:`` line;
    ``judge_params`` is each judge's ``params`` mapping (None for none); ``rows`` replaces
    the ``n_items`` numbered rows. Writing again over a project replaces its files.
    """
    (root / "judges").mkdir(parents=True, exist_ok=True)
    (root / "suites").mkdir(exist_ok=True)
    config: dict[str, object] = {
        "candidate": f"openai/sim-writer-openai-q{candidate_q:.2f}",
        "candidate_api_base": fake.base_url,
        "baseline": f"openai/sim-writer-meta-q{baseline_q:.2f}",
        "baseline_api_base": fake.base_url,
        "panel": "sim",
        **settings,
    }
    config.setdefault("reports_dir", "out/reports")
    config.setdefault("cache_dir", "out/cache")
    (root / "pyproject.toml").write_text(
        "[tool.evalkit]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in config.items())
    )
    params = "" if judge_params is None else f"params: {judge_params}\n"
    for name, family in judges.items():
        (root / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {fake.base_url}\ntemplate: pairwise_chat.j2\n{params}"
        )
    (root / "judges" / "sim.yaml").write_text(
        f"kind: panel\njudges: [{', '.join(judges)}]\n{panel}"
    )
    data = numbered_rows(n_items) if rows is None else rows
    (root / "suites" / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data))
    (root / "suites" / "test_sim.py").write_text(
        "import evalkit\n"
        f"suite = evalkit.Suite('sim', dataset='data.jsonl', gates={gates})\n"
        "test_item, test_gate = suite.tests()\n"
    )
    return root


def clean_env(api_key: str = SECRET) -> dict[str, str]:
    """This process's environment without evalkit, pytest or CI settings, plus ``api_key``.

    ``api_key`` goes in ``OPENAI_API_KEY``, where litellm reads it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALKIT_", "PYTEST_", "CI"))}
    env["OPENAI_API_KEY"] = api_key
    return env


def run_pytest(
    root: Path, *args: str, api_key: str = SECRET, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``pytest suites/`` in ``root`` with :func:`clean_env`; return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "-p", "no:cacheprovider", "-q", *args],
        cwd=root, env=clean_env(api_key), capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def run_dir(root: Path) -> Path:
    """The one run folder under ``root/out/reports``."""
    (only,) = [p for p in (root / "out" / "reports").iterdir() if p.is_dir()]
    return only


def _toml(value: object) -> str:
    """A TOML value: strings quoted (JSON's quoting is valid TOML), numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def write_scored_panel(root: Path, base_url: str) -> None:
    """``judges/``: one pointwise rubric judge ``fair`` (``sim-judge-fair``) and its panel ``p``."""
    (root / "judges").mkdir()
    (root / "judges" / "fair.yaml").write_text(
        f"kind: judge\nmodel: openai/sim-judge-fair\nfamily: anthropic\napi_base: {base_url}\n"
        "mode: pointwise\ntemplate: rubric_chat.j2\nparser: rating\nscale: {min: 1, max: 10}\n"
    )
    (root / "judges" / "p.yaml").write_text(
        "kind: panel\njudges: [fair]\naggregation: mean\nquorum: 1\n"
    )


def write_pairwise_panel(
    root: Path, base_url: str, judges: Mapping[str, str], *, panel: str = ""
) -> None:
    """``judges/``: a pairwise judge per name (``sim-judge-<name>`` of the family given) and
    their panel ``p``, the judges in the order given; ``panel`` adds lines to the panel spec."""
    (root / "judges").mkdir()
    for name, family in judges.items():
        (root / "judges" / f"{name}.yaml").write_text(
            f"kind: judge\nmodel: openai/sim-judge-{name}\nfamily: {family}\n"
            f"api_base: {base_url}\ntemplate: pairwise_chat.j2\n"
        )
    (root / "judges" / "p.yaml").write_text(f"kind: panel\njudges: [{', '.join(judges)}]\n{panel}")


def scored_session(root: Path, **settings: Any) -> EvalSession:
    """A session over ``root`` with the panel of :func:`write_scored_panel`; fast, no retries."""
    config = EvalkitConfig.model_validate(
        {"panel": "p", "cache_dir": root / "cache", "reports_dir": root / "reports",
         "max_retries": 0, "backoff_s": 0.01, **settings}
    )  # fmt: skip
    return EvalSession(config, root)


def scored_suite(root: Path, candidate: Any, **fields: Any) -> Suite:
    """The pointwise suite ``s`` over ``root/data.jsonl``, judging ``candidate``."""
    return Suite("s", dataset="data.jsonl", base_dir=root, mode="pointwise", candidate=candidate,
                 **fields)  # fmt: skip


def run_scored(
    root: Path, candidate: Any, *, settings: Mapping[str, Any] | None = None, **fields: Any
) -> SuiteResult:
    """Run :func:`scored_suite` in a :func:`scored_session` (``settings`` override the config)."""
    session = scored_session(root, **(settings or {}))
    try:
        return session.suite_result(scored_suite(root, candidate, **fields))
    finally:
        session.finish()


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its SHA-256: to prove nothing changed."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }  # fmt: skip
