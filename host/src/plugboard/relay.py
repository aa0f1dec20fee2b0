"""The relay lane: calls of pass-through tools, served without the SDK's session machinery.

A gateway's tools (the ``proxy`` plugin's, any :class:`plugboard.DynamicTool` marked
``relay=True``) do nothing in-process but forward the call to another MCP server. For
them the SDK's streamable HTTP path (the request parsed into models, queued on memory
streams, dispatched on a task, answered on an SSE stream with a task group of its own)
costs more CPU than the forwarding itself. This lane answers such a call on the HTTP
request directly: the body is parsed once, the same catalog entry runs through the same
middleware (policy, limits, audit, timeouts), and the answer goes back as one JSON body,
or as an event stream as soon as the call reports progress or logs.

The lane takes only requests it can answer exactly as the SDK would; everything else
(other methods, other tools, unknown or foreign sessions, sessions still in their
handshake, 2026-07-28 requests, malformed bodies, wrong headers) is handed to the SDK's
transport with the body replayed, so every error and edge case keeps the SDK's behaviour.
It is off when resumable streams (``[server] event_store``) or telemetry are on, since
those record every message on the SDK's path, and ``[server] relay_lane = false`` turns
it off altogether.

The SDK (2.3) has no public handle on a session's transport, owner or handshake state;
what this module reads of them is gathered in :class:`SessionGate`, and anything it does
not find there sends the request down the SDK's path.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import anyio
import mcp_types as types
import pydantic_core
from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from mcp.server.context import CallNext, HandlerResult
from mcp.server.streamable_http import check_accept_headers
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp_types import DEFAULT_NEGOTIATED_VERSION
from mcp_types.methods import serialize_server_result
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plugboard.assembly import Assembly
from plugboard.auth import LOCAL_PRINCIPAL
from plugboard.catalog import Catalog, ToolEntry
from plugboard.errors import log_unexpected
from plugboard.hosting.shutdown import GracefulShutdown
from plugboard.middleware import Call
from plugboard.server import PRINCIPAL_SCOPE_KEY

logger = logging.getLogger(__name__)

SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"
PING_INTERVAL = 15.0
"""Seconds a relayed call may stay silent before its stream gets a keep-alive comment
(the interval of the SDK's SSE responses)."""
REQUEST_CANCELLED = -32800
"""What the handshake-era wire answers a cancelled request with (the SDK's choice, too)."""
_JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
]


class SessionGate:
    """What the lane may know about a stateful session, read from the SDK's session manager.

    A session is open to the lane once its handshake is done (noted by :meth:`track`,
    SDK middleware, when the session's first message after ``initialize`` succeeds) and
    while the SDK still serves it; the caller must be the credential that opened it.
    """

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self._manager = manager
        self._ready: dict[str, Any] = {}

    async def track(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """SDK middleware: note each session whose handshake has been accepted."""
        result = await call_next(ctx)
        request = ctx.request
        if request is not None and ctx.method != "initialize":
            session_id = request.headers.get("mcp-session-id")
            connection = getattr(ctx.session, "_connection", None)
            if (
                session_id is not None
                and connection is not None
                and session_id not in self._ready
                and getattr(connection, "initialize_accepted", False)
            ):
                self._ready[session_id] = connection
                connection.exit_stack.callback(self._ready.pop, session_id, None)
        return result

    def session(self, session_id: str, scope: Scope) -> tuple[Any, str] | None:
        """The session's SDK transport and protocol version, if the lane may serve it."""
        connection = self._ready.get(session_id)
        if connection is None:
            return None
        transport = self._manager._server_instances.get(session_id)
        if transport is None or transport.is_terminated:
            return None
        user = scope.get("user")
        requestor = authorization_context(user) if isinstance(user, AuthenticatedUser) else None
        if requestor != self._manager._session_owners.get(session_id):
            return None  # the SDK answers a foreign credential as if the session did not exist
        idle = getattr(transport, "idle_scope", None)
        if idle is not None and idle.cancel_called:
            return None  # the session is ending; the SDK says so
        if idle is not None and not hasattr(transport, "_requests_in_flight"):
            return None  # an SDK whose idle bookkeeping this lane does not know
        version = getattr(connection, "protocol_version", None)
        if version not in HANDSHAKE_PROTOCOL_VERSIONS:
            return None
        return transport, version

    @staticmethod
    @contextmanager
    def held(transport: Any) -> Iterator[None]:
        """Keep the session from expiring while a call runs, the way the SDK's requests do."""
        idle = getattr(transport, "idle_scope", None)
        timeout = getattr(transport, "_idle_timeout", None)
        if idle is None or timeout is None:
            yield
            return
        transport._requests_in_flight += 1
        idle.deadline = math.inf
        try:
            yield
        finally:
            transport._requests_in_flight -= 1
            if not transport._requests_in_flight:
                idle.deadline = anyio.current_time() + timeout


class _Responder:
    """Writes one call's answer: a JSON body, or an event stream once something precedes it."""

    __slots__ = ("_done", "_headers", "_json_only", "_lock", "_send", "_streaming", "quiet_since")

    def __init__(self, send: Send, session_id: str | None, json_only: bool) -> None:
        self._send = send
        self._headers = [(SESSION_HEADER, session_id.encode())] if session_id else []
        self._json_only = json_only
        self._streaming = False
        self._done = False
        self._lock = anyio.Lock()
        self.quiet_since = anyio.current_time()
        """When the client last heard anything about this call."""

    async def notify(self, message: dict[str, Any]) -> None:
        """Send a notification about the call ahead of its answer (dropped in JSON mode)."""
        if self._json_only:
            return  # as on the SDK's path: a JSON answer has no room for notifications
        await self._stream(_event(message))

    async def ping(self) -> None:
        """Keep a quiet call's stream alive for proxies that cut idle connections."""
        if not self._json_only:
            await self._stream(b": ping\r\n\r\n")

    async def _stream(self, chunk: bytes) -> None:
        async with self._lock:
            if self._done:
                return  # the answer has gone: nothing about the call may follow it
            if not self._streaming:
                self._streaming = True
                headers = _SSE_HEADERS + self._headers
                await self._send({"type": "http.response.start", "status": 200, "headers": headers})
            self.quiet_since = anyio.current_time()
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def answer(self, message: dict[str, Any]) -> None:
        """Send the call's answer and end the response."""
        async with self._lock:
            self._done = True
            if self._streaming:
                await self._send({"type": "http.response.body", "body": _event(message)})
                return
            body = pydantic_core.to_json(message)
            headers = [
                *_JSON_HEADERS,
                (b"content-length", str(len(body)).encode()),
                *self._headers,
            ]
            await self._send({"type": "http.response.start", "status": 200, "headers": headers})
            await self._send({"type": "http.response.body", "body": body})


def _event(message: dict[str, Any]) -> bytes:
    return b"event: message\r\ndata: " + pydantic_core.to_json(message) + b"\r\n\r\n"


class _RelayedSession:
    """The part of the SDK's server session a :class:`plugboard.Context` uses."""

    __slots__ = ("_progress_token", "_responder")

    def __init__(self, responder: _Responder, progress_token: str | int | None) -> None:
        self._responder = responder
        self._progress_token = progress_token

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        if self._progress_token is None:
            return  # the client did not ask for progress
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
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        notification = {"jsonrpc": "2.0", "method": "notifications/message", "params": params}
        await self._responder.notify(notification)


class _RelayedRequest:
    """Stands in for the SDK's request context in :attr:`Call.request` on the lane."""

    __slots__ = ("request", "request_id", "session")

    def __init__(self, request_id: str | int, request: Request, session: _RelayedSession) -> None:
        self.request_id = request_id
        self.request = request
        self.session = session


class RelayLane:
    """ASGI middleware in front of the SDK's streamable HTTP app; see the module docstring.

    Args:
        app: The SDK's streamable HTTP application, which serves everything else.
        assembly: Whose catalog the lane serves from.
        manager: The SDK's session manager behind ``app``.
        security: The DNS-rebinding protection ``app`` applies.
        json_response: Whether the server answers with JSON bodies only.
        stateless: Whether the server runs without sessions.
        max_body: The largest request body accepted.
        shutdown: Counts the calls in flight for a graceful stop.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        assembly: Assembly,
        manager: StreamableHTTPSessionManager,
        security: TransportSecuritySettings | None,
        json_response: bool,
        stateless: bool,
        max_body: int,
        shutdown: GracefulShutdown,
    ) -> None:
        self.app = app
        self.assembly = assembly
        self.gate = SessionGate(manager)
        self.json_response = json_response
        self.stateless = stateless
        self.max_body = max_body
        self.shutdown = shutdown
        self._security = TransportSecurityMiddleware(security)
        self._in_flight: dict[tuple[str | None, str | int], anyio.CancelScope] = {}
        self._answering: set[_Responder] = set()
        self._enabled = _has_relays(assembly.catalog)
        assembly.listeners.append(self._catalog_replaced)

    async def _catalog_replaced(self, previous: Catalog, current: Catalog) -> None:
        self._enabled = _has_relays(current)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a relayed ``tools/call`` (or its cancellation) here; pass the rest on."""
        if not self._enabled or scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, complete = await self._read_body(scope, receive)
        if complete and await self._serve(scope, body, send):
            return
        await self.app(scope, _replaying(body, complete, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, bool]:
        """The request body, and whether it is all there (not over the size limit)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False  # a disconnect: the SDK's path deals with it
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > self.max_body:
                return b"".join(chunks), False  # the SDK's size limit answers 413
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _serve(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer the request if it is one for the lane; ``False`` leaves it to the SDK."""
        headers = dict(scope["headers"])
        version = headers.get(VERSION_HEADER)
        if version is not None and version.decode("latin-1") not in HANDSHAKE_PROTOCOL_VERSIONS:
            return False  # 2026-07-28 requests are validated by the SDK's classifier
        try:
            message = pydantic_core.from_json(body)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return False
        method = message.get("method")
        if method == "tools/call":
            return await self._call(scope, headers, message, send)
        if method == "notifications/cancelled" and "id" not in message:
            return await self._cancel(scope, headers, message, send)
        return False

    async def _admitted(
        self, scope: Scope, headers: Mapping[bytes, bytes]
    ) -> tuple[Any, str] | None:
        """``(transport, protocol version)`` if the SDK would accept this POST, else ``None``.

        The transport is ``None`` on a stateless server.
        """
        request = Request(scope)
        has_json, has_sse = check_accept_headers(request)
        if not has_json or not (has_sse or self.json_response):
            return None
        if await self._security.validate_request(request, is_post=True) is not None:
            return None
        if self.stateless:
            version = headers.get(VERSION_HEADER)
            return None, version.decode("latin-1") if version else DEFAULT_NEGOTIATED_VERSION
        session_id = headers.get(SESSION_HEADER)
        if session_id is None:
            return None
        return self.gate.session(session_id.decode("latin-1"), scope)

    async def _call(
        self, scope: Scope, headers: Mapping[bytes, bytes], message: dict[str, Any], send: Send
    ) -> bool:
        request_id = message.get("id")
        params = message.get("params")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            return False
        if not isinstance(params, dict):
            return False
        name, arguments, meta = params.get("name"), params.get("arguments"), params.get("_meta")
        if not isinstance(name, str) or not isinstance(arguments, dict | None):
            return False
        if not isinstance(meta, dict | None):
            return False
        progress_token = meta.get("progressToken") if meta else None
        if not isinstance(progress_token, str | int | None) or isinstance(progress_token, bool):
            return False
        entry = self.assembly.catalog.tools.get(name)
        if entry is None or not entry.relay:
            return False
        admitted = await self._admitted(scope, headers)
        if admitted is None:
            return False
        transport, version = admitted
        session_id = None if self.stateless else headers[SESSION_HEADER].decode("latin-1")
        responder = _Responder(send, session_id, self.json_response)
        request = _RelayedRequest(
            request_id, Request(scope), _RelayedSession(responder, progress_token)
        )
        call = Call(
            kind="tool",
            name=name,
            arguments=arguments or {},
            principal=scope.get(PRINCIPAL_SCOPE_KEY, LOCAL_PRINCIPAL),
            instance=entry.owner.instance,
            plugin=entry.owner.plugin,
            annotations=entry.annotations,
            timeout=entry.timeout,
            request=request,
        )
        self._answering.add(responder)
        try:
            with SessionGate.held(transport), self.shutdown.counting():
                answer = await self._run(entry, call, version, (session_id, request_id))
                await responder.answer(answer)
        finally:
            self._answering.discard(responder)
        return True

    async def keep_alive(self) -> None:
        """Ping the streams of calls that have been quiet for :data:`PING_INTERVAL`.

        Runs for the life of the application (in its lifespan task group), so a call
        pays for no timer of its own. As on the SDK's path, a long call's answer then
        comes on an event stream whose comments keep proxies from closing it as idle.
        """
        while True:
            await anyio.sleep(PING_INTERVAL / 3)
            due = anyio.current_time() - PING_INTERVAL
            for responder in [r for r in self._answering if r.quiet_since <= due]:
                try:
                    await responder.ping()
                except Exception:  # a client that went away must not stop the others' pings
                    logger.debug("could not ping a relayed call's stream", exc_info=True)

    async def _run(
        self, entry: ToolEntry, call: Call, version: str, key: tuple[str | None, str | int]
    ) -> dict[str, Any]:
        """Run the call, cancellable by the client, and return its JSON-RPC answer."""
        request_id = key[1]
        # A client reusing an id still in flight gets the later call cancellable.
        with anyio.CancelScope() as scope:
            self._in_flight[key] = scope
            try:
                result = await entry.handle(call)
                dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
                # Shaped for the session's protocol version, as the SDK shapes results.
                wire = serialize_server_result("tools/call", version, dumped)
                return {"jsonrpc": "2.0", "id": request_id, "result": wire}
            except ValidationError:
                logger.exception("tool %s returned an invalid result", call.name)
                text = "Handler returned an invalid result"
                return _error(request_id, types.INTERNAL_ERROR, text)
            except Exception as error:  # entry.handle turns failures into results; this is a bug
                reference = log_unexpected(f"tool {call.name}", error)
                return _error(
                    request_id,
                    types.INTERNAL_ERROR,
                    f"Internal error; the server log has the details under reference {reference}",
                )
            finally:
                if self._in_flight.get(key) is scope:
                    del self._in_flight[key]
        return _error(request_id, REQUEST_CANCELLED, "Request cancelled")

    async def _cancel(
        self, scope: Scope, headers: Mapping[bytes, bytes], message: dict[str, Any], send: Send
    ) -> bool:
        """Cancel a call running on the lane; other cancellations are the SDK's."""
        params = message.get("params")
        request_id = params.get("requestId") if isinstance(params, dict) else None
        session = headers.get(SESSION_HEADER)
        key = (session.decode("latin-1") if session is not None else None, request_id)
        running = self._in_flight.get(key)  # type: ignore[arg-type]
        if running is None or self.stateless:
            return False
        if await self._admitted(scope, headers) is None:
            return False
        running.cancel()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return True


def _error(request_id: str | int, code: int, text: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": text}}


def _has_relays(catalog: Catalog) -> bool:
    return any(entry.relay for entry in catalog.tools.values())


def _replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """``receive`` with the body already read handed out first."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": not complete}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
