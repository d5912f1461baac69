"""The garbage collector paused while a run loads, and what loading made kept out of it.

Loading a run (pytest's collection, the suites' modules with pandas and pydantic, litellm, the
preflight) creates some 600,000 objects that live to the end of the process, and almost no
garbage: a full collection right after it frees about 2,000. With the collector on, each of
the seven or so full collections that loading triggers walks every object made so far, which
is 0.6-0.9 s of a 3 s start-up on 2 cores (measured: ``import litellm`` alone 2.9 s with the
collector on, 2.1 s with it paused). Paused while loading, then frozen (``gc.freeze``), those
objects are never walked again, and the run's own collections stay short as well.
"""

from __future__ import annotations

import gc


def pause() -> bool:
    """Stop automatic garbage collection; True when this call stopped it.

    Only the call that stopped the collector should resume it (see :func:`resume`): a collector
    someone else turned off stays off.
    """
    if not gc.isenabled():
        return False
    gc.disable()
    return True


def resume(paused: bool) -> None:
    """After loading: keep every object alive now out of later collections, and collect again.

    Does nothing unless ``paused`` (what :func:`pause` returned). Freezing is only for a process
    started for this run: its loaded objects live until it exits, so leaving them out of the
    collections loses nothing.
    """
    if paused:
        gc.freeze()
        gc.enable()
