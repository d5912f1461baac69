"""A candidate that is the user's own code: ``evalkit.app(fn, version="rag-v3")``.

The function gets one dataset row (a dict of its fields) and returns the answer text or an
:class:`~evalkit.candidates.AppAnswer`; sync or async. A function that takes a second
argument gets a :class:`~evalkit.candidates.Models`, through which it calls models with
evalkit's client (cache, limits, budget, the bundled local models).

An app is called like a model: through the model client, so with its concurrency limit,
per-call timeout and response cache (see :mod:`evalkit.candidates._transport`). Its answers
are cached under ``(name, version, row)``: change ``version`` when the app changes.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from evalkit.errors import UsageError
from evalkit.models import ModelRequest
from evalkit.models._families import UNKNOWN
from evalkit.records._family import family_name

#: Requests to apps carry this prefix in place of a litellm provider.
APP_PREFIX: Final = "app/"


@dataclasses.dataclass(frozen=True, eq=False)
class App:
    """A Python function as a candidate (made by :func:`app`, which checks the arguments)."""

    fn: Callable[..., Any]
    name: str
    version: str
    family: str = UNKNOWN
    #: the most calls in flight at once; None means the run's ``concurrency``.
    concurrency: int | None = None
    #: seconds one call may take; None means the run's ``timeout_s``.
    timeout_s: float | None = None
    #: whether ``fn`` takes a second argument (the models it may call).
    wants_models: bool = False
    #: whether ``fn`` is a coroutine function (else it runs in a thread of its own).
    is_async: bool = False
    #: a service's transient failures (timeout, 429, 5xx) are retried as a model's are; a
    #: function's failures are its answer, and never retried.
    transient: bool = False
    #: retries of a transient failure; None means the run's ``max_retries``.
    retries: int | None = None

    @property
    def label(self) -> str:
        """How the tables name the candidate: ``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def model(self) -> str:
        """The model string its calls go under (the key of its concurrency limit)."""
        return APP_PREFIX + self.name

    @property
    def cache_scope(self) -> str:
        """The response cache's namespace for this app's answers: its name and version."""
        return f"app:{self.label}"

    def request(self, row: Mapping[str, Any]) -> ModelRequest:
        """The call that asks the app about ``row``; the row is its cache key's content."""
        content = json.dumps(dict(row), sort_keys=True, ensure_ascii=False, default=_plain)
        return ModelRequest(
            model=self.model, messages=({"role": "user", "content": content},),
            cache_scope=self.cache_scope, timeout_s=self.timeout_s, max_retries=self.retries,
        )  # fmt: skip


def _plain(value: Any) -> Any:
    # Parquet and CSV rows hold numpy values; their Python equivalent is what the app expects.
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


class AppFactory:
    """``evalkit.app(fn, version=...)`` for a function; ``evalkit.app.http(...)`` for a service."""

    def __call__(
        self,
        fn: Callable[..., Any],
        *,
        version: str | None = None,
        name: str | None = None,
        family: str | None = None,
        concurrency: int | None = None,
        timeout_s: float | None = None,
    ) -> App:
        """Declare ``fn`` as a candidate: ``Suite(candidate=evalkit.app(answer, version="v3"))``.

        ``fn(row)`` or ``fn(row, models)``, sync or async, returns a ``str`` or an
        :class:`~evalkit.candidates.AppAnswer`. ``version`` is required: answers are cached
        under it, so a new version is asked again. ``family`` is the model family behind the
        app (for the panel's family policy and self-preference); unknown when not given.

        Raises:
            UsageError: ``fn`` is not callable, ``version`` is missing or empty, or a limit is
                not a positive number. The message names the function and what to pass.
        """
        label = getattr(fn, "__name__", type(fn).__name__)
        if not callable(fn):
            raise UsageError(
                f"evalkit.app() needs a function, got a {type(fn).__name__} ({fn!r:.60}); pass "
                "the function itself, e.g. evalkit.app(answer, version='v1'), not its result"
            )
        return _declare(fn, f"evalkit.app({label})", label, version=version, name=name,
                        family=family, concurrency=concurrency, timeout_s=timeout_s)  # fmt: skip

    def http(
        self,
        url: str,
        *,
        body: str,
        answer_path: str,
        version: str | None = None,
        context_path: str | None = None,
        headers: Mapping[str, str] | None = None,
        name: str | None = None,
        family: str | None = None,
        concurrency: int | None = None,
        timeout_s: float | None = None,
        retries: int | None = None,
    ) -> App:
        """Declare the user's HTTP service as a candidate (see :mod:`evalkit.candidates._http`).

        ``body`` is a jinja2 template of the JSON request body over the row's fields;
        ``answer_path`` (and ``context_path``) a dotted path into the JSON reply. Timeouts,
        429 and 5xx are retried like a model call (``retries``: the run's ``max_retries``
        unless given). ``headers`` are sent as they are and never recorded.

        Raises:
            UsageError: the URL is not http(s), the body or answer path is empty, ``version``
                is missing, or a limit is not a positive number.
        """
        from evalkit.candidates._http import HttpApp

        where = f"evalkit.app.http({url!r})"
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UsageError(f"{where}: give the service's http:// or https:// URL")
        if not isinstance(body, str) or not body.strip():
            raise UsageError(f"{where}: body is empty; give the JSON body as a jinja2 template,"
                             " e.g. body='{\"input\": {{ question | tojson }}}'")  # fmt: skip
        if not isinstance(answer_path, str) or not answer_path.strip():
            raise UsageError(f"{where}: answer_path is empty; give where the answer is in the "
                             "reply, e.g. answer_path='output.text'")  # fmt: skip
        if retries is not None and (not isinstance(retries, int) or retries < 0):
            raise UsageError(f"{where}: retries={retries!r}; give 0 or more")
        service = HttpApp(url, body=body, answer_path=answer_path, context_path=context_path,
                          headers=headers)  # fmt: skip
        default = url.split("//", 1)[1].split("/", 1)[0].replace(":", "-")
        declared = _declare(service, where, default, version=version, name=name, family=family,
                            concurrency=concurrency, timeout_s=timeout_s)  # fmt: skip
        return dataclasses.replace(declared, transient=True, retries=retries)


def _declare(
    fn: Callable[..., Any],
    where: str,
    label: str,
    *,
    version: str | None,
    name: str | None,
    family: str | None,
    concurrency: int | None,
    timeout_s: float | None,
) -> App:
    """Check what every app declares, then make the :class:`App`."""
    if not isinstance(version, str) or not version.strip():
        raise UsageError(
            f"{where}: version is {'missing' if version is None else repr(version)}; give "
            "version='v1' (answers are cached under it: change it when the app changes)"
        )
    name = name if name is not None else label
    if not name.strip() or "/" in name:
        raise UsageError(f"{where}: name {name!r} must be non-empty, without '/'")
    if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):
        raise UsageError(f"{where}: concurrency={concurrency!r}; give 1 or more")
    if timeout_s is not None and not (
        isinstance(timeout_s, int | float) and math.isfinite(timeout_s) and timeout_s > 0
    ):
        raise UsageError(f"{where}: timeout_s={timeout_s!r}; give a finite number of seconds "
                         "above 0")  # fmt: skip
    return App(
        fn=fn, name=name, version=version.strip(), family=family_name(family) or UNKNOWN,
        concurrency=concurrency, timeout_s=timeout_s, wants_models=_takes_two(fn),
        is_async=_is_async(fn),
    )  # fmt: skip


#: ``evalkit.app``: see :class:`AppFactory`.
app = AppFactory()


def _is_async(fn: Callable[..., Any]) -> bool:
    call = getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


def _takes_two(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts a second positional argument (the models)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: give them the row only
        return False
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(k in positional for k in kinds) >= 2
