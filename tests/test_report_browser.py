"""The report in a real browser: headless Chromium driven over the DevTools protocol.

The report is produced by a whole suite run (pytest in a subprocess) against the fake provider:
simulated writers, and simulated judges with a position bias, parse failures and failed calls
whose provider error echoes the request's Authorization header. The browser must open it
without a console error, show the gates and every chart, filter the item table and open an
item's drill-down. A screenshot is kept under reports/screenshots/ as a CI artifact.

Skipped only when Chromium is absent, and never in CI (``CI=true``): there it must be present.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _project import make_project, run_pytest
from test_report_runs import write_run

from evalkit.records._store import REPORT_FILE
from evalkit.report import load_run, render
from evalkit.testing import FakeProvider, Fault, JudgeParams, ModelBehaviour

# The everyday loop (-m 'not slow') leaves these out: drives headless Chromium.
pytestmark = pytest.mark.slow

SECRET = "sk-evalkit-BROWSER-SECRET-9876"
N_ITEMS = 30
CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000", "--remote-debugging-port=0", "--remote-allow-origins=*",
    "--disable-breakpad", "--disable-crash-reporter",
)  # fmt: skip


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but no chromium on PATH: install Debian's chromium package")
        pytest.skip("chromium is not installed")
    return CHROMIUM


class Browser:
    """A headless Chromium page, driven over the DevTools protocol (one websocket)."""

    def __init__(self, binary: str, profile: Path) -> None:
        from websockets.sync.client import connect

        # Debian's chromium is a shell script that starts the real browser as a child: give it
        # a process group of its own, so that closing stops every process it started.
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools server")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        # No proxy: the DevTools server is on loopback whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t["type"] == "page")
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None)
        )
        self.events: list[dict[str, Any]] = []
        self._id = 0
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result, keeping the events that arrive meanwhile."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.events.clear()
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(url)
            self.events.append(json.loads(self.ws.recv(timeout=60)))

    def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page and return its value (JSON-serialisable)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser-reported errors (CSP, network)."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", "")[:500])
        return out

    def screenshot(self, path: Path, *, full_page: bool = False) -> None:
        """Save a PNG of the viewport (or of the whole page)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **params)["data"]))

    def close(self) -> None:
        """Close the connection and stop the browser with every process it started."""
        stack = getattr(self, "_stack", None)
        if stack is not None:
            with contextlib.suppress(Exception):
                self.send("Browser.close")
            stack.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever did not stop in time
        self.proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chrome = Browser(_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chrome
    finally:
        chrome.close()


def _project(root: Path, fake: FakeProvider) -> Path:
    """A project like the example suite, on simulated models behind the fake provider."""
    tags = ("math", "history", "code")
    rows = [
        {"id": f"q{i:02d}", "question": f"Question number {i}?", "tags": [tags[i % 3]]}
        for i in range(N_ITEMS)
    ]
    judges = {"fair": "anthropic", "first": "google", "flaky": "mistral"}
    settings = {"max_retries": 0, "backoff_s": 0.01}
    return make_project(root, fake, rows=rows, judges=judges, settings=settings, panel="quorum: 2\n")


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The run folder of a whole suite run against the fake provider."""
    with FakeProvider(seed=3) as fake:
        fake.register_judge("sim-judge-fair", JudgeParams(position_bias=0.5, seed=1))
        fake.register_judge("sim-judge-first", JudgeParams(position_bias=0.6, seed=2))
        fake.register_judge("sim-judge-flaky", JudgeParams(parse_failure_rate=0.2, seed=3))
        # A provider error that echoes the request's header, as some proxies do.
        echo = Fault.http_error(400, f"rejected request with Authorization: Bearer {SECRET}")
        fake.behave("sim-judge-flaky", ModelBehaviour(faults=(echo,), fault_rate=0.1))
        root = _project(tmp_path_factory.mktemp("project"), fake)
        proc = run_pytest(root, api_key=SECRET)  # without CI: an inconclusive gate may pass
        runs = [p for p in (root / "out" / "reports").glob("*") if p.is_dir()]
        assert len(runs) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert any(SECRET in str(r.headers) for r in fake.received())  # the key was sent
        yield runs[0]


def test_the_report_opens_clean_and_shows_gates_charts_and_items(
    browser: Browser, fake_run: Path, request: pytest.FixtureRequest
) -> None:
    browser.open((fake_run / REPORT_FILE).as_uri())
    assert browser.errors() == []
    assert browser.js("document.querySelectorAll('table.gates tbody tr').length") == 1
    assert browser.js("document.querySelector('table.gates td.outcome').textContent") in (
        "PASS", "FAIL", "INCONCLUSIVE",
    )  # fmt: skip
    charts = browser.js("[...document.querySelectorAll('figure.chart')].map(f => f.dataset.chart)")
    assert set(charts) >= {"first-position", "length", "verdicts", "kappa-heatmap"}
    assert browser.js("document.querySelectorAll('figure.chart svg').length") == len(charts)
    assert browser.js("document.querySelectorAll('#item-rows tr.item').length") == N_ITEMS
    shots = Path(str(request.config.rootpath)) / "reports" / "screenshots"
    browser.screenshot(shots / "report.png")


ROWS = "document.querySelectorAll('#item-rows tr.item')"
IDS = f"[...{ROWS}].map(r => r.children[2].firstChild.textContent)"


def set_value(browser: Browser, element: str, value: str, event: str = "change") -> None:
    """Set a form control's value as a user would, firing the event the page listens to."""
    browser.js(
        f"{{ const e = document.getElementById({json.dumps(element)}); "
        f"e.value = {json.dumps(value)}; e.dispatchEvent(new Event({json.dumps(event)})); }}"
    )


def test_filters_and_sorting_change_the_item_rows(browser: Browser, fake_run: Path) -> None:
    browser.open((fake_run / REPORT_FILE).as_uri())
    flipped = browser.js(f"[...{ROWS}].filter(r => r.querySelector('.flag-flip')).length")
    assert 0 < flipped < N_ITEMS  # the position-biased judge flips some items, not all
    browser.js("document.getElementById('f-flip').click()")
    assert browser.js(f"{ROWS}.length") == flipped
    assert browser.js(f"[...{ROWS}].every(r => r.querySelector('.flag-flip'))")
    browser.js("document.getElementById('f-flip').click()")
    set_value(browser, "f-text", "q03", "input")
    assert browser.js(IDS) == ["q03"]
    set_value(browser, "f-text", "", "input")
    set_value(browser, "f-verdict", "abstained")
    assert browser.js(f"[...{ROWS}].every(r => r.children[3].textContent === 'abstained')")
    set_value(browser, "f-verdict", "")
    browser.js("document.querySelector('#item-table button[data-sort=id]').click()")
    ids = browser.js(IDS)
    assert ids == sorted(ids)
    assert len(ids) == N_ITEMS
    assert browser.errors() == []


def test_the_tag_filter_and_the_pager(browser: Browser, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", n_items=120)  # tags cycle math, history, code, safety
    (run / REPORT_FILE).write_text(render(load_run(run)), encoding="utf-8")
    browser.open((run / REPORT_FILE).as_uri())
    assert browser.js(f"{ROWS}.length") == 50  # one page
    browser.js("document.getElementById('next').click()")
    assert browser.js(f"{ROWS}.length") == 50
    pager = browser.js("document.getElementById('page').textContent")
    assert "items 51\N{EN DASH}100 of 120" in pager
    set_value(browser, "f-tag", "math")
    assert browser.js(f"{ROWS}.length") == 30
    assert browser.js(f"[...{ROWS}].every(r => r.querySelector('.tag').textContent === 'math')")
    assert browser.errors() == []


def test_the_drill_down_shows_prompt_answers_and_every_raw_output(
    browser: Browser, fake_run: Path, request: pytest.FixtureRequest
) -> None:
    browser.open((fake_run / REPORT_FILE).as_uri())
    browser.js("document.querySelector('#item-rows tr.item').click()")
    detail = "document.querySelector('#item-rows td.detail')"
    text = browser.js(f"{detail}.textContent")
    for part in ("prompt", "Question number", "candidate answer", "baseline answer"):
        assert part in text
    # Three judges, two orders each: one row per call.
    assert browser.js(f"{detail}.querySelectorAll('table.calls tr').length") == 1 + 3 * 2
    assert "AB (candidate first)" in text
    assert "BA (baseline first)" in text
    browser.js("document.getElementById('items').scrollIntoView()")
    shots = Path(str(request.config.rootpath)) / "reports" / "screenshots"
    browser.screenshot(shots / "report-drill-down.png")
    browser.js("document.querySelector('#item-rows tr.item').click()")
    assert browser.js(f"{detail}") is None  # a second click closes it
    assert browser.errors() == []


def test_secrets_never_reach_the_report_or_the_results_files(fake_run: Path) -> None:
    report = (fake_run / REPORT_FILE).read_text(encoding="utf-8")
    assert "Authorization: [redacted]" in report  # the echoing error is shown, scrubbed
    for path in fake_run.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


HOSTILE = {
    0: '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">',
    1: '</textarea></pre></script><!-- <a href="javascript:window.__pwned=3">click me</a>',
    2: "x" * 200_000,  # one 200 KB line
    3: '{{ 7*7 }} ${7*7} </script><script type="application/json">{"x":1}</script>',
}


def test_hostile_model_output_stays_inert_text(browser: Browser, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", n_items=25, texts=HOSTILE, raw={0: HOSTILE[1], 2: HOSTILE[0]})
    (run / REPORT_FILE).write_text(render(load_run(run)), encoding="utf-8")
    browser.open((run / REPORT_FILE).as_uri())
    shown = []
    for index in HOSTILE:
        set_value(browser, "f-text", f"item-{index:05d}", "input")
        browser.js("document.querySelector('#item-rows tr.item').click()")
        shown.append(browser.js("document.querySelector('#item-rows td.detail').textContent"))
    assert browser.js("window.__pwned") is None
    assert browser.js("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    assert browser.js("document.querySelectorAll('img').length") == 0
    for index in (0, 1, 3):
        assert HOSTILE[index] in shown[index]
    assert "x" * 10_000 in shown[2]  # the long line is there, as text
    # Still usable: the long line wraps inside its box instead of widening the page.
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert browser.errors() == []
