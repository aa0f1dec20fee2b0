"""A cap on the calls running at once, so a burst cannot exhaust the process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from plugbay import Call, CallRefused


class ConcurrencyCap:
    """Middleware that lets at most ``limit`` calls run at once.

    A call that finds every slot taken waits up to ``queue_timeout`` seconds for one,
    then is refused with a message that says to retry.

    Args:
        limit: Calls running at once, across every principal and session.
        queue_timeout: Seconds a call may wait for a slot.
    """

    def __init__(self, limit: int, queue_timeout: float) -> None:
        self.limit = limit
        self.queue_timeout = queue_timeout
        self._slots: anyio.Semaphore | None = None

    @property
    def running(self) -> int:
        """Calls holding a slot right now."""
        return 0 if self._slots is None else self.limit - self._slots.value

    async def __call__(self, call: Call, call_next: Callable[[Call], Awaitable[Any]]) -> Any:
        """Run the call in a free slot, waiting for one if need be."""
        if self._slots is None:
            # Made in the running event loop, on first use.
            self._slots = anyio.Semaphore(self.limit)
        slots = self._slots
        try:
            slots.acquire_nowait()
        except anyio.WouldBlock:
            with anyio.move_on_after(self.queue_timeout) as waiting:
                await slots.acquire()
            if waiting.cancelled_caught:
                raise CallRefused(
                    f"The server is running its limit of {self.limit} calls at once; "
                    "retry in a few seconds",
                    outcome="busy",
                    retry_after=max(1.0, self.queue_timeout),
                ) from None
        try:
            return await call_next(call)
        finally:
            slots.release()
