"""Stand-ins for the clock and ``sleep``, so that tests assert delays, never wall time."""

import asyncio


class RecordedSleep:
    """A client ``sleep`` that records each delay and yields once instead of waiting.

    Tests assert the delays the client chose, so no assertion depends on the wall clock.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)
