"""Calling apps through the model client: a transport that routes ``app/...`` calls to code.

The model client adds the response cache, the concurrency limit, the per-call timeout, the
budget and the failure recording around a transport (see :mod:`evalkit.models._client`).
:class:`AppTransport` is such a transport: a call to a registered app runs the app, any
other call goes to the fallback transport (litellm). So an app is limited, timed, cached and
recorded exactly as a model is, by the same code.

Every way an app can fail is an :class:`~evalkit.errors.AppFailed` (never retried; never
cached): it raised, it hung past its timeout, or it returned no usable answer. A sync app runs
in a daemon thread of its own: a thread pool would be too small for the run's concurrency
(the default one has ``cpu_count + 4`` workers), and a hung app would hold a pooled worker
forever; a thread cannot be killed, so a hung one is abandoned and cannot block the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from evalkit.candidates._answer import checked, encode
from evalkit.candidates._app import App
from evalkit.candidates._models import ModelCaller, Models
from evalkit.errors import AppFailed, CallNotMade, CallTimeout, ModelError, UsageError
from evalkit.models import Completion, ModelRequest
from evalkit.models._batch import interactive
from evalkit.models._types import ModelTransport


class AppTransport:
    """Runs registered apps; passes every other call to ``fallback``."""

    def __init__(self, fallback: ModelTransport, models: ModelCaller | None = None) -> None:
        self.fallback = fallback
        #: what apps that take a second argument call models with.
        self.models = models
        self._apps: dict[str, App] = {}

    def add(self, app: App) -> None:
        """Register ``app`` (again is fine).

        Raises:
            UsageError: another app has the same name: their calls and limits would mix.
        """
        known = self._apps.get(app.model)
        if known is not None and known is not app and known.fn is not app.fn:
            raise UsageError(
                f"two different apps are named {app.name!r}; give one of them its own "
                "name=... in evalkit.app()"
            )
        self._apps[app.model] = app

    def check(self, request: ModelRequest) -> None:
        """Apps need no key; other models are checked by the fallback, when it can."""
        checker = getattr(self.fallback, "check", None)
        if request.model not in self._apps and checker is not None:
            checker(request)

    async def aclose(self) -> None:
        """Close the HTTP clients of the fallback and of the apps that have one."""
        for closer in [getattr(a.fn, "aclose", None) for a in self._apps.values()] + [
            getattr(self.fallback, "aclose", None)
        ]:
            if closer is not None:
                await closer()

    async def attempt(self, request: ModelRequest, timeout_s: float) -> Completion:
        """Run the app the request names on its row (or pass the call on).

        Raises:
            AppFailed: the app raised, took longer than ``timeout_s``, or returned no usable
                answer; the message names the app, the item and the reason.
        """
        app = self._apps.get(request.model)
        if app is None:
            return await self.fallback.attempt(request, timeout_s)
        row = json.loads(request.messages[-1]["content"])
        where = f"app {app.label}, item {row.get('id', '?')!r}"
        opener = getattr(app.fn, "open", None)
        if opener is not None:  # a service's HTTP client is made before the clock starts
            opener()
        start = time.perf_counter()
        models = Models(self.models, asyncio.get_running_loop())
        try:
            with interactive():  # the app waits for its model calls: none may wait for a batch
                result = await asyncio.wait_for(self._run(app, row, models, where), timeout_s)
        except TimeoutError:
            # _run turns the app's own exceptions into AppFailed: a TimeoutError here is ours.
            if app.transient:  # a service may answer next time: retried like a model
                raise CallTimeout(f"{where} did not answer within {timeout_s:g} s") from None
            raise AppFailed(
                f"{where} did not answer within {timeout_s:g} s; make it faster, or give it "
                "more time with evalkit.app(..., timeout_s=...)"
            ) from None
        answer = checked(result, where)
        n_in, n_out, cost = models.spent  # the app's own model calls, charged to its answer
        return Completion(
            text=encode(answer), input_tokens=answer.input_tokens + n_in,
            output_tokens=answer.output_tokens + n_out, cost_usd=answer.cost_usd + cost,
            latency_s=time.perf_counter() - start,
        )  # fmt: skip

    async def _run(self, app: App, row: dict[str, Any], models: Models, where: str) -> object:
        args: tuple[Any, ...] = (row, models) if app.wants_models else (row,)
        try:
            if app.is_async:
                return await app.fn(*args)
            result = await in_thread(app.fn, *args)
            if inspect.isawaitable(result):  # a sync callable that returned a coroutine
                return await result
            return result
        except asyncio.CancelledError:
            raise
        except ModelError as exc:
            # A service's 429 or 5xx is retried by the client; a stopped run is not the app's
            # failure. A function's failed model call is its failure, not retried whole.
            if app.transient or isinstance(exc, CallNotMade):
                raise
            raise AppFailed(f"{where} raised {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # the app is the user's code: any exception is its answer
            raise AppFailed(f"{where} raised {type(exc).__name__}: {exc}") from exc


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a new daemon thread (with the caller's context) and await it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # timed out and cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = context.run(fn, *args), None
        except BaseException as exc:  # handed to the awaiting task, raised there
            result, error = None, exc
        # RuntimeError: the run's loop has closed while this (abandoned) call hung.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name=f"evalkit-app-{getattr(fn, '__name__', 'fn')}",
                     daemon=True).start()  # fmt: skip
    return await future
