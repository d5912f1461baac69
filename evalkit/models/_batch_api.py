"""litellm's file and batch calls, for one endpoint: upload and create, poll, download.

Only OpenAI-compatible providers can create a batch through litellm here
(:data:`BATCH_PROVIDERS`: OpenAI, hosted vLLM, a litellm proxy, any ``openai/<name>`` with an
``api_base``). litellm can poll Anthropic Message Batches and read their results, but it cannot
create one, so Anthropic models (like local models and every other provider) run
interactively. Every exception is translated into :mod:`evalkit.errors` here, as the
interactive transport does it (:func:`evalkit.models._litellm.translate_error`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Awaitable
from typing import Any, Final, TypeVar

from evalkit.models._litellm import load_litellm, translate_error
from evalkit.models._types import ModelRequest

#: litellm providers whose batches evalkit submits (litellm's OpenAI-compatible batch set).
BATCH_PROVIDERS: Final = frozenset({"openai", "hosted_vllm", "litellm_proxy"})
#: Seconds one file or batch request may take (uploads of large files are slow).
_CALL_TIMEOUT_S: Final = 300.0
#: Seconds to wait for the HTTP clients litellm left open to close (loopback or idle sockets).
_CLOSE_WAIT_S: Final = 5.0

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class BatchStatus:
    """One poll of a batch."""

    status: str
    total: int
    completed: int
    failed: int
    output_file_id: str | None
    error_file_id: str | None

    @property
    def finished(self) -> bool:
        """Whether the batch will change no more (done, expired, failed or cancelled)."""
        return self.status in ("completed", "expired", "failed", "cancelled")


class BatchAPI:
    """The batch calls to the endpoint of ``request`` (its provider, address and key)."""

    def __init__(self, request: ModelRequest, provider: str) -> None:
        self.request = request
        self.provider = provider

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"custom_llm_provider": self.provider, "timeout": _CALL_TIMEOUT_S}
        if self.request.api_base is not None:
            kwargs["api_base"] = self.request.api_base
        if self.request.api_key is not None:
            kwargs["api_key"] = self.request.api_key
        return kwargs

    async def submit(self, data: bytes, url: str) -> str:
        """Upload the JSONL ``data`` and create a batch on ``url``; return the batch id.

        Raises:
            ModelError: the upload or the creation failed (translated as a call's would be).
        """
        lit = load_litellm()
        file = await self._call(
            lit.acreate_file(file=("evalkit-batch.jsonl", data), purpose="batch", **self._kwargs()),
            "uploading the batch file",
        )
        batch = await self._call(
            lit.acreate_batch(
                completion_window="24h", endpoint=url, input_file_id=file.id, **self._kwargs()
            ),
            "creating the batch",
        )
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        """Poll the batch.

        Raises:
            ModelError: the poll failed.
        """
        lit = load_litellm()
        # Without the flag, litellm's logging downloads a completed batch's output file once
        # more to price it, in a coroutine it never awaits (a RuntimeWarning at exit); evalkit
        # prices the lines itself, at the batch price.
        quiet = {"batch_ignore_default_logging": True}
        batch = await self._call(
            lit.aretrieve_batch(batch_id=batch_id, litellm_metadata=quiet, **self._kwargs()),
            f"polling batch {batch_id}",
        )
        counts = getattr(batch, "request_counts", None)
        return BatchStatus(
            status=str(batch.status),
            total=int(getattr(counts, "total", 0) or 0),
            completed=int(getattr(counts, "completed", 0) or 0),
            failed=int(getattr(counts, "failed", 0) or 0),
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
        )

    async def download(self, file_id: str) -> bytes:
        """Return the content of a results file.

        Raises:
            ModelError: the download failed.
        """
        lit = load_litellm()
        content = await self._call(
            lit.afile_content(file_id=file_id, **self._kwargs()), f"downloading file {file_id}"
        )
        return bytes(content.content)

    async def _call(self, call: Awaitable[T], doing: str) -> T:
        """Await ``call``; translate its failure, saying what evalkit was ``doing``."""
        try:
            return await call
        except Exception as exc:
            # The interactive translation, which reads "does not know the model" into a 404:
            # here the file or batch is what the provider did not know.
            err = translate_error(exc, self.request, self.provider, _CALL_TIMEOUT_S)
            err.args = (f"{doing} failed: {err}", *err.args[1:])
            raise err from exc
        finally:
            await close_left_clients()


async def close_left_clients() -> None:
    """Close, on the running event loop, the HTTP client the last file or batch call left.

    litellm builds a new OpenAI client for every file and batch call and never closes it (it
    takes no client of ours for them): its finalizer schedules the close on whichever event
    loop the thread that runs the garbage collector has. Left to chance, that is another
    thread's loop (measured in the tests: 55 of 148 such clients were closed from the fake
    provider's server thread, touching this loop's sockets from there), a later suite's loop
    (where the close fails: "Task exception was never retrieved"), or none (never closed).
    Collected here, right after the call, the close runs on this loop, and is awaited.
    """
    before = asyncio.all_tasks()
    # The young generations only (0.5 ms, not a full collection's 250 ms with litellm
    # loaded): the client was made by the call just awaited.
    gc.collect(1)
    closing = asyncio.all_tasks() - before
    if closing:
        done, _ = await asyncio.wait(closing, timeout=_CLOSE_WAIT_S)
        for task in done:  # retrieved: a close that failed is nobody's business now
            if not task.cancelled():
                task.exception()
