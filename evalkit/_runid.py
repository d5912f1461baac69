"""Run ids: sortable, unique, and cheap to make (no heavy imports here)."""

from __future__ import annotations

import datetime as dt
import secrets


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus a short random suffix.

    >>> new_run_id(dt.datetime(2026, 11, 25, 16, 0, 1, tzinfo=dt.UTC))[:16]
    '20261125-160001-'
    """
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
