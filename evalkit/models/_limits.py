"""How many calls may be in flight at once, per model endpoint."""

from __future__ import annotations

import asyncio
import weakref


class ConcurrencyLimits:
    """One semaphore per ``(model, api_base)``, with ``default`` slots each.

    asyncio semaphores belong to the event loop that first waits on them, and evalkit may be
    driven by several ``asyncio.run`` calls in one process (pytest does this), so semaphores are
    kept per running loop and dropped with it.
    """

    def __init__(self, default: int = 16, per_model: dict[str, int] | None = None) -> None:
        if default < 1:
            raise ValueError(f"concurrency must be at least 1, got {default}")
        self.default = default
        self.per_model = dict(per_model or {})
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[str, str | None], asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    def slot(self, model: str, api_base: str | None) -> asyncio.Semaphore:
        """Return the semaphore that bounds calls to ``model`` at ``api_base`` on this loop."""
        loop = asyncio.get_running_loop()
        table = self._by_loop.get(loop)
        if table is None:
            table = self._by_loop[loop] = {}
        key = (model, api_base)
        sem = table.get(key)
        if sem is None:
            sem = table[key] = asyncio.Semaphore(self.per_model.get(model, self.default))
        return sem
