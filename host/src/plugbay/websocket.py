"""MCP over WebSocket: one connection is one session, at ``/ws`` (subprotocol ``mcp``).

Each text frame carries one JSON-RPC message, both ways, as the TypeScript SDK's
``WebSocketClientTransport`` sends and expects them. The session is the SDK's
transport-agnostic one, served as stdio is (``Server.run`` on a pair of streams,
guarded by :func:`plugbay.answers.answering`), so a frame that is not JSON is
answered ``-32700`` and the connection goes on.

The handshake passes the same guards as the streamable HTTP endpoint (Host and
Origin checks, the client allow-list, authentication): they are ASGI middleware for
HTTP requests, so the handshake is shown to them as the ``GET`` it arrived as. What
they answer instead of letting it through is sent back as the handshake's HTTP
response where the ASGI server supports that (uvicorn does), else the connection is
closed with ``1008`` before it opens. The principal they settle on is the session's
for every request on the connection.

A frame over ``max_message_bytes`` closes the connection with ``1009`` and a binary
frame with ``1003``: the peer has broken the framing, and a session cannot resync
after a message it never received.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from anyio import CancelScope
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types import jsonrpc_message_adapter
from pydantic import ValidationError
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from plugbay.answers import answering
from plugbay.server import PRINCIPAL_SCOPE_KEY, PlugbayServer

logger = logging.getLogger(__name__)

WEBSOCKET_PATH = "/ws"
SUBPROTOCOL = "mcp"
"""The subprotocol a client must offer (``Sec-WebSocket-Protocol: mcp``)."""

CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009

_ADMITTED = "plugbay.websocket.admitted"
_PASSED_ON = (PRINCIPAL_SCOPE_KEY, "user")
"""What the guards leave in the scope for the session: the principal and the SDK's user."""
_DENIAL = "websocket.http.response"
"""The ASGI extension that lets an application answer a handshake with an HTTP response."""

Guard = Callable[[ASGIApp], ASGIApp]
"""Wraps an ASGI application in the checks every MCP endpoint gets (``http_app``'s ``guarded``)."""


def websocket_route(
    server: PlugbayServer,
    *,
    guard: Guard,
    max_message_bytes: int,
    path: str = WEBSOCKET_PATH,
) -> WebSocketRoute:
    """The route serving MCP over WebSocket.

    Args:
        server: The MCP server each connection is a session of.
        guard: The checks in front of the other MCP endpoints; the handshake must pass
            them as a ``GET`` of ``path`` would.
        max_message_bytes: The largest frame accepted (``[server] max_request_body_bytes``).
        path: Where it is served.
    """
    endpoint = WebSocketEndpoint(server, guard=guard, max_message_bytes=max_message_bytes)
    return WebSocketRoute(path, endpoint=endpoint)


class _Admit:
    """The innermost application of the guards: reaching it means the handshake passed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_ADMITTED] = True


class WebSocketEndpoint:
    """The ASGI application of :func:`websocket_route`: one MCP session per connection."""

    def __init__(self, server: PlugbayServer, *, guard: Guard, max_message_bytes: int) -> None:
        self.server = server
        self.max_message_bytes = max_message_bytes
        self._checked = guard(_Admit())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the handshake, then serve the session until either side closes."""
        if scope["type"] != "websocket":  # pragma: no cover - WebSocketRoute sends only these
            return
        if not await self._admit(scope, send):
            return
        if SUBPROTOCOL not in scope.get("subprotocols", []):
            await _deny(
                scope,
                send,
                400,
                f"Offer the {SUBPROTOCOL!r} WebSocket subprotocol to speak MCP here".encode(),
                [(b"content-type", b"text/plain; charset=utf-8")],
            )
            return
        websocket = WebSocket(scope, receive, send)
        await websocket.accept(subprotocol=SUBPROTOCOL)
        await self._serve(websocket)

    async def _admit(self, scope: Scope, send: Send) -> bool:
        """Run the guards on the handshake; deny it with their answer if they refused it."""
        view: dict[str, Any] = {
            **scope,
            "type": "http",
            "method": "GET",
            "scheme": "https" if scope.get("scheme") == "wss" else "http",
        }
        view.pop(_ADMITTED, None)
        answer: list[Message] = []

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def keep(message: Message) -> None:
            answer.append(message)

        await self._checked(view, no_body, keep)
        if view.get(_ADMITTED):
            for key in _PASSED_ON:
                if key in view:
                    scope[key] = view[key]
            return True
        start = next((m for m in answer if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
        status = start["status"] if start is not None else 403
        headers = list(start.get("headers", [])) if start is not None else []
        logger.info("refused a WebSocket handshake with %d", status)
        await _deny(scope, send, status, body, headers)
        return False

    async def _serve(self, websocket: WebSocket) -> None:
        """Relay frames to and from one SDK session until it ends."""
        to_server, from_client = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        to_client, from_server = anyio.create_memory_object_stream[SessionMessage](0)
        sdk = self.server.sdk
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._read_frames, websocket, to_server)
            tasks.start_soon(_write_frames, websocket, from_server, tasks.cancel_scope)
            # Unreadable frames and reused request ids get answers (plugbay.answers).
            read_stream, write_stream = answering(from_client, to_client)
            await sdk.run(read_stream, write_stream, sdk.create_initialization_options())
            tasks.cancel_scope.cancel()
        await _close(websocket, CLOSE_NORMAL)

    async def _read_frames(
        self, websocket: WebSocket, to_server: ObjectSendStream[SessionMessage | Exception]
    ) -> None:
        """Hand each frame to the session; end its input when the connection ends."""
        # The session's requests read the caller from here, as they read an HTTP request.
        metadata = ServerMessageMetadata(request_context=websocket)
        async with to_server:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    await _close(websocket, CLOSE_UNSUPPORTED_DATA, "MCP messages are text frames")
                    return
                if _too_big(text, self.max_message_bytes):
                    limit = self.max_message_bytes
                    await _close(websocket, CLOSE_TOO_BIG, f"a message is at most {limit} bytes")
                    return
                try:
                    parsed = jsonrpc_message_adapter.validate_json(text, by_name=False)
                except ValidationError as error:
                    await to_server.send(error)  # answered -32700 or -32600 by answering()
                    continue
                await to_server.send(SessionMessage(parsed, metadata=metadata))


async def _write_frames(
    websocket: WebSocket,
    from_server: ObjectReceiveStream[SessionMessage],
    connection: CancelScope,
) -> None:
    """Send each of the session's messages as a text frame."""
    async with from_server:
        async for item in from_server:
            text = item.message.model_dump_json(by_alias=True, exclude_unset=True)
            try:
                await websocket.send_text(text)
            except (OSError, RuntimeError, WebSocketDisconnect):
                # The client went away (or the connection was closed for a bad frame):
                # nothing more can reach it, so the session ends.
                logger.debug("a WebSocket client is gone; ending its session")
                connection.cancel()
                return


def _too_big(text: str, limit: int) -> bool:
    # A character is at most four bytes in UTF-8: most frames need no encoding to tell.
    return len(text) * 4 > limit and len(text.encode()) > limit


async def _close(websocket: WebSocket, code: int, reason: str = "") -> None:
    """Close the connection unless it is already closed."""
    try:
        await websocket.close(code, reason)
    except (OSError, RuntimeError, WebSocketDisconnect):
        logger.debug("the WebSocket connection was already closed")


async def _deny(
    scope: Scope, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    """Answer a handshake with an HTTP response, or close it before it opens."""
    if _DENIAL not in scope.get("extensions", {}):
        # Before the handshake completes, a close becomes a plain 403 refusal.
        await send({"type": "websocket.close", "code": CLOSE_POLICY_VIOLATION})
        return
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})
