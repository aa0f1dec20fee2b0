"""Slow and numerous clients: deadlines for request headers and bodies, a connection cap.

uvicorn closes a keep-alive connection that stays silent, but lets a client take as
long as it likes over a request's headers: one byte a second holds a connection, and
a file descriptor, forever. Two pieces close that, and they work together:

- :class:`GuardedHttpProtocol`, handed to uvicorn as its HTTP protocol (``http=``),
  wraps uvicorn's own protocol. A connection with no request being served
  ``header_timeout`` seconds after it opened, or after its last request ended, is
  closed (with ``408`` when part of a request had arrived); connections beyond
  ``max_connections`` are closed as they arrive, with ``503``.
- :class:`ConnectionGuard`, ASGI middleware outermost in the application, says when
  a request is being served (uvicorn calls the application once the headers are
  complete), and gives the body ``body_timeout`` seconds to arrive (then ``408``).

They meet in this module's table of open connections, keyed the way uvicorn fills the
ASGI scope (client and server address), which is why the application must see the
scope before anything rewrites its client (``X-Forwarded-For``): plugbay applies the
forwarded headers itself, inside, and runs uvicorn with ``proxy_headers=False``. Unix
sockets have no such key and are not guarded.

:class:`GuardedHttpProtocol` also turns Nagle's algorithm off on every TCP connection it
serves. asyncio does so only when the listening socket was created with protocol
``IPPROTO_TCP``; the socket ``plugbay serve`` binds itself (as any socket made with
``socket.socket(family, SOCK_STREAM)``) says protocol ``0``, so its connections kept
Nagle on, and a response written in several pieces (headers, then each chunk of an SSE
stream) waited for the client's delayed ACK: about 40 ms per request on a kept-alive
connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

Address = tuple[str, int]
_Key = tuple[Address, Address]


def _raw_response(status: str, text: str) -> bytes:
    """A complete ``Connection: close`` response, written before any request is read."""
    body = text.encode()
    head = f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    return head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body


_REFUSED = _raw_response("503 Service Unavailable", "Too many connections; retry later")
_TIMED_OUT = _raw_response("408 Request Timeout", "The request headers did not arrive in time")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How long a client may take and how many connections may be open.

    Attributes:
        header_timeout: Seconds to send a request's headers, from when the connection
            opens or its previous request ends.
        max_connections: Open connections at most, in this process.
    """

    header_timeout: float
    max_connections: int


_limits: ConnectionLimits | None = None
_open: dict[_Key, GuardedHttpProtocol] = {}


def guard_connections(limits: ConnectionLimits) -> None:
    """Turn the guard on in this process, with these limits (the application does it)."""
    global _limits
    _limits = limits


def open_connections() -> int:
    """How many guarded connections are open in this process."""
    return len(_open)


def _address(info: Any) -> Address | None:
    """``(host, port)`` of a socket address, as uvicorn puts it in the scope."""
    if isinstance(info, list | tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None


def _send_without_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on ``transport``'s socket, when it is a TCP socket.

    asyncio sets ``TCP_NODELAY`` itself only on sockets whose protocol number is
    ``IPPROTO_TCP``; a socket made with ``socket.socket(family, SOCK_STREAM)`` says ``0``
    and is left alone, so it is set here whatever made the listening socket.
    """
    sock = transport.get_extra_info("socket")
    if sock is None or sock.type != socket.SOCK_STREAM:
        return
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket: no Nagle there
    # The client may already have reset the connection; it is then closed anyway.
    with suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _scope_key(scope: Scope) -> _Key | None:
    client, server = scope.get("client"), scope.get("server")
    if client is None or server is None:
        return None
    return (str(client[0]), int(client[1])), (str(server[0]), int(server[1]))


class GuardedHttpProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol with a header deadline and a connection cap.

    uvicorn makes one per connection with its own keyword arguments, handed on
    unchanged to the protocol it would otherwise use (``http="auto"``). Until the
    application has called :func:`guard_connections`, connections pass through as if
    the guard were not there.
    """

    def __init__(self, **uvicorn_arguments: Any) -> None:
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        self._inner: asyncio.Protocol = AutoHTTPProtocol(**uvicorn_arguments)
        self._limits = _limits
        self._transport: asyncio.Transport | None = None
        self._key: _Key | None = None
        self._refused = False
        self._active = 0
        self._waiting_bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Count the connection (refusing it over the cap) and start its header clock."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        _send_without_delay(transport)
        peer = _address(transport.get_extra_info("peername"))
        local = _address(transport.get_extra_info("sockname"))
        if self._limits is None or peer is None or local is None:
            self._inner.connection_made(transport)
            return
        if len(_open) >= self._limits.max_connections:
            self._refused = True
            logger.warning(
                "refused a connection from %s: %d are open ([server] max_connections)",
                peer[0],
                len(_open),
            )
            transport.write(_REFUSED)
            transport.close()
            return
        self._key = (peer, local)
        _open[self._key] = self
        self._inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Hand the bytes on; while no request is served they count as a pending head."""
        if self._refused:
            return
        if self._active == 0:
            self._waiting_bytes += len(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        """Hand the end of input on."""
        if self._refused:
            return None
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection and tell the inner protocol."""
        if self._refused:
            return
        self._disarm()
        if self._key is not None and _open.get(self._key) is self:
            del _open[self._key]
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        """Hand flow control on."""
        if not self._refused:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        """Hand flow control on."""
        if not self._refused:
            self._inner.resume_writing()

    def request_started(self) -> None:
        """A request's headers are complete and the application serves it."""
        self._active += 1
        self._waiting_bytes = 0
        self._disarm()

    def request_ended(self) -> None:
        """The application has finished a request: the next one's headers are timed."""
        self._active -= 1
        if self._active == 0 and self._transport is not None and not self._transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        assert self._limits is not None
        self._disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._limits.header_timeout, self._expire)

    def upgrade_ended(self) -> None:
        """A WebSocket on this connection has ended: forget the connection.

        After the upgrade uvicorn hands the connection to its WebSocket protocol, so
        :meth:`connection_lost` never reaches this guard; without this the connection
        would hold a ``max_connections`` slot for ever.
        """
        self._active -= 1
        self._disarm()
        if self._key is not None and _open.get(self._key) is self:
            del _open[self._key]

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._active or self._transport is None or self._transport.is_closing():
            return
        if self._waiting_bytes:
            # Part of a request came and the rest did not: say why before closing.
            logger.info("closed a connection whose request headers did not arrive in time")
            self._transport.write(_TIMED_OUT)
        self._transport.close()


class ConnectionGuard:
    """ASGI middleware: marks requests as served, and times and bounds their bodies.

    The body is read here, before the application runs, within ``body_timeout``
    seconds and ``max_body_bytes`` bytes (``408`` or ``413`` otherwise, and the
    connection is closed); the application then reads it from memory. MCP bodies are
    read whole anyway, so this costs no extra memory.

    Args:
        app: The application.
        body_timeout: Seconds a request body may take to arrive.
        max_body_bytes: The largest body accepted.
    """

    def __init__(self, app: ASGIApp, *, body_timeout: float, max_body_bytes: int) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request (or pass anything else on)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        key = _scope_key(scope)
        connection = _open.get(key) if key is not None else None
        if connection is not None:
            connection.request_started()
        try:
            if scope["type"] == "http":
                replay = await self._read_body(scope, receive, send)
                if replay is None:
                    return
                receive = replay
            await self.app(scope, receive, send)
        finally:
            if connection is not None:
                if scope["type"] == "websocket":
                    connection.upgrade_ended()
                else:
                    connection.request_ended()

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """A ``receive`` that replays the body read in time, or ``None`` once refused."""
        messages: deque[Message] = deque()
        size = 0
        with anyio.move_on_after(self.body_timeout) as deadline:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break  # the client went away: the application hears it
                size += len(message.get("body", b""))
                if size > self.max_body_bytes:
                    await _close_with(
                        Response("Request body too large", status_code=413), scope, send
                    )
                    return None
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            refusal = JSONResponse(
                {
                    "error": "request_timeout",
                    "error_description": (
                        f"the request body did not arrive within {self.body_timeout:g} seconds"
                    ),
                },
                status_code=408,
            )
            await _close_with(refusal, scope, send)
            return None

        async def replay() -> Message:
            if messages:
                return messages.popleft()
            return await receive()

        return replay


async def _close_with(response: Response, scope: Scope, send: Send) -> None:
    """Send ``response`` and have the server close the connection after it."""
    response.headers["connection"] = "close"

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
