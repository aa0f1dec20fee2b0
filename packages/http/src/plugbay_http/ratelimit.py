"""A client-side rate limiter that keeps a connector under a backend's published limit.

SaaS limits are usually stated as "N requests per T seconds", and several (Copper's
among them) are evaluated on a *rolling* window. A leaky or token bucket sized to
N/T lets through up to about 2N requests in some window of T seconds, so it would
bounce off such a limit; a moving window that remembers each request's time never
does. The window comes from the ``limits`` library, whose storage can also be Redis
(``async+redis://...``) so that several processes share one budget.

One subtlety decides whether the limit holds in practice: the backend counts a
request when it *arrives*, which is some unknown time after we send it. So a request
occupies a slot from the moment it is sent, and enters the window with the time it
*finished*, which is never earlier than its arrival. Request N+1 is sent only once a
slot's time is more than T seconds old, so however slow the network, the backend
never sees N+1 requests within T seconds.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

DEFAULT_STORAGE = "async+memory://"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` requests in any rolling window of ``per_seconds`` seconds.

    Attributes:
        requests: How many requests the window holds.
        per_seconds: The window's length in whole seconds (as published limits are).
    """

    requests: int
    per_seconds: int = 1

    def __post_init__(self) -> None:
        if self.requests < 1:
            raise ValueError("a rate limit allows at least one request")
        if self.per_seconds < 1:
            raise ValueError("a rate limit window is at least one second")

    @property
    def margin(self) -> float:
        """Seconds of slack after a slot frees up, for clock granularity and drift."""
        return 0.05 + 0.005 * self.per_seconds

    def __str__(self) -> str:
        return f"{self.requests} requests per {self.per_seconds} s"


class RateLimiter:
    """Makes requests wait, when needed, so that they stay within a :class:`RateLimit`.

    Wrap each request (each attempt, retries included) in :meth:`slot`::

        async with limiter.slot():
            response = await client.get(url)

    Args:
        limit: The limit to keep.
        key: What the budget belongs to (an API key's owner, an account). Clients in
            one process share a budget by sharing one limiter; limiters in several
            processes share one through a common storage and the same key.
        storage_uri: A ``limits`` async storage URI. The default keeps the window in
            this process; ``async+redis://host:6379`` shares the finished requests'
            times between processes (requests in flight are known per process only).
    """

    def __init__(
        self, limit: RateLimit, *, key: str = "default", storage_uri: str = DEFAULT_STORAGE
    ) -> None:
        self.limit = limit
        self.key = key
        self._item: RateLimitItem = RateLimitItemPerSecond(limit.requests, limit.per_seconds)
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"{storage_uri!r} is not an async storage (use async+...://)")
        self._storage = storage
        self._window = MovingWindowRateLimiter(storage)
        self._in_flight = 0
        self._lock = anyio.Lock()
        self._released = anyio.Event()

    @property
    def in_flight(self) -> int:
        """Requests sent and not finished yet."""
        return self._in_flight

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold a slot for one request: wait for it, send inside, release on exit.

        Yields:
            The seconds spent waiting for the slot.
        """
        waited = await self.acquire()
        try:
            yield waited
        finally:
            with anyio.CancelScope(shield=True):
                await self.release()

    async def acquire(self) -> float:
        """Wait for a free slot and take it; pair with :meth:`release`.

        Returns:
            The seconds spent waiting (0.0 when a slot was free at once).
        """
        started = time.monotonic()
        while True:
            async with self._lock:
                stats = await self._window.get_window_stats(self._item, self.key)
                if stats.remaining - self._in_flight >= 1:
                    self._in_flight += 1
                    return time.monotonic() - started
                released = self._released
                # With the window itself full, a slot frees when its oldest entry
                # leaves it; otherwise when a request in flight finishes.
                delay = (
                    max(stats.reset_time - time.time(), 0.0) + self.limit.margin
                    if stats.remaining < 1
                    else None
                )
            with anyio.move_on_after(delay):
                await released.wait()

    async def release(self) -> None:
        """Give back a slot taken by :meth:`acquire`; the request counts from now."""
        async with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            # The slot enters the window with the time the request finished: never
            # earlier than the backend saw it arrive.
            await self._window.hit(self._item, self.key)
            self._released.set()
            self._released = anyio.Event()

    async def remaining(self) -> int:
        """How many requests could be sent right now without waiting."""
        stats = await self._window.get_window_stats(self._item, self.key)
        return max(stats.remaining - self._in_flight, 0)

    async def reset(self) -> None:
        """Forget every request counted so far (for tests and after credential changes)."""
        await self._window.clear(self._item, self.key)

    async def close(self) -> None:
        """Release the storage's resources (the in-memory store's expiry task)."""
        if isinstance(self._storage, MemoryStorage):
            timer = getattr(self._storage, "timer", None)
            if timer is not None and not timer.done():
                timer.cancel()
