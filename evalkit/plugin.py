"""evalkit's pytest plugin: options, the session fixture, and the end-of-run summary.

Registered through the ``pytest11`` entry point. It stays thin: it reads the configuration
once into :class:`~evalkit.config.EvalkitConfig`, keeps one
:class:`~evalkit.session.EvalSession` on ``config.stash``, and leaves all the work to it.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from evalkit import _loading_gc
from evalkit._profile import Profile, process_age_s
from evalkit._runid import new_run_id
from evalkit.config import EvalkitConfig, check_folders, in_ci, load_config, read_pyproject
from evalkit.errors import UsageError

# Imported lazily: collecting a test module must not import litellm or pandas' stack.
_session_key = pytest.StashKey["Any"]()
_config_key = pytest.StashKey[EvalkitConfig]()
_run_id_key = pytest.StashKey[str]()
_run_key = pytest.StashKey["Any"]()  # a ClosedRun, or None
_started_key = pytest.StashKey[float]()
_interrupts_key = pytest.StashKey["Any"]()
_pytest_session_key = pytest.StashKey[pytest.Session]()
_profile_key = pytest.StashKey[Profile]()
_exit_started_key = pytest.StashKey[float]()
_gc_paused_key = pytest.StashKey[bool]()

_OPTIONS: tuple[tuple[str, str, Any, str], ...] = (
    ("candidate", "MODEL", str, "model under test (litellm model string or local/<name>)"),
    ("candidate-api-base", "URL", str, "OpenAI-compatible server of the candidate"),
    ("baseline", "MODEL", str, "model the candidate is compared with"),
    ("baseline-api-base", "URL", str, "OpenAI-compatible server of the baseline"),
    ("panel", "NAME", str, "judge panel: a spec name from judges/ (e.g. local, api)"),
    ("cache-mode", "MODE", str, "response cache: use, refresh, off or replay"),
    ("cache-dir", "DIR", str, "response cache folder"),
    ("cache-url", "URL", str, "shared response cache: redis://host:port/db, or a folder"),
    ("cache-ttl-s", "SECONDS", float, "seconds a new cache entry is kept (default: forever)"),
    ("execution", "MODE", str, "interactive, or batch: each phase's calls as provider batches"),
    ("reports-dir", "DIR", str, "folder that receives reports/<run-id>/"),
    ("concurrency", "N", int, "most calls in flight at once, per model"),
    ("timeout-s", "SECONDS", float, "per-attempt timeout of a model call"),
    ("max-retries", "N", int, "retries of a transient failure"),
    ("budget-usd", "USD", float, "stop before spending more than this"),
    ("max-calls", "N", int, "stop before making more calls than this"),
    ("inconclusive", "POLICY", str, "what an inconclusive gate does: fail or warn"),
    ("seed", "N", int, "seed for bootstrap intervals"),
    ("baselines-dir", "DIR", str, "folder of accepted runs (for the no_regression gate)"),
    ("shard", "K/N", str, "run shard K of N of every suite's items; `evalkit merge` joins them"),
    ("run-group", "ID", str, "the id all shards of one run share (default: derived)"),
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
    group.addoption(
        "--evalkit-retry-unparseable",
        dest="evalkit_retry_unparseable",
        action="store_const",
        const=True,
        default=None,
        help="ask judges again for cached replies that could not be parsed (and replace them)",
    )
    group.addoption(
        "--evalkit-profile",
        dest="evalkit_profile",
        action="store_true",
        help="print each phase's wall time and share of the run at the end",
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
    cli["retry_unparseable"] = config.getoption("evalkit_retry_unparseable")
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
    controller = getattr(config.option, "numprocesses", None) and not _is_worker(config)
    if _owns_process(config) and not controller:
        # Until the preflight has loaded everything (see evalkit._loading_gc). Not in an xdist
        # controller, which collects nothing and so would never reach the end of loading.
        config.stash[_gc_paused_key] = _loading_gc.pause()
    if config.getoption("evalkit_profile"):
        clock = time.perf_counter
        config.stash[_profile_key] = Profile(clock, started=clock() - process_age_s())
    if settings.dry_run and getattr(config.option, "numprocesses", None):
        # A dry run makes no call and runs no test: there is nothing to distribute. Runs before
        # xdist's own configure (tryfirst), which then starts no workers.
        config.option.numprocesses, config.option.dist, config.option.tx = 0, "no", []
    workerinput = getattr(config, "workerinput", None)
    config.stash[_run_id_key] = (
        workerinput["evalkit_run_id"] if workerinput and "evalkit_run_id" in workerinput
        else new_run_id()
    )  # fmt: skip
    _install_interrupts(config)
    # litellm hides this pydantic import-time warning with a global filter, which pytest's
    # per-test filters override; under filterwarnings=error it would fail the first model call.
    config.addinivalue_line("filterwarnings", "ignore:.*`ReadOnly` qualifier:UserWarning")


def _install_interrupts(config: pytest.Config) -> None:
    """Answer Ctrl-C and SIGTERM from here to the end of the run (see ``session._signals``).

    Installed now, not when the first suite starts: a signal at any moment of the run must
    leave a report. Under xdist the controller only records a signal and forwards it to the
    workers, which stop their calls, and it writes the report once they have finished.
    """
    from evalkit.session._signals import RunInterrupts

    interrupts = RunInterrupts.from_environ(os.environ)
    run_dir = config.stash[_config_key].reports_dir / config.stash[_run_id_key]
    if getattr(config, "workerinput", None) is not None:
        interrupts.follow_controller(run_dir)
    elif getattr(config.option, "numprocesses", None):
        interrupts.forward_to_workers(run_dir)
        interrupts.hold()
    interrupts.install()
    config.stash[_interrupts_key] = interrupts


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
            interrupts=config.stash[_interrupts_key],
            profile=config.stash.get(_profile_key, None),
        )
    return config.stash[_session_key]


def _in_ci() -> bool:
    return in_ci(os.environ)


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
    return evalkit_config.candidate


@pytest.fixture(scope="session")
def evalkit_baseline(evalkit_config: EvalkitConfig) -> str:
    """The configured baseline model."""
    return evalkit_config.baseline


@pytest.fixture(scope="session")
def evalkit_panel(evalkit_session: Any) -> Any:
    """The configured panel, validated (:class:`evalkit.judging.Panel`)."""
    return evalkit_session.registry.panel(evalkit_session.config.panel)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Check every suite's inputs before the first test runs; stop pytest on a problem."""
    try:
        _check_suites(session, config, items)
    finally:
        _resume_gc(config)


def _check_suites(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    suites = {}
    modules: dict[str, dict[int, Path]] = {}  # suite name -> suite object -> its module
    for item in items:
        suite = getattr(getattr(item, "function", None), "evalkit_suite", None)
        if suite is not None:
            suites[id(suite)] = suite
            modules.setdefault(suite.name, {}).setdefault(id(suite), Path(str(item.path)))
    if not suites:
        return
    profile = config.stash.get(_profile_key, None) or Profile()
    profile.add("imports", profile.now() - profile.started)
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
        with profile.phase("preflight"):
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
    if config.stash[_config_key].shard is not None:
        # After the dry run, which writes nothing: a shard's run writes its folder.
        _keep_shard(config, items, suites, {n: next(iter(w.values())) for n, w in modules.items()})


def _keep_shard(
    config: pytest.Config,
    items: list[pytest.Item],
    suites: dict[int, Any],
    modules: dict[str, Path],
) -> None:
    """Deselect the tests of other shards' items, and say which shard of which run this is.

    A suite with no item in this shard is not run at all: its gate tests go too.
    """
    from evalkit._version import __version__
    from evalkit.records._shard import in_shard, shard_of, shard_record

    settings = config.stash[_config_key]
    shard = settings.shard
    assert shard is not None
    rootdir = Path(str(config.rootpath))
    items_of = {suite.name: suite.items() for suite in suites.values()}
    where = {
        name: str(path.relative_to(rootdir) if path.is_relative_to(rootdir) else path)
        for name, path in modules.items()
    }
    _session(config).shard = shard_record(
        shard, suites={name: (items_of[name], where[name]) for name in items_of},
        run_group=settings.run_group, config_digest=settings.digest(),
        evalkit_version=__version__,
        commit=None if settings.run_group else _git_commit(rootdir),
    )  # fmt: skip
    mine = {name for name, all_items in items_of.items()
            if in_shard(name, all_items, shard.index, shard.count)}  # fmt: skip
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        suite = getattr(getattr(item, "function", None), "evalkit_suite", None)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if suite is None:
            keep.append(item)
        elif "evalkit_item_id" in params:
            # (candidate label or None, item id): every pair of an item is in the item's shard.
            _, item_id = params["evalkit_item_id"]
            ours = shard_of(suite.name, item_id, shard.count) == shard.index
            (keep if ours else drop).append(item)
        else:
            (keep if suite.name in mine else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _git_commit(rootdir: Path) -> str | None:
    """The commit checked out at ``rootdir`` (None outside git): part of the derived run group."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=rootdir, capture_output=True, text=True,
            timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Under ``--evalkit-profile``, count pytest's own work on each test as the ``tests`` phase."""
    profile = item.config.stash.get(_profile_key, None)
    if profile is None:
        return (yield)
    with profile.outside_phases("tests"):
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Start no test once a signal has stopped the run."""
    interrupts = item.config.stash[_interrupts_key]
    interrupts.raise_if_interrupted()
    if interrupts.interrupted:
        # An xdist worker: stopped between tests, not inside one, which xdist takes for a
        # crash; the controller sees shouldstop, stops the others, and exits 2.
        item.session.shouldstop = f"evalkit: interrupted by {interrupts.received}"
        pytest.skip(item.session.shouldstop)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """In an xdist worker, run no further test once a signal has stopped the run."""
    interrupts = item.config.stash[_interrupts_key]
    if interrupts.interrupted:
        item.session.shouldstop = f"evalkit: interrupted by {interrupts.received}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop local models, and write run.json and the report (the xdist controller merges).

    A first signal while this runs waits for the report, then the run exits 2; a second one
    aborts it.
    """
    config = session.config
    interrupts = config.stash[_interrupts_key]
    config.stash[_pytest_session_key] = session
    profile = config.stash.get(_profile_key, None) or Profile()
    try:
        with interrupts.protect(), profile.phase("report"):
            config.stash[_run_key] = _close_run(
                config, interrupted=exitstatus == pytest.ExitCode.INTERRUPTED
            )
            _mark_late_interrupt(config)
    except KeyboardInterrupt:
        config.stash[_run_key] = None
    # From here on a signal is only recorded: pytest_unconfigure marks the run interrupted.
    interrupts.hold()
    if interrupts.aborted:
        run_dir = config.stash[_config_key].reports_dir / config.stash[_run_id_key]
        sys.stderr.write(
            "evalkit: aborted by a second signal: no report written; the rows written so far "
            f"are in {run_dir}, and a rerun takes the finished calls from the cache\n"
        )
    if interrupts.interrupted:
        session.exitstatus = pytest.ExitCode.INTERRUPTED
    elif exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and _shard_ran(config):
        # A shard that none of the items fell to has run: its (empty) folder joins the merge.
        session.exitstatus = pytest.ExitCode.OK
    config.stash[_exit_started_key] = profile.now()


def _shard_ran(config: pytest.Config) -> bool:
    """Whether this process ran a shard of a run and closed it (its run.json is written)."""
    run = config.stash.get(_run_key, None)
    return run is not None and run.record.shard is not None


def _close_run(config: pytest.Config, *, interrupted: bool) -> Any:
    from evalkit.session._finalize import finalize_run

    interrupts = config.stash[_interrupts_key]
    if _session_key in config.stash:
        run = config.stash[_session_key].finish(interrupted=interrupted)
    elif getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        # The workers have finished: the stop file goes with the rest of the handoff folder.
        interrupts.forward_to_workers(None)
        if interrupts.aborted:
            return None
        settings = config.stash[_config_key]
        run = finalize_run(
            settings.reports_dir / config.stash[_run_id_key], settings, suites=[], errors={},
            started=config.stash.get(_started_key, 0.0),
            interrupted=interrupted or interrupts.interrupted,
        )  # fmt: skip
    else:
        return None
    return run


def _mark_late_interrupt(config: pytest.Config) -> bool:
    """Mark the closed run interrupted if a signal came after it was found complete.

    Returns whether it did. Called when the run closes and again when pytest unconfigures:
    a signal can land while the report is written or while the summary is printed.
    """
    run = config.stash.get(_run_key, None)
    interrupts = config.stash[_interrupts_key]
    if run is None or not interrupts.interrupted or run.record.status == "interrupted":
        return False
    from evalkit.session._finalize import mark_interrupted

    config.stash[_run_key] = mark_interrupted(run.report.parent)
    return True


def pytest_unconfigure(config: pytest.Config) -> None:
    """Mark the run interrupted if a signal came after its report; give the signals back.

    Under ``--evalkit-profile``, print where the run's time went. Then, if the process was
    started for this run, leave the objects alive now out of the garbage collections still
    to come (see :func:`_freeze_for_exit`).
    """
    profile = config.stash.get(_profile_key, None)
    if profile is not None:
        if _exit_started_key in config.stash:
            profile.add("exit", profile.now() - config.stash[_exit_started_key])
        sys.stdout.write("\n".join(profile.lines()) + "\n")
    _resume_gc(config)  # a run stopped before its collection ended
    interrupts = config.stash.get(_interrupts_key, None)
    if interrupts is None:
        return
    session = config.stash.get(_pytest_session_key, None)
    if interrupts.interrupted and not interrupts.aborted and session is not None:
        session.exitstatus = pytest.ExitCode.INTERRUPTED
        if _mark_late_interrupt(config):
            sys.stderr.write("evalkit: interrupted after the report was written: "
                             "run.json and the report now say so\n")  # fmt: skip
    interrupts.uninstall()
    _freeze_for_exit(config)


def _freeze_for_exit(config: pytest.Config) -> None:
    """Exclude every object alive now from later garbage collections (``gc.freeze``).

    What follows is the process's exit: pytest's own collections for unraisable exceptions
    and the interpreter's at shutdown, each walking every object the run imported (litellm's
    tables and models alone take seconds, the longest part of a run over a warm cache). They
    can only find cycles among these objects, which the exit frees anyway. Only when the
    process was started for this run (its command line holds this run's arguments): a
    ``pytest.main()`` called by a program or by another pytest's test returns to a process
    that goes on, and would keep those cycles for good.
    """
    if _owns_process(config):
        gc.freeze()


def _owns_process(config: pytest.Config) -> bool:
    """Whether this process was started for this run (its command line holds this run's arguments).

    Not so for a ``pytest.main()`` called by a program or by another pytest's test: that process
    goes on after the run, and must keep collecting its garbage.
    """
    if _is_worker(config):
        return True  # started by pytest-xdist for this run, and ends with it
    return tuple(config.invocation_params.args) == tuple(sys.argv[1:])


def _is_worker(config: pytest.Config) -> bool:
    """Whether this is a pytest-xdist worker's configuration."""
    return getattr(config, "workerinput", None) is not None


def _resume_gc(config: pytest.Config) -> None:
    """End the pause of the garbage collector begun at configure, if it is still on."""
    _loading_gc.resume(config.stash.get(_gc_paused_key, False))
    config.stash[_gc_paused_key] = False


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the one-screen summary of every suite that ran."""
    run = config.stash.get(_run_key, None)
    if not run:
        return
    from evalkit.session import summary_lines

    config.stash[_interrupts_key].checkpoint("summary")
    lines = summary_lines(run)
    if lines:
        terminalreporter.section("evalkit")
        for line in lines:
            terminalreporter.write_line(line)
