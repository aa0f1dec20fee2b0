"""The per-call context a tool can ask for by adding a parameter typed :class:`Context`."""

from __future__ import annotations

import threading
import warnings
from typing import Any

from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import LoggingLevel

from plugbay.auth import LOCAL_PRINCIPAL, Principal
from plugbay.errors import CallCancelled
from plugbay.sessions import log_wanted


class Context:
    """What a running tool, resource or prompt may know and do about its call.

    Declare a parameter typed ``Context`` to receive it; it is not part of the input
    schema. Outside a live MCP request (``plugbay call``, direct tests) progress and
    log messages are dropped quietly, so tools need no special casing.

    A sync tool runs in a worker thread, which cannot be stopped: past its timeout
    (or cancelled by the client) the call is answered at once and the thread runs on.
    The host then marks the context cancelled, so a long sync tool polls
    :attr:`cancelled` or calls :meth:`raise_if_cancelled` between steps and stops
    before its next side effect.
    """

    __slots__ = ("_cancelled", "_request", "principal")

    def __init__(self, request: Any = None, principal: Principal = LOCAL_PRINCIPAL) -> None:
        self._request = request
        self.principal = principal
        """The authenticated caller (``local`` on stdio)."""
        # Set by the event loop, read by the tool's worker thread.
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        """Whether the call was cancelled or timed out; its answer is already sent."""
        return self._cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`~plugbay.CallCancelled` if the call was cancelled or timed out.

        Call it between the steps of a long sync tool, before each side effect. What
        it raises goes nowhere (the caller has had its answer); it only ends the work.
        """
        if self._cancelled.is_set():
            raise CallCancelled("the call was cancelled or timed out; its work was stopped")

    def cancel(self) -> None:
        """Mark the call cancelled.

        The host does this when the call times out or the client cancels it; a test
        does it to check that a tool stops.
        """
        self._cancelled.set()

    @property
    def request_id(self) -> str | int | None:
        """The JSON-RPC id of the request being served, if there is one."""
        return getattr(self._request, "request_id", None)

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell the client how far the call has come.

        Sent only when the client asked for progress (a ``progressToken`` on the
        request); otherwise a no-op.
        """
        request = self._request
        if request is None:
            return
        # The session knows the caller's progress token however the request arrived:
        # on 2026-07-28+ (and in-process) it is not in ``request.meta`` at all.
        await request.session.report_progress(progress, total, message)

    async def log(self, level: LoggingLevel, data: Any, logger: str | None = None) -> None:
        """Send the client a log message (``notifications/message``) about this call.

        It travels with the call's response, if the client wants it: a 2025-11-25
        client gets the messages at or above the level it chose with
        ``logging/setLevel`` (every one before it chooses); a 2026-07-28 client those
        at or above the level its request opted in to (none without an opt-in).
        Outside a request it is a no-op.

        Args:
            level: ``debug``, ``info``, ``notice``, ``warning``, ``error``,
                ``critical``, ``alert`` or ``emergency``.
            data: Any JSON-able value; usually a string.
            logger: The name of the part that logs.
        """
        request = self._request
        if request is None or not log_wanted(request.session, level):
            return
        # MCP deprecates logging in 2026-07-28 but still delivers it, as above; the
        # warning is raised when the coroutine is made, so only that is wrapped.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            sending = request.session.send_log_message(
                level, data, logger=logger, related_request_id=request.request_id
            )
        await sending
