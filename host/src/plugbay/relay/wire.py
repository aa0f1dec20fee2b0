"""What the relay lane writes: one call's answer, and the notifications that precede it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio
import pydantic_core
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp_types import SERVER_INFO_META_KEY
from mcp_types.methods import serialize_server_result
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.types import Send

SESSION_HEADER = MCP_SESSION_ID_HEADER.encode()
_JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx: pass events on as they come
]
_PING = b": ping\r\n\r\n"


def event(message: dict[str, Any]) -> bytes:
    """One message as an SSE ``message`` event."""
    return b"event: message\r\ndata: " + pydantic_core.to_json(message) + b"\r\n\r\n"


def error(request_id: str | int, code: int, text: str) -> dict[str, Any]:
    """A JSON-RPC error answer."""
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": text}}


def shape_result(
    version: str, result: dict[str, Any], server_info: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """A ``tools/call`` result as the SDK puts it on the wire for ``version``.

    Fields the version does not define are sieved out; 2026-07-28 results carry
    ``resultType`` and the server's identity in ``_meta``.

    Raises:
        pydantic.ValidationError: The result is not a valid ``CallToolResult``.
    """
    shaped = serialize_server_result("tools/call", version, result)
    if version not in MODERN_PROTOCOL_VERSIONS:
        return shaped
    shaped.setdefault("resultType", "complete")
    meta = shaped.get("_meta")
    if meta is None:
        shaped["_meta"] = {SERVER_INFO_META_KEY: server_info()}
    elif isinstance(meta, dict) and meta.get(SERVER_INFO_META_KEY) is None:
        shaped["_meta"] = {**meta, SERVER_INFO_META_KEY: server_info()}
    return shaped


class Responder:
    """Writes one call's answer: a JSON body, or an event stream once something precedes it.

    Args:
        send: The ASGI ``send`` of the call's HTTP request.
        session_id: Echoed in ``Mcp-Session-Id`` (handshake-era sessions).
        json_only: The server answers with JSON bodies only; notifications are dropped.
    """

    __slots__ = ("_done", "_headers", "_json_only", "_lock", "_send", "_streaming", "quiet_since")

    def __init__(self, send: Send, session_id: str | None, json_only: bool) -> None:
        self._send = send
        self._headers = [(SESSION_HEADER, session_id.encode())] if session_id else []
        self._json_only = json_only
        self._streaming = False
        self._done = False
        # Made when the first notification streams: only then can two tasks write (a
        # notification from the backend's task while the call's own task answers).
        self._lock: anyio.Lock | None = None
        self.quiet_since = anyio.current_time()
        """When the client last heard anything about this call."""

    async def notify(self, message: dict[str, Any]) -> None:
        """Send a notification about the call ahead of its answer (dropped in JSON mode)."""
        if self._json_only:
            return  # as on the SDK's path: a JSON answer has no room for notifications
        await self._stream(event(message))

    async def ping(self) -> None:
        """Keep a quiet call's stream alive for proxies that cut idle connections."""
        if not self._json_only:
            await self._stream(_PING)

    async def _stream(self, chunk: bytes) -> None:
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._done:
                return  # the answer has gone: nothing about the call may follow it
            if not self._streaming:
                self._streaming = True
                headers = _SSE_HEADERS + self._headers
                await self._send({"type": "http.response.start", "status": 200, "headers": headers})
            self.quiet_since = anyio.current_time()
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def answer(self, message: dict[str, Any], status: int = 200) -> None:
        """Send the call's answer and end the response.

        ``status`` applies only to an answer that is not on an event stream already.
        """
        if self._lock is None:
            # Nothing was streamed, and from here on nothing will be: no lock needed.
            self._done = True
            await self._send_json(message, status)
            return
        async with self._lock:
            self._done = True
            if self._streaming:
                await self._send({"type": "http.response.body", "body": event(message)})
            else:
                await self._send_json(message, status)

    async def _send_json(self, message: dict[str, Any], status: int) -> None:
        body = pydantic_core.to_json(message)
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *self._headers]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})


class RelayedSession:
    """The part of the SDK's server session a :class:`plugbay.Context` uses.

    Args:
        responder: Where the call's notifications go.
        progress_token: The request's ``_meta.progressToken``; without one, progress
            is not reported.
        log_levels: The levels of log messages the client takes for this call.
    """

    __slots__ = ("_log_levels", "_progress_token", "_responder")

    def __init__(
        self,
        responder: Responder,
        progress_token: str | int | None,
        log_levels: frozenset[str],
    ) -> None:
        self._responder = responder
        self._progress_token = progress_token
        self._log_levels = log_levels

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Send ``notifications/progress``, when the client asked for progress."""
        if self._progress_token is None:
            return
        params: dict[str, Any] = {"progressToken": self._progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        notification = {"jsonrpc": "2.0", "method": "notifications/progress", "params": params}
        await self._responder.notify(notification)

    async def send_log_message(
        self,
        level: str,
        data: Any,
        logger: str | None = None,
        related_request_id: Any = None,
    ) -> None:
        """Send ``notifications/message``, at a level the client takes."""
        if level not in self._log_levels:
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        notification = {"jsonrpc": "2.0", "method": "notifications/message", "params": params}
        await self._responder.notify(notification)


class RelayedRequest:
    """Stands in for the SDK's request context in :attr:`plugbay.Call.request`.

    It offers what the host's own code reads there: the JSON-RPC ``request_id``, the
    HTTP ``request`` (the audit log's client address) and the ``session``; and the
    request's ``params`` and ``meta`` (its ``_meta``).
    """

    __slots__ = ("meta", "params", "request", "request_id", "session")

    def __init__(
        self,
        request_id: str | int,
        request: Request,
        session: RelayedSession,
        params: Mapping[str, Any],
        meta: Mapping[str, Any] | None,
    ) -> None:
        self.request_id = request_id
        self.request = request
        self.session = session
        self.params = params
        self.meta = meta
