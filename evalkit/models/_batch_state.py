"""The batch state files: which submitted batch answers which calls, so a rerun resumes it.

One JSON file per batch under ``<cache_dir>/batches/``, written once when the batch is created
(atomically: a killed run leaves the old file or the new one, never half of one) and removed
once its answers are handed over. It maps each request's ``custom_id`` to the call's cache key,
the identity of a call across runs; a rerun whose calls include some of those keys polls that
batch instead of submitting them again. It names the endpoint by a digest of the model and
address only: no API key, and no address with its credentials, reaches the disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pydantic

_SUBDIR: Final = "batches"


class BatchState(pydantic.BaseModel):
    """One submitted batch, as its state file holds it."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    batch_id: str
    #: :func:`endpoint_digest` of the model and address the batch went to.
    endpoint: str
    #: the model string, to say in a note which batch is being waited for.
    model: str
    #: custom_id -> cache key of the call it asks.
    requests: Mapping[str, str]


def endpoint_digest(model: str, address: str | None) -> str:
    """A short stable name for ``model`` at ``address`` (the address never reaches the disk)."""
    return hashlib.sha256(f"{model}\n{address or ''}".encode()).hexdigest()[:16]


class BatchStates:
    """The state files under one cache folder."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = Path(cache_dir) / _SUBDIR

    def save(self, state: BatchState) -> Path:
        """Write ``state``'s file atomically and return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(state.batch_id)
        partial = path.with_suffix(".json.partial")
        partial.write_text(state.model_dump_json(indent=1), encoding="utf-8")
        os.replace(partial, path)
        return path

    def open_batches(self, endpoint: str) -> tuple[list[BatchState], list[str]]:
        """The batches still open for ``endpoint``, and one note per unreadable state file.

        An unreadable file is left in place and reported, not fatal: at worst its calls are
        submitted again.
        """
        states: list[BatchState] = []
        notes: list[str] = []
        if not self.folder.is_dir():
            return states, notes
        for path in sorted(self.folder.glob("*.json")):
            try:
                state = BatchState.model_validate_json(path.read_bytes())
            except (OSError, ValueError) as exc:
                notes.append(
                    f"batch state file {path} is unreadable ({exc}); its calls are "
                    "submitted again; delete the file once that batch is not needed"
                )
                continue
            if state.endpoint == endpoint:
                states.append(state)
        return states, notes

    def drop(self, batch_id: str) -> None:
        """Remove the state file of a batch whose answers were handed over."""
        with contextlib.suppress(FileNotFoundError):
            self._path(batch_id).unlink()

    def _path(self, batch_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in batch_id)
        return self.folder / f"{safe}.json"
