"""Graceful shutdown: calls in flight finish before the server stops.

When uvicorn is asked to stop (SIGTERM, Ctrl-C) it stops accepting connections and
waits for the open ones. Its SSE helper would end every event stream at once, which
cuts off a tool call whose answer travels on one; instead the streams are held open
until the calls in flight have finished (or ``[server] shutdown_grace`` has passed),
then released so uvicorn can finish. A second Ctrl-C still stops at once.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext as SdkCallNext

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
SETTLE_SECONDS = 0.25
"""After the last call returns, time for its answer to reach the client's stream."""


class GracefulShutdown:
    """Counts the calls in flight, so the HTTP server can wait for them when it stops.

    :meth:`track` is MCP SDK middleware (``Server.middleware``), installed by the HTTP
    transport only: stdio and in-process servers have nothing to drain. Calls that
    arrive while draining (on connections opened before) run and are waited for too.

    Args:
        grace: Seconds the calls in flight may take to finish once stopping began.
    """

    CALLS = frozenset({"tools/call", "resources/read", "prompts/get", "completion/complete"})
    """The requests waited for; long-lived streams (``subscriptions/listen``) are not."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.in_flight = 0
        self.draining = False
        self._idle: anyio.Event | None = None

    async def track(self, ctx: ServerRequestContext[Any, Any], call_next: SdkCallNext) -> Any:
        """Count a call while it runs."""
        if ctx.method not in self.CALLS:
            return await call_next(ctx)
        self.in_flight += 1
        try:
            return await call_next(ctx)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0 and self._idle is not None:
                self._idle.set()

    async def drain(self) -> int:
        """Wait for the calls in flight; return how many did not finish within the grace."""
        self.draining = True
        if self.in_flight:
            self._idle = anyio.Event()
            with anyio.move_on_after(self.grace):
                await self._idle.wait()
        return self.in_flight

    async def hold_streams_until_drained(self) -> None:
        """Run for the life of the HTTP application (in its lifespan task group).

        Takes over ending the SSE streams from ``sse-starlette`` while it runs; the
        caller must cancel it when the application stops, which hands that back.
        """
        from sse_starlette.sse import AppStatus

        AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]
        try:
            # uvicorn's signal handler only sets a flag; nothing can be awaited instead.
            while not _uvicorn_is_exiting():  # noqa: ASYNC110
                await anyio.sleep(POLL_SECONDS)
            if self.in_flight:
                logger.info(
                    "waiting up to %gs for %d call(s) to finish", self.grace, self.in_flight
                )
            left = await self.drain()
            if left:
                logger.warning("%d call(s) still running after %gs; stopping", left, self.grace)
            await anyio.sleep(SETTLE_SECONDS)
            AppStatus.should_exit = True
            await anyio.sleep_forever()
        finally:
            # The flag is process-wide: a later server in this process starts clean.
            AppStatus.should_exit = False
            AppStatus.enable_automatic_graceful_drain_mode()  # type: ignore[no-untyped-call]


def _uvicorn_is_exiting() -> bool:
    """Whether a uvicorn server in this process has been asked to stop.

    uvicorn's signal handler is a bound method of its ``Server`` while it serves,
    which is how ``sse-starlette`` finds it too.
    """
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
