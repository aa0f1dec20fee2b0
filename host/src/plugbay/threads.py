"""Worker threads for sync tools, resources and prompts: a bounded pool per owner.

A sync component runs in a worker thread. Each connector instance (and each plugin's
freestanding components) has its own pool, a :class:`anyio.CapacityLimiter` apart from
anyio's default one, which the SDK uses too (the stdio transport reads and writes its
pipes through it). So a burst of slow sync calls makes only the calls of the same
instance wait: async tools, other instances and protocol messages go on.

A thread cannot be stopped. A call that times out or is cancelled answers at once and
leaves its thread running with the result discarded (the call's :class:`Context` is
marked cancelled, so a tool that polls ``ctx.cancelled`` stops at its next check); the
thread gives its slot back, so the pool can serve the next call, but it is counted as
*abandoned* until it returns. Once an owner has ``max_abandoned`` of them, its sync calls
are refused at once (fail fast) instead of starting ever more threads behind a backend
that hangs;
they are served again as soon as one of those threads returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from plugbay.errors import CallRefused

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 8
"""Threads one owner's sync calls may run at once (``[server] sync_workers``)."""
DEFAULT_MAX_ABANDONED = 8
"""Timed-out threads one owner may have still running (``[server] max_abandoned_threads``)."""


class _GivenUp(Exception):
    """The call was abandoned before its thread started: the function is not run."""


class _Job:
    __slots__ = ("abandoned", "done", "given_up", "started")

    def __init__(self) -> None:
        self.started = False
        self.done = False
        self.abandoned = False
        self.given_up = False


class WorkerThreads:
    """The worker threads of one connector instance, or of one plugin's own components.

    Args:
        owner: Who the threads serve, for messages (``instance 'crm'``).
        workers: Calls that may run in threads at once; more wait for a free one.
        max_abandoned: Timed-out calls whose threads may still be running before
            new calls are refused.
    """

    def __init__(
        self,
        owner: str,
        workers: int = DEFAULT_WORKERS,
        max_abandoned: int = DEFAULT_MAX_ABANDONED,
    ) -> None:
        if workers < 1 or max_abandoned < 1:
            raise ValueError("workers and max_abandoned must be at least 1")
        self.owner = owner
        self.workers = workers
        self.max_abandoned = max_abandoned
        self._limiter = anyio.CapacityLimiter(workers)
        # Threads finish outside the event loop: the count is shared with them.
        self._lock = threading.Lock()
        self._abandoned = 0

    @property
    def abandoned(self) -> int:
        """Threads of timed-out or cancelled calls that have not returned yet."""
        return self._abandoned

    @property
    def busy(self) -> int:
        """Calls running in a thread of the pool now (abandoned ones not counted)."""
        return int(self._limiter.borrowed_tokens)

    async def run(self, name: str, function: Callable[[], T]) -> T:
        """Run ``function`` in a worker thread of the pool and return its result.

        Waits for a free thread when all are busy. Cancelled (a timeout), it returns
        at once and the thread is counted as abandoned until ``function`` returns.

        Raises:
            CallRefused: The owner has ``max_abandoned`` abandoned threads running.
        """
        if self._abandoned >= self.max_abandoned:
            raise CallRefused(
                f"{name} was not started: {self._abandoned} earlier calls to {self.owner} "
                "timed out and are still running, the most this server allows; try again "
                "once they finish, and if this persists its backend may be hanging (tell "
                "the server's operator)",
                outcome="busy",
            )
        job = _Job()

        def work() -> T:
            with self._lock:
                if job.given_up:
                    raise _GivenUp
                job.started = True
            try:
                return function()
            finally:
                self._finished(name, job)

        try:
            return await anyio.to_thread.run_sync(
                work, abandon_on_cancel=True, limiter=self._limiter
            )
        except anyio.get_cancelled_exc_class():
            self._abandon(name, job)
            raise

    def _abandon(self, name: str, job: _Job) -> None:
        with self._lock:
            if job.done:
                return
            if not job.started:
                job.given_up = True  # still queued: its thread will skip it
                return
            job.abandoned = True
            self._abandoned += 1
            count = self._abandoned
        logger.warning(
            "%s: %s timed out or was cancelled while its worker thread runs; %d of at most "
            "%d such threads are running%s",
            self.owner,
            name,
            count,
            self.max_abandoned,
            " (new sync calls are refused until one returns)"
            if count >= self.max_abandoned
            else "",
        )

    def _finished(self, name: str, job: _Job) -> None:
        with self._lock:
            job.done = True
            if not job.abandoned:
                return
            self._abandoned -= 1
            count = self._abandoned
        logger.info(
            "%s: the abandoned thread of %s returned; %d still running", self.owner, name, count
        )
