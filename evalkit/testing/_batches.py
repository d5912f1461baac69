"""The OpenAI Batch endpoints of the fake provider: files upload, batch create, poll, download.

:class:`FakeBatches` adds to a :class:`~evalkit.testing.FakeProvider`::

    POST /v1/files                  upload a JSONL of requests (multipart, purpose=batch)
    POST /v1/batches                create a batch over an uploaded file
    GET  /v1/batches/{id}           poll it (status, request_counts, output/error file ids)
    GET  /v1/files/{id}/content     download a file (the input, or the results)

Each line of a batch is answered exactly as the provider answers the same body interactively
(the same simulated judges and writers), but without counting as an interactive request, so
a test tells the two paths apart with :meth:`FakeProvider.requests`. How batches behave is a
:class:`BatchBehaviour`: how long they take (on the provider's injectable clock), which lines
fail with which status, and when they expire with only some lines done. It applies to every
open batch from when it is set, so a test can hold a batch open, then let it finish.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

#: Answers one batch line's body: (model, body, chat) -> the completion JSON.
Answer = Callable[[str, dict[str, Any], bool], dict[str, Any]]
_FINAL: Final = frozenset({"completed", "expired", "failed", "cancelled"})


@dataclasses.dataclass(frozen=True, slots=True)
class BatchBehaviour:
    """How the fake's batches behave.

    ``complete_after_s``: seconds (provider clock) from creation to ``completed``; until then
    polls report ``in_progress`` with a share of the lines done. ``fail_every``: every n-th
    line (1-based: lines n, 2n, ...) fails with ``fail_status`` and ``fail_message``; 0 for
    none. ``expire_after_s``: when set, the batch ends ``expired`` at that age instead, with
    only its first ``expire_done`` lines answered and the rest marked ``batch_expired``.
    """

    complete_after_s: float = 0.0
    fail_every: int = 0
    fail_status: int = 500
    fail_message: str = "injected batch line failure"
    expire_after_s: float | None = None
    expire_done: int = 0


@dataclasses.dataclass
class _Batch:
    id: str
    endpoint: str
    input_file_id: str
    created_at: float
    lines: list[dict[str, Any]]
    status: str = "in_progress"
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0


class FakeBatches:
    """The batch endpoints' state: uploaded files and batches (thread-safe)."""

    def __init__(self, answer: Answer, clock: Callable[[], float]) -> None:
        self._answer = answer
        self._clock = clock
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}
        self._batches: dict[str, _Batch] = {}
        self._behaviour = BatchBehaviour()
        self._creates = 0
        self._polls = 0

    def install(self, app: web.Application) -> None:
        """Add the four routes to the provider's aiohttp application."""
        app.router.add_post("/v1/files", self._upload)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{id}", self._retrieve)
        app.router.add_get("/v1/files/{id}/content", self._content)

    def behave(self, behaviour: BatchBehaviour) -> None:
        """Set how batches behave from now on, those already created and still open too."""
        with self._lock:
            self._behaviour = behaviour

    def creates(self) -> int:
        """How many batches were created (a resumed run must not create another)."""
        with self._lock:
            return self._creates

    def polls(self) -> int:
        """How many times a batch was polled."""
        with self._lock:
            return self._polls

    def lines(self) -> int:
        """How many request lines all batches held together."""
        with self._lock:
            return sum(len(b.lines) for b in self._batches.values())

    # -- handlers ---------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        data = upload.file.read() if isinstance(upload, web.FileField) else None
        if data is None:
            return _error(400, "no file in the upload")
        with self._lock:
            file_id = f"file-{len(self._files) + 1}"
            self._files[file_id] = data
        return web.json_response(self._file_object(file_id, len(data), "input.jsonl"))

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        file_id = body.get("input_file_id")
        with self._lock:
            data = self._files.get(file_id)
            if data is None:
                return _error(404, f"no file {file_id!r}")
            lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
            self._creates += 1
            batch = _Batch(
                id=f"batch_{self._creates}", endpoint=str(body.get("endpoint")),
                input_file_id=file_id, created_at=self._clock(), lines=lines,
            )  # fmt: skip
            self._batches[batch.id] = batch
        return web.json_response(self._batch_object(batch))

    async def _retrieve(self, request: web.Request) -> web.Response:
        with self._lock:
            self._polls += 1
            batch = self._batches.get(request.match_info["id"])
            if batch is None:
                return _error(404, "no such batch")
            self._advance(batch)
            return web.json_response(self._batch_object(batch))

    async def _content(self, request: web.Request) -> web.Response:
        with self._lock:
            data = self._files.get(request.match_info["id"])
        if data is None:
            return _error(404, "no such file")
        return web.Response(body=data, content_type="application/octet-stream")

    # -- the batch's life -------------------------------------------------------------------

    def _advance(self, batch: _Batch) -> None:
        """Bring ``batch`` up to the clock (under the lock)."""
        if batch.status in _FINAL:
            return
        age = self._clock() - batch.created_at
        rule = self._behaviour
        if rule.expire_after_s is not None and age >= rule.expire_after_s:
            self._finish(batch, "expired", done=rule.expire_done)
        elif age >= rule.complete_after_s:
            self._finish(batch, "completed", done=len(batch.lines))
        else:
            share = age / rule.complete_after_s if rule.complete_after_s > 0 else 1.0
            batch.completed = int(len(batch.lines) * share)

    def _finish(self, batch: _Batch, status: str, *, done: int) -> None:
        out: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        chat = batch.endpoint.endswith("/chat/completions")
        rule = self._behaviour
        for number, line in enumerate(batch.lines, start=1):
            custom_id = line.get("custom_id")
            if number > done:
                errors.append({
                    "id": f"req_{number}", "custom_id": custom_id, "response": None,
                    "error": {"code": "batch_expired",
                              "message": "This request could not be executed before the "
                                         "completion window expired."},
                })  # fmt: skip
            elif rule.fail_every and number % rule.fail_every == 0:
                body = {"error": {"message": rule.fail_message, "type": "fake_provider_error",
                                  "code": rule.fail_status}}  # fmt: skip
                response = {"status_code": rule.fail_status, "request_id": f"r{number}",
                            "body": body}  # fmt: skip
                errors.append({"id": f"req_{number}", "custom_id": custom_id,
                               "response": response, "error": None})  # fmt: skip
            else:
                body = line["body"]
                answer = self._answer(str(body.get("model")), body, chat)
                response = {"status_code": 200, "request_id": f"r{number}", "body": answer}
                out.append({"id": f"req_{number}", "custom_id": custom_id,
                            "response": response, "error": None})  # fmt: skip
        batch.status = status
        batch.completed = len(out)
        batch.failed = len(errors)
        if out:
            batch.output_file_id = self._store(out)
        if errors:
            batch.error_file_id = self._store(errors)

    def _store(self, rows: list[dict[str, Any]]) -> str:
        file_id = f"file-{len(self._files) + 1}"
        self._files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
        return file_id

    def _file_object(self, file_id: str, size: int, name: str) -> dict[str, Any]:
        return {
            "id": file_id, "object": "file", "bytes": size, "created_at": int(self._clock()),
            "filename": name, "purpose": "batch", "status": "processed",
        }  # fmt: skip

    def _batch_object(self, batch: _Batch) -> dict[str, Any]:
        return {
            "id": batch.id, "object": "batch", "endpoint": batch.endpoint,
            "input_file_id": batch.input_file_id, "completion_window": "24h",
            "status": batch.status, "created_at": int(batch.created_at),
            "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
            "request_counts": {"total": len(batch.lines), "completed": batch.completed,
                               "failed": batch.failed},
        }  # fmt: skip


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "fake_provider_error", "code": status}}
    return web.json_response(body, status=status)
