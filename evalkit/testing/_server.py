"""A fake OpenAI-compatible provider on loopback, for tests and benchmarks.

It serves ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models`` from an aiohttp
server running on its own event loop in a background thread, so it answers while the test's
own event loop is busy calling it. Usage::

    with FakeProvider() as fake:
        fake.behave("sim-x", ModelBehaviour(latency_s=0.2))
        fake.script("sim-x", Fault.rate_limited("1.0"), None)
        ...  # call model "openai/sim-x" with api_base=fake.base_url
        assert fake.requests("sim-x") == 2

Model names decide the answer: ``sim-judge-…`` are simulated judges (parameters from
:meth:`FakeProvider.register_judge`, else neutral defaults), ``sim-writer-<family>-q<quality>``
and names given to :meth:`FakeProvider.register_writer` are simulated writers, and any other
name echoes the last message back.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import email.utils
import json
import random
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final

from aiohttp import web

from evalkit.models._types import ModelRequest
from evalkit.testing._batches import FakeBatches
from evalkit.testing._bias import JudgeParams
from evalkit.testing._faults import Fault, ModelBehaviour
from evalkit.testing._sim import (
    REWRITE_REQUEST,
    WriterParams,
    decide,
    judge_reply,
    rewrite_answer,
    write_answer,
)

_SHUTDOWN_GRACE_S: Final = 0.2
_TRANSPORT_HEADERS: Final = frozenset(
    {"host", "accept", "accept-encoding", "connection", "content-length", "content-type",
     "user-agent"}
)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A request as the fake provider saw it (recorded when ``record=True``)."""

    path: str
    model: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]


class FakeProvider:
    """An OpenAI-compatible HTTP server on ``127.0.0.1``, with scripted latency and faults.

    Thread-safe: configure it and read its counters from any thread while it serves.
    ``clock`` (seconds since the epoch) dates what it sends: HTTP-date ``Retry-After`` headers
    and the answers' ``created`` field; inject one to assert exact dates. ``sleep`` waits out a
    model's latency (on the server's own event loop); inject one to assert the latency drawn.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        record: bool = True,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._record = record
        self._clock = clock
        self._sleep = sleep
        self._requested_port = port
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._behaviours: dict[str, ModelBehaviour] = {}
        self._scripts: dict[str, collections.deque[Fault | None]] = {}
        self._judges: dict[str, JudgeParams] = {}
        self._writers: dict[str, WriterParams] = {}
        self._counts: collections.Counter[str] = collections.Counter()
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._max_in_flight: collections.Counter[str] = collections.Counter()
        self._peers: set[object] = set()
        self._received: list[ReceivedRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._port = 0
        self._handlers: set[asyncio.Task[Any]] = set()  # touched only on the server's loop
        #: the OpenAI Batch endpoints; their lines are answered as interactive calls are.
        self.batches = FakeBatches(
            lambda model, body, chat: self._answer(model, body, chat=chat), clock
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        """Start serving in a background thread; return once the port accepts connections.

        Raises:
            RuntimeError: the server could not start (the cause is chained).
        """
        if self._thread is not None:
            raise RuntimeError("FakeProvider is already started")
        self._thread = threading.Thread(target=self._serve, name="evalkit-fake-provider")
        self._thread.daemon = True
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._startup_error is not None or not self._port:
            raise RuntimeError("the fake provider did not start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop serving; requests still in flight are cut off. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._port

    @property
    def base_url(self) -> str:
        """The ``api_base`` to give litellm, e.g. ``http://127.0.0.1:38111/v1``."""
        return f"http://127.0.0.1:{self._port}/v1"

    def chat_request(self, model: str, text: str = "What is 2+2?", **fields: Any) -> ModelRequest:
        """Return a one-message chat request for ``openai/<model>`` on this server.

        ``fields`` are passed to :class:`~evalkit.models.ModelRequest` (``params``, ``sample``,
        ``api_key``, ...); the api_key defaults to a placeholder, as a local server needs none.
        """
        fields.setdefault("api_key", "sk-fake-provider")
        return ModelRequest(
            model=f"openai/{model}",
            messages=({"role": "user", "content": text},),
            api_base=self.base_url,
            **fields,
        )

    def completion_request(self, model: str, prompt: str, **fields: Any) -> ModelRequest:
        """Return a completion-style request (raw prompt) for ``openai/<model>`` on this server."""
        fields.setdefault("api_key", "sk-fake-provider")
        return ModelRequest(
            model=f"openai/{model}", prompt=prompt, api_base=self.base_url, **fields
        )

    # -- configuration -----------------------------------------------------------------------

    def behave(self, model: str, behaviour: ModelBehaviour) -> None:
        """Set the latency and random faults of ``model`` (the name without provider prefix)."""
        with self._lock:
            self._behaviours[model] = behaviour

    def script(self, model: str, *steps: Fault | None) -> None:
        """Queue what the next requests for ``model`` get, one step each (None = an answer)."""
        with self._lock:
            self._scripts.setdefault(model, collections.deque()).extend(steps)

    def register_judge(self, model: str, params: JudgeParams) -> None:
        """Make ``model`` a simulated judge with these injected biases."""
        with self._lock:
            self._judges[model] = params

    def register_writer(self, model: str, params: WriterParams) -> None:
        """Make ``model`` a simulated answer writer with these parameters."""
        with self._lock:
            self._writers[model] = params

    # -- observation -------------------------------------------------------------------------

    def requests(self, model: str | None = None) -> int:
        """Count the requests for ``model`` so far (all models when None), faulted ones too."""
        with self._lock:
            return self._counts[model] if model is not None else sum(self._counts.values())

    def max_in_flight(self, model: str | None = None) -> int:
        """Return the most requests for ``model`` (or all models) ever handled at once."""
        with self._lock:
            key = model if model is not None else ""
            return self._max_in_flight[key]

    def in_flight(self, model: str | None = None) -> int:
        """Return how many requests for ``model`` (or for all models) are being handled now."""
        with self._lock:
            return self._in_flight[model if model is not None else ""]

    def connections(self) -> int:
        """Return how many distinct TCP connections have sent a request."""
        with self._lock:
            return len(self._peers)

    def received(self) -> list[ReceivedRequest]:
        """Return every request received, in arrival order (empty when ``record=False``)."""
        with self._lock:
            return list(self._received)

    def reset(self) -> None:
        """Forget counters and recorded requests (configuration and scripts stay)."""
        with self._lock:
            self._counts.clear()
            self._max_in_flight.clear()
            self._peers.clear()
            self._received.clear()

    # -- serving -----------------------------------------------------------------------------

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        runner: web.AppRunner | None = None
        try:
            runner = loop.run_until_complete(self._start_runner())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _shutdown(self) -> None:
        # Handlers still sleeping (hangs, latency) would outlive the loop and be reported as
        # destroyed while pending; cancel them first.
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        asyncio.get_running_loop().stop()

    async def _start_runner(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._text)
        app.router.add_get("/v1/models", self._models)
        self.batches.install(app)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_GRACE_S
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock, backlog=1024).start()
        return runner

    async def _models(self, request: web.Request) -> web.Response:
        with self._lock:
            names = sorted({*self._behaviours, *self._judges, *self._writers, *self._counts})
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "evalkit"} for n in names]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, chat=True)

    async def _text(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, chat=False)

    async def _handle(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(400, "request body must be a JSON object with a 'model'")
        model: str = body["model"]
        fault, latency = self._admit(request, model, body)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            if latency > 0:
                await self._sleep(latency)
            if fault is not None:
                return await self._inject(request, fault, model, body, chat=chat)
            return web.json_response(self._answer(model, body, chat=chat))
        finally:
            if task is not None:
                self._handlers.discard(task)
            with self._lock:
                self._in_flight[model] -= 1
                self._in_flight[""] -= 1

    def _admit(
        self, request: web.Request, model: str, body: dict[str, Any]
    ) -> tuple[Fault | None, float]:
        """Count the request and pick its fault and latency, under the lock."""
        with self._lock:
            self._counts[model] += 1
            for key in (model, ""):
                self._in_flight[key] += 1
                self._max_in_flight[key] = max(self._max_in_flight[key], self._in_flight[key])
            if request.transport is not None:
                self._peers.add(request.transport.get_extra_info("peername"))
            if self._record:
                self._received.append(
                    ReceivedRequest(request.path, model, dict(request.headers), body)
                )
            behaviour = self._behaviours.get(model, ModelBehaviour())
            script = self._scripts.get(model)
            fault: Fault | None = None
            if script:
                fault = script.popleft()
            elif behaviour.faults and self._rng.random() < behaviour.fault_rate:
                fault = self._rng.choice(behaviour.faults)
            latency = behaviour.latency_s
            if isinstance(latency, tuple):
                latency = self._rng.uniform(*latency)
        return fault, float(latency)

    async def _inject(
        self, request: web.Request, fault: Fault, model: str, body: dict[str, Any], *, chat: bool
    ) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            if fault.retry_after_date_s is not None:
                when = self._clock() + fault.retry_after_date_s
                headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
            return _error(fault.status, fault.message, headers)
        if fault.kind == "echo_headers":
            # Only the headers the caller chose (the transport's own are noise that would push
            # them past any message length limit).
            echoed = ", ".join(
                f"{k}: {v}"
                for k, v in request.headers.items()
                if k.lower() not in _TRANSPORT_HEADERS and not k.lower().startswith("x-stainless")
            )
            return _error(fault.status, f"{fault.message}; request headers were {echoed}")
        if fault.kind == "hang":
            # Stop hanging once the client has given up, so that an abandoned request no longer
            # counts as in flight.
            deadline = time.monotonic() + fault.seconds
            while time.monotonic() < deadline:
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)
                await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0.0)))
            return web.json_response(self._answer(model, body, chat=chat))
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.abort()
            # Nothing can be written any more; the client sees the connection drop.
            return web.Response(status=500)
        if fault.kind == "malformed":
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        if fault.kind == "invalid_bytes":
            return web.Response(
                body=b'{"id": "x", "choices": "\xff\xfe\xc3"}',
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        # no_choices: valid JSON, but not a completion.
        return web.json_response({"id": "x", "object": "chat.completion", "model": model})

    def _answer(self, model: str, body: dict[str, Any], *, chat: bool) -> dict[str, Any]:
        if chat:
            messages = body.get("messages") or []
            parts = [str(m.get("content", "")) for m in messages if isinstance(m, dict)]
            prompt = "\n".join(parts)
            question = parts[-1] if parts else ""
        else:
            prompt = question = str(body.get("prompt", ""))
        with self._lock:
            judge = self._judges.get(model)
            writer = self._writers.get(model)
            fixed = self._behaviours.get(model, ModelBehaviour()).reply
        if judge is None and model.startswith("sim-judge-"):
            judge = JudgeParams()
        if writer is None:
            writer = WriterParams.from_model_name(model)
        if fixed is not None:
            text = fixed
        elif judge is not None and REWRITE_REQUEST in prompt:
            text = rewrite_answer(judge, prompt)
        elif judge is not None:
            salt = str(body.get("seed", ""))
            text = judge_reply(decide(judge, prompt, salt=salt))
        elif writer is not None:
            text = write_answer(writer, question)
        else:
            text = f"echo: {question}"
        usage = {
            "prompt_tokens": len(prompt.split()),
            "completion_tokens": len(text.split()),
            "total_tokens": len(prompt.split()) + len(text.split()),
        }
        choice: dict[str, Any]
        if chat:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        else:
            choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
        return {
            "id": f"fake-{time.monotonic_ns()}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(self._clock()),
            "model": model,
            "choices": [choice],
            "usage": usage,
        }


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "fake_provider_error", "code": status}}
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers=dict(headers or {}),
    )


def refused_base_url() -> str:
    """Return an ``api_base`` on loopback where nothing listens, so connections are refused.

    The port was free a moment ago; another process could take it meanwhile, which on a test
    machine is rare enough to accept.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
