"""The user's HTTP service as the candidate: a loopback aiohttp server, one behaviour per item."""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _project import run_scored, scored_session, scored_suite, write_scored_panel
from aiohttp import web

import evalkit
from evalkit.candidates._app import App
from evalkit.errors import EvalkitError, UsageError
from evalkit.testing import FakeProvider

#: What the service does for each item.
BEHAVIOUR = {
    "ok": "answers",
    "html": "a login page",
    "nopath": "JSON without output.text",
    "flaky": "503 twice, then answers",
    "limited": "429 once (Retry-After 0), then answers",
    "text": "plain text",
    "down": "500 every time",
    "slow": "never answers in time",
    "notfound": "404",
}


class Service:
    """A loopback HTTP service on its own thread; counts requests per item id."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.bodies: list[Any] = []
        self.headers: list[str | None] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/answer", self._answer)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/answer"

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        self.headers.append(request.headers.get("Authorization"))
        item = body["input"]["id"]
        self.counts[item] += 1
        n = self.counts[item]
        answer = {"output": {"text": f"Answer about {body['input']['q']}"}, "docs": ["d1", "d2"]}
        if item == "html":
            return web.Response(text="<!DOCTYPE html><html><body>Sign in</body></html>",
                                content_type="text/html")  # fmt: skip
        if item == "nopath":
            return web.json_response({"result": "x", "id": 1})
        if item == "flaky" and n <= 2:
            return web.Response(status=503, text="busy")
        if item == "limited" and n == 1:
            return web.Response(status=429, headers={"Retry-After": "0"})
        if item == "text":
            return web.Response(text="hello there")
        if item == "down":
            return web.Response(status=500, text="boom")
        if item == "slow":
            await self._release.wait()  # set when the test ends
        if item == "notfound":
            return web.Response(status=404, text="no such route")
        return web.json_response(answer)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._release.set)
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def service() -> Iterator[Service]:
    server = Service()
    yield server
    server.close()


@pytest.fixture
def root(tmp_path: Path, fake: FakeProvider) -> Path:
    write_scored_panel(tmp_path, fake.base_url)
    rows = [{"id": k, "question": f'{k} "quoted" question?'} for k in BEHAVIOUR]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


BODY = '{"input": {"id": {{ id | tojson }}, "q": {{ question | tojson }}}}'


def http(service: Service, **fields: Any) -> App:
    return evalkit.app.http(
        service.url, body=BODY, answer_path="output.text", context_path="docs",
        version="svc-1", headers={"Authorization": "Bearer sk-service-secret"},
        timeout_s=0.3, **fields,
    )  # fmt: skip


def test_every_reply_is_an_answer_or_a_failed_row_naming_the_problem(
    root: Path, service: Service
) -> None:
    result = run_scored(root, http(service, retries=1), settings={"max_retries": 3})
    got = result.answers["candidate"]
    assert got["ok"].text == 'Answer about ok "quoted" question?'
    assert got["ok"].context == ["d1", "d2"]
    assert got["ok"].model == "127.0.0.1-" + str(service.port) + "@svc-1"
    # Transient failures are retried like a model's: 503 twice (retries=1 allows one retry,
    # so it fails), 429 once then an answer.
    assert got["limited"].text == 'Answer about limited "quoted" question?'
    assert service.counts["limited"] == 2
    assert service.counts["flaky"] == 2
    assert got["flaky"].status == "failed"
    errors = {k: a.error for k, a in got.items() if a.status != "ok"}
    url = service.url
    assert errors == {
        "html": f"app: {url} (item 'html') answered with HTML, not JSON ('<!DOCTYPE html><html>"
        "<body>Sign in</body></html>'); check the URL: it should be the service's JSON API, "
        "not a web page",
        "nopath": f"app: {url} (item 'nopath'): the reply has no 'output.text' (answer_path); "
        "at the top it holds an object with keys 'result', 'id'; fix answer_path",
        "text": f"app: {url} (item 'text') answered with text that is not JSON ('hello there'); "
        "the service must reply with a JSON object",
        "flaky": f"unavailable: {url} (item 'flaky') answered HTTP 503: 'busy' "
        "(gave up after 2 attempts)",
        "down": f"unavailable: {url} (item 'down') answered HTTP 500: 'boom' "
        "(gave up after 2 attempts)",
        "slow": f"timeout: app 127.0.0.1-{service.port}@svc-1, item 'slow' did not answer "
        "within 0.3 s (gave up after 2 attempts)",
        "notfound": f"app: {url} (item 'notfound') answered HTTP 404: 'no such route'; check "
        "the URL, the body template and the headers",
    }
    # Permanent failures are not retried; nothing the service was sent is recorded with its key.
    assert service.counts["html"] == service.counts["notfound"] == 1
    assert set(service.headers) == {"Bearer sk-service-secret"}
    run_dir = next((root / "reports").iterdir())
    assert "sk-service-secret" not in (run_dir / "answers.jsonl").read_text()
    assert "sk-service-secret" not in (run_dir / "run.json").read_text()


def test_answers_are_cached_and_a_rerun_asks_only_what_failed(root: Path, service: Service) -> None:
    run_scored(root, http(service, retries=3), settings={"max_retries": 3})
    assert service.counts["flaky"] == 3  # 503, 503, then an answer
    before = dict(service.counts)
    rerun = run_scored(root, http(service, retries=3), settings={"max_retries": 3}).answers[
        "candidate"
    ]
    asked = {k: service.counts[k] - before.get(k, 0) for k in BEHAVIOUR}
    # Answers come from the cache; failures were never cached, so they are asked again
    # (a 500 and a timeout four times each: one attempt and three retries).
    assert asked == {"ok": 0, "limited": 0, "flaky": 0, "html": 1, "nopath": 1, "text": 1,
                     "notfound": 1, "down": 4, "slow": 4}  # fmt: skip
    assert rerun["flaky"].cached
    assert rerun["ok"].cached


def test_a_body_that_does_not_render_into_json_is_refused_before_any_call(
    root: Path, service: Service, fake: FakeProvider
) -> None:
    unquoted = evalkit.app.http(service.url, body='{"q": {{ question }}}', answer_path="a",
                                version="v1")  # fmt: skip
    with pytest.raises(EvalkitError, match=r"^suite 's': item 'ok' body: the rendered template is "
                       r"not JSON .*quote values with \{\{ field \| tojson \}\}"):  # fmt: skip
        scored_session(root, max_retries=3).suite_result(scored_suite(root, unquoted))
    missing = evalkit.app.http(service.url, body='{"q": {{ prompt | tojson }}}', answer_path="a",
                               version="v1")  # fmt: skip
    with pytest.raises(EvalkitError, match=r"^suite 's': item 'ok' body: the template uses "
                       r"'prompt', which the row does not have \(it has 'id', 'question'\)"):  # fmt: skip
        scored_session(root, max_retries=3).suite_result(scored_suite(root, missing))
    assert sum(service.counts.values()) == 0
    assert fake.requests() == 0


def test_what_is_not_a_service_is_refused() -> None:
    with pytest.raises(UsageError, match=r"give the service's http:// or https:// URL"):
        evalkit.app.http("localhost:8000", body="{}", answer_path="a", version="v1")
    with pytest.raises(UsageError, match=r"body is empty"):
        evalkit.app.http("http://x", body=" ", answer_path="a", version="v1")
    with pytest.raises(UsageError, match=r"answer_path is empty"):
        evalkit.app.http("http://x", body="{}", answer_path="", version="v1")
    with pytest.raises(UsageError, match=r"version is missing"):
        evalkit.app.http("http://x", body="{}", answer_path="a")
