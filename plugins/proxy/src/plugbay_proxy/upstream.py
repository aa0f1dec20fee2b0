"""One upstream MCP server: a supervised client connection that comes back after outages.

A background task owns the ``mcp.Client``: it connects, lists what the upstream
offers, then watches the connection (end of the stdio stream, a transport failure, a
failed health probe, a call that finds the connection closed). When the connection
is lost it waits (exponential backoff with jitter) and connects again; meanwhile
calls fail at once with a message that names the upstream and says when the next
attempt is. The listing is kept across outages, so clients keep seeing the tools.

The backoff is a few lines of arithmetic rather than ``tenacity`` or ``stamina``:
those retry one function call, while this loop keeps a connection open for hours
between attempts, restarts its count after a stable connection, and must show the
next attempt's time in ``plugbay plugins`` and ``/readyz``.

The task is an asyncio task: plugbay serves on asyncio (uvicorn, ``anyio.run``),
and a connection that outlives ``start()`` cannot live in a task group that
``start()`` would have to leave open.

The class is built in layers, one module each, every layer using only those below it:

- :mod:`plugbay_proxy.state`: the shared state, what operators and callers are told;
- :mod:`plugbay_proxy.mirror`: listing the upstream's components and keeping them current;
- :mod:`plugbay_proxy.forwarding`: forwarding calls, their progress and log messages;
- :mod:`plugbay_proxy.connection`: opening one connection and watching it;
- this module: the supervisor that reconnects, with its backoff.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

import anyio

from plugbay_proxy.connection import UpstreamConnection
from plugbay_proxy.errors import UpstreamUnavailable, describe_error
from plugbay_proxy.mirror import MAX_PAGES, RELIST_DELAY
from plugbay_proxy.state import CLOSE_TIMEOUT, Listing, Phase

# Re-exported: these names were defined here before the class was split into layers.
__all__ = [
    "CLOSE_TIMEOUT",
    "MAX_PAGES",
    "RELIST_DELAY",
    "STABLE_AFTER",
    "Listing",
    "Phase",
    "Upstream",
    "UpstreamUnavailable",
    "backoff_delay",
    "describe_error",
]

logger = logging.getLogger(__name__)

STABLE_AFTER = 10.0
"""Seconds a connection must last before the backoff starts again from the beginning."""


def backoff_delay(
    attempt: int, *, initial: float, maximum: float, rng: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before reconnection attempt ``attempt`` (0 for the first).

    Exponential (``initial * 2**attempt``, capped at ``maximum``) with "equal jitter":
    a random point in the upper half of that range, so that many plugbays losing
    one upstream together do not return in step, while the wait still grows.
    """
    ceiling = min(maximum, initial * 2.0 ** min(attempt, 30))
    return ceiling / 2 + rng() * ceiling / 2


class Upstream(UpstreamConnection):
    """A supervised connection to one upstream MCP server.

    Args:
        name: The proxy instance's name, used in every message.
        settings: How to reach the upstream.
        on_listing: Called (in the supervising task) whenever the listing changes,
            including after each reconnection.
    """

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Start supervising; wait up to ``start_wait`` seconds for the first attempt."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("plugbay-proxy runs on an asyncio event loop") from None
        self._task = loop.create_task(self._supervise(), name=f"plugbay-proxy:{self.name}")
        with anyio.move_on_after(self.settings.start_wait):
            await self._first_attempt.wait()

    async def stop(self) -> None:
        """Close the connection (stopping a stdio upstream's process) and stop supervising."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with anyio.move_on_after(CLOSE_TIMEOUT + 1):
                await asyncio.wait({task})
        self.phase = "stopped"
        self.retry_at = None

    # -- supervision ---------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            self._begin_attempt()
            started = time.monotonic()
            try:
                await self._connection()
                reason = "the connection closed"
            except Exception as error:
                reason = describe_error(error)
                if self._http_refusal is not None:
                    reason = f"{reason}; the upstream answered {self._http_refusal}"
            finally:
                self._client = None
                self._lost = None
                self._relist = None
                self._first_attempt.set()
                await self._close_fast_caller()
            reason = self._loss_reason or reason
            if self._loss_reason is not None and time.monotonic() - started >= STABLE_AFTER:
                self.failures = 0  # it was up for a while: start the backoff over
            delay = backoff_delay(
                self.failures,
                initial=self.settings.reconnect_initial,
                maximum=self.settings.reconnect_max,
            )
            self.failures += 1
            self.phase = "down"
            self.reason = reason
            self.retry_at = time.monotonic() + delay
            logger.warning(
                "upstream %s (%s) is down: %s; reconnecting in %.1f s",
                self.name,
                self.settings.target,
                reason,
                delay,
            )
            await anyio.sleep(delay)

    def _begin_attempt(self) -> None:
        self.phase = "connecting"
        self.retry_at = None
        self._loss_reason = None
        self._http_refusal = None
        self._session_id = None
