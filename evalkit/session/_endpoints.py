"""Resolving a configured model name into what litellm needs to reach it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evalkit.models import family_of
from evalkit.models._local import LocalModelServer, is_local
from evalkit.models._types import PromptStyle


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """A model as the run reaches it.

    ``name`` is what the user configured (``local/gemma-3-270m``, ``openai/gpt-4o``); it is
    what the judgments table records. ``model`` and ``api_base`` are what litellm is given.
    """

    name: str
    model: str
    api_base: str | None
    family: str
    prompt_style: PromptStyle
    #: the most calls in flight at once; None means the configured default.
    concurrency: int | None = None
    #: only for servers evalkit runs itself; providers' keys come from the environment.
    api_key: str | None = dataclasses.field(default=None, repr=False)
    #: the server's stable identity for the cache, when its address is not stable.
    cache_scope: str | None = None


class Resolver:
    """Resolve model names, starting bundled local models on first use."""

    def __init__(self, cache_dir: Path) -> None:
        self._local = LocalModelServer(cache_dir)

    def resolve(
        self,
        name: str,
        *,
        family: str | None = None,
        prompt_style: PromptStyle | None = None,
        api_base: str | None = None,
    ) -> Endpoint:
        """Return the endpoint for ``name`` (explicit arguments override what is inferred).

        Raises:
            ConfigError: ``local/<name>`` names no bundled model.
            LocalModelError: a bundled model's server could not be started.
        """
        if is_local(name):
            ep = self._local.endpoint(name)
            return Endpoint(
                name=name,
                model=ep.model,
                api_base=ep.api_base,
                family=family or ep.local.family,
                prompt_style=prompt_style or ep.local.prompt_style,
                # llama.cpp answers one request at a time; queueing more only burns the
                # per-attempt timeout of the requests waiting behind it.
                concurrency=2,
                # llama.cpp's server checks no key, but the OpenAI client insists on one.
                api_key="evalkit-local",
                cache_scope=f"evalkit-local:{ep.local.name}",
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
