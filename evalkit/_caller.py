"""Where a declaration was written: relative paths in a suite module are relative to its folder."""

from __future__ import annotations

import sys
from pathlib import Path


def caller_dir(depth: int) -> Path:
    """The folder of the source file ``depth`` frames up from this call.

    Dataclasses with a ``default_factory=lambda: caller_dir(3)`` get the folder of the module
    that constructed them: caller_dir <- the factory <- ``__init__`` <- the caller.
    """
    return Path(sys._getframe(depth).f_code.co_filename).resolve().parent
