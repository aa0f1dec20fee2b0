"""Tool calls to a streamable HTTP upstream without the SDK client's layers.

Measured on the reference machine, one ``tools/call`` through ``mcp.Client`` over
streamable HTTP costs the caller about 1.8 ms of CPU, of which about 1 ms is its HTTP
library alone; a plain HTTP/1.1 exchange on asyncio streams costs about 0.15 ms. A
gateway pays that on every call, so calls take this path: the request is written as
JSON by hand, the answer (JSON, or an SSE stream carrying progress and log messages
before it) is read on a kept-alive connection, and only the final result is parsed
into a model. The SDK client still owns the session: handshake, listings, the
server's own stream, health probes, and every call this path does not cover.

Covered: plain ``http://`` and ``https://`` URLs without an HTTP proxy in the
environment, tools whose input schema does not ask for ``Mcp-Param`` headers.
Anything unexpected on the wire raises :class:`FastPathUnsupported` before the
upstream can have acted on the request, and the caller falls back to the SDK.

A handshake-era server may end a call's event stream before the answer once it has
sent an event id (to poll a long call, or because the network dropped it); the call
is then resumed as the 2025-11-25 transport says: after the ``retry`` the server
asked for, a ``GET`` with ``Last-Event-ID`` brings the rest of the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import mcp_types as types
import pydantic_core
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import encode_header_value
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from plugbay_proxy.wire import Body, ClosedBeforeAnswer, Cursor, next_message, response_head

logger = logging.getLogger(__name__)

IDLE_LIMIT = 4.0
"""Seconds a pooled connection may idle before it is dropped: below uvicorn's default
keep-alive (5 s), so a request rarely meets a connection the server is closing."""
DRAIN_TIMEOUT = 1.0
"""Seconds to wait for the rest of a response body after the result, before giving up
on reusing the connection."""
MAX_IDLE_CONNECTIONS = 32
DEFAULT_RETRY = 1.0
"""Seconds to wait before resuming an event stream whose server gave no ``retry``."""
RESUME_ATTEMPTS = 3
"""Reconnections in a row that bring nothing new before a call is given up."""

OnNotification = Callable[[str, Mapping[str, Any]], Awaitable[None]]
RELAYED_CAPABILITIES: Mapping[str, Any] = {
    "sampling": {},
    "elicitation": {"form": {}, "url": {}},
    "roots": {"listChanged": True},
}
"""What the proxy can ask its callers' clients, as the SDK client declares it too; a
caller whose client cannot answer gets the upstream's error."""
OnRequest = Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]]
"""Answers a request the upstream sent on a call's stream: the JSON-RPC response to post."""


class FastPathUnsupported(Exception):
    """The upstream answered in a way this path does not handle; use the SDK client."""


class UpstreamGone(Exception):
    """The connection to the upstream failed, or it ended the session.

    Whether the upstream is down is for the caller to find out (the SDK client's own
    connection is the judge): one call's stream can fail while the server is fine.
    """


class _ResumeRefused(Exception):
    """The server answered a resumption with an HTTP error."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """Where and how to reach the upstream."""

    host: str
    port: int
    path: str
    secure: bool

    @classmethod
    def parse(cls, url: str) -> HttpTarget | None:
        """The target of a URL, or ``None`` when this path cannot serve it."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
            return None
        if _uses_proxy(parts.scheme, parts.hostname):
            return None  # the SDK's HTTP client honours HTTP(S)_PROXY; this path would not
        secure = parts.scheme == "https"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, parts.port or (443 if secure else 80), path, secure)

    @property
    def authority(self) -> str:
        """The ``Host`` header's value."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"


def _uses_proxy(scheme: str, host: str) -> bool:
    proxies = urllib.request.getproxies()
    return scheme in proxies and not urllib.request.proxy_bypass(host)


@dataclass
class _Call:
    """One call in progress: its id, where what the upstream sends goes, where it stands."""

    request_id: str
    on_notification: OnNotification
    on_request: OnRequest | None
    cursor: Cursor = field(default_factory=Cursor)


def tool_needs_sdk(tool: types.Tool) -> bool:
    """Whether calls to ``tool`` need the SDK (its arguments are mirrored into headers)."""
    return "x-mcp-header" in json.dumps(tool.input_schema)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()
        self.used = False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class HttpToolCaller:
    """Makes ``tools/call`` requests to one streamable HTTP upstream, on pooled connections.

    Args:
        target: The upstream endpoint.
        headers: Headers for every request (authorization, the operator's own).
        protocol_version: The era negotiated by the SDK client's handshake.
        session_id: The handshake era's ``Mcp-Session-Id``, if the server gave one.
        client_info: ``{"name", "version"}``, for the 2026-07-28 ``_meta`` envelope.
        log_level: The log level to opt in to on 2026-07-28.
        connect_timeout: Seconds to open a connection.
    """

    def __init__(
        self,
        target: HttpTarget,
        headers: Mapping[str, str],
        *,
        protocol_version: str,
        session_id: str | None,
        client_info: Mapping[str, str],
        log_level: str | None,
        connect_timeout: float,
    ) -> None:
        self.target = target
        self.protocol_version = protocol_version
        self.modern = protocol_version in MODERN_PROTOCOL_VERSIONS
        self.connect_timeout = connect_timeout
        self._client_info = dict(client_info)
        self._log_level = log_level
        self._ids = itertools.count(1)
        self._idle: list[_Connection] = []
        self._ssl = ssl.create_default_context() if target.secure else None
        fixed = {
            "host": target.authority,
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-protocol-version": protocol_version,
        }
        if session_id is not None:
            fixed["mcp-session-id"] = session_id
        fixed.update({name.lower(): value for name, value in headers.items()})
        self._head = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        # A resumption is a GET without a body: it asks for the event stream only.
        fixed["accept"] = "text/event-stream"
        del fixed["content-type"]
        self._resume_head = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())

    def request_id(self) -> str:
        """A JSON-RPC id that cannot collide with the SDK client's integer ids."""
        return f"pb-{next(self._ids)}"

    async def call_tool(
        self,
        request_id: str,
        name: str,
        arguments: Mapping[str, Any],
        on_notification: OnNotification,
        on_request: OnRequest | None = None,
        *,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> dict[str, Any]:
        """Send ``tools/call`` and return the raw result; notifications go to ``on_notification``.

        Requests the upstream sends on the call's stream (2025-11-25 sampling,
        elicitation, roots) are answered by ``on_request`` (refused without one).
        ``input_responses`` and ``request_state`` answer a 2026-07-28 upstream's
        ``input_required`` result of the previous round.

        Raises:
            MCPError: The upstream answered with a JSON-RPC error.
            UpstreamGone: The connection failed or the session ended.
            FastPathUnsupported: The answer was of a kind this path does not read; the
                upstream did not act on the request.
        """
        params: dict[str, Any] = {
            "name": name,
            "arguments": dict(arguments),
            "_meta": {"progressToken": request_id},
        }
        if input_responses is not None:
            params["inputResponses"] = dict(input_responses)
        if request_state is not None:
            params["requestState"] = request_state
        extra = ""
        if self.modern:
            meta = params["_meta"]
            meta["io.modelcontextprotocol/protocolVersion"] = self.protocol_version
            meta["io.modelcontextprotocol/clientInfo"] = self._client_info
            meta["io.modelcontextprotocol/clientCapabilities"] = RELAYED_CAPABILITIES
            if self._log_level is not None:
                meta["io.modelcontextprotocol/logLevel"] = self._log_level
            extra = f"mcp-method: tools/call\r\nmcp-name: {encode_header_value(name)}\r\n"
        body = pydantic_core.to_json(
            {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
        )
        call = _Call(request_id, on_notification, on_request)
        result = await self._post(body, extra, call)
        if result is None:
            result = await self._resume(call)
        return result

    async def _post(self, body: bytes, extra: str, call: _Call) -> dict[str, Any] | None:
        """Send the request; its result, or ``None`` when its event stream ended early."""
        for attempt in (1, 2):
            connection = await self._connection()
            reused = connection.used
            head = (
                f"POST {self.target.path} HTTP/1.1\r\n{self._head}{extra}"
                f"content-length: {len(body)}\r\n\r\n"
            )
            try:
                connection.writer.write(head.encode("latin-1") + body)
                return await self._exchange(connection, call)
            except ClosedBeforeAnswer:
                connection.close()
                # A kept-alive connection the server had closed: nothing was processed,
                # so one more try on a fresh connection is safe.
                if not reused or attempt == 2:
                    raise UpstreamGone("the upstream closed the connection") from None
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _resume(self, call: _Call) -> dict[str, Any]:
        """Reconnect to a call's interrupted event stream until its result arrives.

        Each attempt waits the server's ``retry`` (or :data:`DEFAULT_RETRY`), then asks
        for the events after the last one received. An attempt that brings no new
        event counts as a failure; :data:`RESUME_ATTEMPTS` of them in a row end the call.
        """
        failures = 0
        problem = "it sent nothing new"
        cursor = call.cursor
        while True:
            if self.modern or cursor.last_event_id is None:
                # Nothing to resume from (2026-07-28 streams cannot be resumed at all).
                raise UpstreamGone("the upstream's event stream ended without an answer")
            if failures >= RESUME_ATTEMPTS:
                raise UpstreamGone(
                    "the upstream's event stream ended without an answer, and "
                    f"{RESUME_ATTEMPTS} attempts to resume it failed (the last: {problem})"
                )
            await asyncio.sleep(cursor.retry if cursor.retry is not None else DEFAULT_RETRY)
            seen = cursor.last_event_id
            logger.debug("resuming the event stream of %s after event %s", call.request_id, seen)
            try:
                connection = await self._open()
            except UpstreamGone as error:
                failures, problem = failures + 1, str(error)
                continue
            head = f"GET {self.target.path} HTTP/1.1\r\n{self._resume_head}last-event-id: {seen}"
            try:
                connection.writer.write(f"{head}\r\n\r\n".encode("latin-1"))
                result = await self._exchange(connection, call, resumed=True)
            except _ResumeRefused as refused:
                # A client error (the session ended, GET not offered, no such event) is
                # final; a server error or a rate limit may pass.
                if 400 <= refused.status < 500 and refused.status not in (408, 429):
                    raise UpstreamGone(
                        "the upstream's event stream ended without an answer, and it "
                        f"refused to resume it (HTTP {refused.status})"
                    ) from None
                failures, problem = failures + 1, f"HTTP {refused.status}"
                continue
            except (UpstreamGone, ClosedBeforeAnswer) as error:
                failures, problem = failures + 1, str(error) or "the connection closed"
                continue
            finally:
                connection.close()  # a resumed stream stays open after the answer
            if result is not None:
                return result
            failures = 0 if cursor.last_event_id != seen else failures + 1

    async def aclose(self) -> None:
        """Close the pooled connections."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_LIMIT and not connection.reader.at_eof():
                return connection
            connection.close()
        return await self._open()

    async def _open(self) -> _Connection:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.target.host,
                    self.target.port,
                    ssl=self._ssl,
                    server_hostname=self.target.host if self._ssl else None,
                ),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as error:
            raise UpstreamGone(f"{type(error).__name__}: {error}") from None
        return _Connection(reader, writer)

    def _release(self, connection: _Connection) -> None:
        connection.used = True
        connection.idle_since = time.monotonic()
        if len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            connection.close()

    async def _exchange(
        self, connection: _Connection, call: _Call, *, resumed: bool = False
    ) -> dict[str, Any] | None:
        """Read the answer to the request just written; ``None`` if its stream ended early.

        A stream that ends (or whose connection drops) after an event id is left for
        :meth:`_resume`; one without an id cannot be resumed and raises
        :class:`UpstreamGone`, as does a connection that fails before the answer.
        """
        streaming = False
        try:
            status, headers = await response_head(connection.reader)
            body_reader = Body(connection.reader, headers)
            content_type = headers.get("content-type", "").lower()
            if status != 200:
                refusal = await body_reader.read_all()
                if resumed:
                    raise _ResumeRefused(status)
                return await self._refusal(status, content_type, refusal)
            if content_type.startswith("application/json") and not resumed:
                message = pydantic_core.from_json(await body_reader.read_all())
                result: dict[str, Any] | None = self._result_of(message, call.request_id)
            elif content_type.startswith("text/event-stream"):
                streaming = True
                result = await self._from_events(body_reader, call)
                if result is not None and not resumed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(body_reader.drain(), DRAIN_TIMEOUT)
            else:
                raise MCPError(types.INTERNAL_ERROR, f"the upstream answered with {content_type!r}")
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
            if streaming and call.cursor.last_event_id is not None and not self.modern:
                connection.close()
                return None  # dropped mid-stream after an id: resumable
            raise UpstreamGone(f"{type(error).__name__}: {error}") from None
        if (
            result is not None
            and not resumed
            and body_reader.complete
            and headers.get("connection", "").lower() != "close"
        ):
            self._release(connection)
        else:
            connection.close()
        return result

    async def _refusal(self, status: int, content_type: str, body: bytes) -> dict[str, Any]:
        if 300 <= status < 400:
            raise FastPathUnsupported(f"HTTP {status}")  # redirects: the SDK knows the rules
        if content_type.startswith("application/json"):
            with contextlib.suppress(ValueError):
                message = json.loads(body)
                error = message.get("error") if isinstance(message, dict) else None
                if isinstance(error, dict) and "code" in error:
                    raise MCPError(int(error["code"]), str(error.get("message")), error.get("data"))
        if status == 404 and not self.modern:
            raise UpstreamGone("the upstream ended the session (HTTP 404)")
        if status in (401, 403):
            raise UpstreamGone(f"the upstream answered HTTP {status}")
        raise MCPError(types.INTERNAL_ERROR, f"the upstream answered HTTP {status}")

    def _result_of(self, message: Any, request_id: str) -> dict[str, Any]:
        if not isinstance(message, dict) or message.get("id") != request_id:
            raise MCPError(types.INTERNAL_ERROR, "the upstream answered another request")
        if "error" in message:
            error = message["error"]
            raise MCPError(int(error.get("code", 0)), str(error.get("message")), error.get("data"))
        result: dict[str, Any] = message["result"]
        return result

    async def _from_events(self, body: Body, call: _Call) -> dict[str, Any] | None:
        """Notifications and requests are handled as they come; the result, or ``None``."""
        while (message := await next_message(body, call.cursor)) is not None:
            if "method" in message and "id" not in message:
                await call.on_notification(message["method"], message.get("params") or {})
            elif "method" in message:
                await self._respond(await self._answer(call, message))
            elif "id" in message and ("result" in message or "error" in message):
                return self._result_of(message, call.request_id)
        return None

    async def _answer(self, call: _Call, message: Mapping[str, Any]) -> Mapping[str, Any]:
        if call.on_request is not None:
            return await call.on_request(message)
        return {
            "jsonrpc": "2.0",
            "id": message["id"],
            "error": {"code": types.METHOD_NOT_FOUND, "message": "not relayed by plugbay"},
        }

    async def _respond(self, response: Mapping[str, Any]) -> None:
        """Post the answer to an upstream's request, on another connection than the call's.

        Raises:
            UpstreamGone: It could not be delivered (the call would then wait forever).
        """
        body = pydantic_core.to_json(response)
        connection = await self._connection()
        head = (
            f"POST {self.target.path} HTTP/1.1\r\n{self._head}content-length: {len(body)}\r\n\r\n"
        )
        try:
            connection.writer.write(head.encode("latin-1") + body)
            status, headers = await response_head(connection.reader)
            reply = Body(connection.reader, headers)
            await reply.read_all()
        except (ClosedBeforeAnswer, ConnectionError, asyncio.IncompleteReadError, OSError) as error:
            connection.close()
            raise UpstreamGone(f"could not answer the upstream's request: {error!r}") from None
        except BaseException:
            connection.close()
            raise
        if reply.complete and headers.get("connection", "").lower() != "close":
            self._release(connection)
        else:
            connection.close()
        if status not in (200, 202):
            raise UpstreamGone(f"the upstream refused the answer to its request (HTTP {status})")
