"""evalkit's pytest plugin: options, the session fixture, and the end-of-run summary.

Registered through the ``pytest11`` entry point. It stays thin: it reads the configuration
once into :class:`~evalkit.config.EvalkitConfig`, keeps one
:class:`~evalkit.session.EvalSession` on ``config.stash``, and leaves all the work to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from evalkit._runid import new_run_id
from evalkit.config import EvalkitConfig, check_folders, load_config, read_pyproject
from evalkit.errors import UsageError

# Imported lazily: collecting a test module must not import litellm or pandas' stack.
_session_key = pytest.StashKey["Any"]()
_config_key = pytest.StashKey[EvalkitConfig]()
_run_id_key = pytest.StashKey[str]()
_run_key = pytest.StashKey["Any"]()  # a ClosedRun, or None
_started_key = pytest.StashKey[float]()

_OPTIONS: tuple[tuple[str, str, Any, str], ...] = (
    ("candidate", "MODEL", str, "model under test (litellm model string or local/<name>)"),
    ("candidate-api-base", "URL", str, "OpenAI-compatible server of the candidate"),
    ("baseline", "MODEL", str, "model the candidate is compared with"),
    ("baseline-api-base", "URL", str, "OpenAI-compatible server of the baseline"),
    ("panel", "NAME", str, "judge panel: a spec name from judges/ (e.g. local, api)"),
    ("cache-mode", "MODE", str, "response cache: use, refresh, off or replay"),
    ("cache-dir", "DIR", str, "response cache folder"),
    ("reports-dir", "DIR", str, "folder that receives reports/<run-id>/"),
    ("concurrency", "N", int, "most calls in flight at once, per model"),
    ("timeout-s", "SECONDS", float, "per-attempt timeout of a model call"),
    ("max-retries", "N", int, "retries of a transient failure"),
    ("budget-usd", "USD", float, "stop before spending more than this"),
    ("max-calls", "N", int, "stop before making more calls than this"),
    ("inconclusive", "POLICY", str, "what an inconclusive gate does: fail or warn"),
    ("seed", "N", int, "seed for bootstrap intervals"),
    ("baselines-dir", "DIR", str, "folder of accepted runs (for the no_regression gate)"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--evalkit-*`` options."""
    group = parser.getgroup("evalkit", "evalkit: LLM evaluation with audited judge panels")
    for name, metavar, kind, help_text in _OPTIONS:
        group.addoption(
            f"--evalkit-{name}",
            dest=f"evalkit_{name.replace('-', '_')}",
            metavar=metavar,
            type=kind,
            default=None,
            help=help_text,
        )
    group.addoption(
        "--evalkit-dry-run",
        dest="evalkit_dry_run",
        action="store_const",
        const=True,
        default=None,
        help="print the calls, tokens and estimated cost of the run, and make no call",
    )
    group.addoption(
        "--evalkit-accept",
        dest="evalkit_accept",
        action="store_const",
        const=True,
        default=None,
        help="record this run as the accepted one that later runs are compared with",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Read the configuration once; a bad value stops pytest with a message naming it."""
    rootdir = Path(str(config.rootpath))
    cli = {
        name.replace("-", "_"): config.getoption(f"evalkit_{name.replace('-', '_')}")
        for name, *_ in _OPTIONS
    }
    cli["accept"] = config.getoption("evalkit_accept")
    cli["dry_run"] = config.getoption("evalkit_dry_run")
    try:
        settings = load_config(
            pyproject=read_pyproject(rootdir),
            environ=os.environ,
            cli=cli,
            pyproject_path=rootdir / "pyproject.toml",
        ).resolved(rootdir)
        check_folders(settings)
    except UsageError as exc:
        raise pytest.UsageError(f"evalkit: {exc}") from None
    config.stash[_config_key] = settings
    config.stash[_started_key] = time.time()
    if settings.dry_run and getattr(config.option, "numprocesses", None):
        # A dry run makes no call and runs no test: there is nothing to distribute. Runs before
        # xdist's own configure (tryfirst), which then starts no workers.
        config.option.numprocesses, config.option.dist, config.option.tx = 0, "no", []
    workerinput = getattr(config, "workerinput", None)
    config.stash[_run_id_key] = (
        workerinput["evalkit_run_id"] if workerinput and "evalkit_run_id" in workerinput
        else new_run_id()
    )  # fmt: skip
    # litellm hides this pydantic import-time warning with a global filter, which pytest's
    # per-test filters override; under filterwarnings=error it would fail the first model call.
    config.addinivalue_line("filterwarnings", "ignore:.*`ReadOnly` qualifier:UserWarning")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Under pytest-xdist, give every worker the controller's run id: one run, one folder."""
    node.workerinput["evalkit_run_id"] = node.config.stash[_run_id_key]


def _session(config: pytest.Config) -> Any:
    if _session_key not in config.stash:
        from evalkit.session import EvalSession

        workerinput = getattr(config, "workerinput", None)
        config.stash[_session_key] = EvalSession(
            config.stash[_config_key],
            Path(str(config.rootpath)),
            ci=_in_ci(),
            run_id=config.stash[_run_id_key],
            worker=workerinput["workerid"] if workerinput else None,
            progress=_progress_writer(config),
        )
    return config.stash[_session_key]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _progress_writer(config: pytest.Config) -> Any:
    """A function that prints a progress line past pytest's output capture (None: silent)."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    if reporter is None or getattr(config, "workerinput", None) is not None:
        return None

    def write(line: str) -> None:
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)
        else:
            reporter.write_line(line)

    return write


@pytest.fixture(scope="session")
def evalkit_session(request: pytest.FixtureRequest) -> Any:
    """The run's :class:`~evalkit.session.EvalSession` (created on first use)."""
    return _session(request.config)


@pytest.fixture(scope="session")
def evalkit_config(request: pytest.FixtureRequest) -> EvalkitConfig:
    """The run's validated configuration."""
    return request.config.stash[_config_key]


@pytest.fixture(scope="session")
def evalkit_candidate(evalkit_config: EvalkitConfig) -> str:
    """The configured candidate model (a litellm model string or ``local/<name>``)."""
    from evalkit.session import DEFAULT_CANDIDATE

    return evalkit_config.candidate or DEFAULT_CANDIDATE


@pytest.fixture(scope="session")
def evalkit_baseline(evalkit_config: EvalkitConfig) -> str:
    """The configured baseline model."""
    from evalkit.session import DEFAULT_BASELINE

    return evalkit_config.baseline or DEFAULT_BASELINE


@pytest.fixture(scope="session")
def evalkit_panel(evalkit_session: Any) -> Any:
    """The configured panel, validated (:class:`evalkit.judging.Panel`)."""
    return evalkit_session.registry.panel(evalkit_session.config.panel)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Check every suite's inputs before the first test runs; stop pytest on a problem."""
    suites = {}
    modules: dict[str, dict[int, Path]] = {}  # suite name -> suite object -> its module
    for item in items:
        suite = getattr(getattr(item, "function", None), "evalkit_suite", None)
        if suite is not None:
            suites[id(suite)] = suite
            modules.setdefault(suite.name, {}).setdefault(id(suite), Path(str(item.path)))
    if not suites:
        return
    for name, where in modules.items():
        if len(where) > 1:
            # Results are kept by suite name: a second suite of the same name would be graded
            # by the first one's results. Refuse it, naming both places.
            paths = " and ".join(sorted({str(p) for p in where.values()}))
            pytest.exit(
                f"evalkit: two suites are named {name!r} ({paths}); give each suite its own name",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )
    try:
        _session(config).preflight(suites.values())
    except UsageError as exc:
        pytest.exit(f"evalkit: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    if config.stash[_config_key].dry_run:
        # Print what the run would call, then end pytest before any test runs: pytest.exit
        # rather than deselecting everything, which would exit 5 ("no tests ran").
        from evalkit.session._plan import plan_suites

        try:
            plan = plan_suites(_session(config), suites.values())
        except UsageError as exc:
            pytest.exit(f"evalkit: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        write = _progress_writer(config) or print
        for line in plan.lines():
            write(line)
        pytest.exit("evalkit: dry run, no call made", returncode=pytest.ExitCode.OK)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop local models, and write run.json and the report (the xdist controller merges)."""
    config = session.config
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if _session_key in config.stash:
        config.stash[_run_key] = config.stash[_session_key].finish(interrupted=interrupted)
    elif getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        from evalkit.session import finalize_run

        settings = config.stash[_config_key]
        config.stash[_run_key] = finalize_run(
            settings.reports_dir / config.stash[_run_id_key], settings, suites=[], errors={},
            started=session.config.stash.get(_started_key, 0.0), interrupted=interrupted,
        )  # fmt: skip


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the one-screen summary of every suite that ran."""
    run = config.stash.get(_run_key, None)
    if not run:
        return
    from evalkit.session import summary_lines

    lines = summary_lines(run)
    if lines:
        terminalreporter.section("evalkit")
        for line in lines:
            terminalreporter.write_line(line)
