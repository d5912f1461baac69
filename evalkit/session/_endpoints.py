"""Resolving a configured model name into what litellm needs to reach it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from evalkit.candidates._answer import AppAnswer
from evalkit.candidates._app import App
from evalkit.candidates._recorded import Recorded
from evalkit.candidates._variant import Variant
from evalkit.models import ModelRequest, family_of
from evalkit.models._local import LocalModelServer, is_local, local_model
from evalkit.models._types import PromptStyle


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """A model as the run reaches it.

    ``name`` is what the user configured (``local/gemma-3-270m``, ``openai/gpt-4o``); it is
    what the judgments table records. ``model`` and ``api_base`` are what litellm is given.
    """

    name: str
    model: str
    #: None for a bundled model until its server runs (see :meth:`Resolver.locate`).
    api_base: str | None
    family: str
    prompt_style: PromptStyle
    #: the most calls in flight at once; None means the configured default.
    concurrency: int | None = None
    #: only for servers evalkit runs itself; providers' keys come from the environment.
    api_key: str | None = dataclasses.field(default=None, repr=False)
    #: the server's stable identity for the cache, when its address is not stable.
    cache_scope: str | None = None
    #: the user's app, when the candidate is code rather than a model (see :func:`app_endpoint`).
    app: App | None = None
    #: answers that already exist, by item id, when none is generated (recorded_endpoint).
    recorded: Mapping[str, AppAnswer] | None = dataclasses.field(default=None, repr=False)
    #: the prompt and system it is asked with, when it is a prompt variant of the model
    #: (``name`` is then the variant's).
    variant: Variant | None = None

    @property
    def configured(self) -> str:
        """The model string as configured: a prompt variant's model, else :attr:`name`."""
        return self.variant.model if self.variant is not None else self.name

    @property
    def is_model(self) -> bool:
        """Whether this is a model (not the user's app, nor answers that already exist)."""
        return self.app is None and self.recorded is None


def app_endpoint(app: App) -> Endpoint:
    """The endpoint of an app: its calls go through the model client under ``app/<name>``.

    Its ``name`` is ``name@version``, which the answers and judgments tables record.
    """
    return Endpoint(
        name=app.label, model=app.model, api_base=None, family=app.family,
        prompt_style="chat", concurrency=app.concurrency, cache_scope=app.cache_scope, app=app,
    )  # fmt: skip


def recorded_endpoint(source: Recorded, answers: Mapping[str, AppAnswer]) -> Endpoint:
    """The endpoint of recorded answers (``answers`` from :meth:`Recorded.load`): no calls."""
    return Endpoint(
        name=source.label, model="recorded", api_base=None, family=source.family,
        prompt_style="chat", recorded=answers,
    )  # fmt: skip


class Resolver:
    """Resolve model names; bundled local models start on their first cache miss.

    ``local`` is the server manager to use (by default one for ``cache_dir``); its
    :attr:`~evalkit.models.LocalModelServer.starts` counts the servers started.
    """

    def __init__(self, cache_dir: Path, *, local: LocalModelServer | None = None) -> None:
        self._local = local or LocalModelServer(cache_dir)

    async def locate(self, request: ModelRequest) -> ModelRequest:
        """The model client's ``locate`` hook: give a bundled model's request its address.

        Raises:
            LocalModelError: the model's server could not be started.
        """
        return await self._local.locate(request)

    def resolve(
        self,
        name: str,
        *,
        family: str | None = None,
        prompt_style: PromptStyle | None = None,
        api_base: str | None = None,
    ) -> Endpoint:
        """Return the endpoint for ``name`` (explicit arguments override what is inferred).

        Starts nothing: a bundled model's endpoint has no ``api_base`` until
        :meth:`locate` starts its server for a call the cache cannot answer.

        Raises:
            ConfigError: ``local/<name>`` names no bundled model.
        """
        if is_local(name):
            local = local_model(name)
            return Endpoint(
                name=name,
                model=f"openai/{local.name}",
                api_base=None,
                family=family or local.family,
                prompt_style=prompt_style or local.prompt_style,
                # llama.cpp answers one request at a time; queueing more only burns the
                # per-attempt timeout of the requests waiting behind it.
                concurrency=2,
                # llama.cpp's server checks no key, but the OpenAI client insists on one.
                api_key="evalkit-local",
                cache_scope=LocalModelServer.cache_scope(name),
            )
        return Endpoint(
            name=name,
            model=name,
            api_base=api_base,
            family=family or family_of(name),
            prompt_style=prompt_style or "chat",
        )

    def close(self) -> None:
        """Stop any local model servers that were started."""
        self._local.close()
