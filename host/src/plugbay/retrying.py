"""Starting again, in the background, the connector instances that failed to start.

A database that is down for the first seconds (containers starting in any order, a
laptop waking up) should not leave its instance off until someone restarts the
server. While the server runs, each instance whose ``start()`` failed is started again
after a wait that doubles from ``[server] retry_initial`` (1 s) up to ``retry_max``
(60 s), with jitter so that many servers do not knock on one database in step. Once
it starts, its tools, resources and prompts join the catalog, connected clients get
``list_changed``, and ``/readyz`` counts it as ready.

Instances that are not configured (a missing setting or variable) or that could not
be created are not retried: their configuration does not change while the server
runs. Each failed attempt is logged once, at WARNING, with the reason (log records
are cleaned of secrets, see :mod:`plugbay.redaction`). The retries stop when the
server stops.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from plugbay.assembly import START_TIMEOUT, Assembly
from plugbay.config import ServerConfig
from plugbay.instances import InstanceState

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts: doubling from ``initial`` up to ``maximum`` seconds.

    Each wait is drawn between half and all of its step ("equal jitter"), so that
    servers restarted together spread their attempts while each still backs off.
    """

    initial: float = 1.0
    maximum: float = 60.0

    @classmethod
    def from_settings(cls, settings: ServerConfig) -> Backoff:
        """The backoff ``[server] retry_initial`` and ``retry_max`` ask for."""
        return cls(settings.retry_initial, settings.retry_max)

    def delays(self) -> Iterator[float]:
        """The waits, without end."""
        step = min(self.initial, self.maximum)
        while True:
            # Not cryptographic: jitter only spreads the attempts.
            yield random.uniform(step / 2, step)  # noqa: S311
            step = min(step * 2, self.maximum)


def retryable(assembly: Assembly) -> list[str]:
    """The instances worth starting again: those whose ``start()`` failed."""
    # An instance that could not be created or assembled has no object; one that is
    # "not configured" lacks settings. Neither would start on a second try.
    return [
        name
        for name, state in assembly.instances.items()
        if state.status == "failed" and state.obj is not None
    ]


async def _release(state: InstanceState) -> None:
    """Close what a failed ``start()`` may have opened before it raised."""
    assert state.obj is not None
    with anyio.CancelScope(shield=True), anyio.move_on_after(START_TIMEOUT):
        try:
            await state.obj.stop()
        except Exception:
            logger.debug("stop() of instance %s after a failed start", state.name, exc_info=True)


async def retry_until_started(assembly: Assembly, name: str, backoff: Backoff) -> None:
    """Start the failed instance ``name`` again and again, with backoff, until it serves."""
    state = assembly.instances[name]
    delays = backoff.delays()
    delay = next(delays)
    attempt = 1
    try:
        while True:
            state.retry_at = anyio.current_time() + delay
            await anyio.sleep(delay)
            state.retry_at = None
            attempt += 1
            await _release(state)
            try:
                error: Exception | None = await assembly.start_instance(name)
            except Exception as unexpected:  # a background task must not stop the server
                logger.exception("retrying connector instance %s failed", name)
                error = unexpected
            if error is None:
                logger.info("connector instance %s started (attempt %d)", name, attempt)
                return
            delay = next(delays)
            logger.warning(
                "connector instance %s failed to start (attempt %d): %s: %s; next try in %.1f s",
                name,
                attempt,
                type(error).__name__,
                error,
                delay,
            )
    except anyio.get_cancelled_exc_class():
        # The server is stopping. An attempt cut short may have opened something.
        state.retry_at = None
        if state.status != "ready":
            await _release(state)
        raise


async def retry_failed(assembly: Assembly, backoff: Backoff) -> None:
    """Retry every instance that failed to start; returns once all of them serve."""
    async with anyio.create_task_group() as group:
        for name in retryable(assembly):
            group.start_soon(retry_until_started, assembly, name, backoff)


@asynccontextmanager
async def retrying(assembly: Assembly) -> AsyncIterator[None]:
    """Retry the failed instances in the background while the block runs; stop on exit.

    Enter it after :meth:`Assembly.start`, leave it before :meth:`Assembly.stop`.
    """
    backoff = Backoff.from_settings(assembly.config.server)
    async with anyio.create_task_group() as group:
        group.start_soon(retry_failed, assembly, backoff)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
