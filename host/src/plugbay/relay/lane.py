"""The lane itself: ASGI middleware in front of the SDK's streamable HTTP application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import anyio
import mcp_types as types
import pydantic_core
from mcp.server import Server, ServerRequestContext
from mcp.server.context import HandlerResult, ServerMiddleware
from mcp.server.streamable_http import REQUEST_CANCELLED
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plugbay.assembly import Assembly
from plugbay.auth import LOCAL_PRINCIPAL
from plugbay.catalog import Catalog, ToolEntry
from plugbay.errors import internal_error_text, log_unexpected
from plugbay.hosting.bodies import read_body, replaying
from plugbay.middleware import Call
from plugbay.relay.admission import Admission, Admissions, ToolCallRequest, requested_era
from plugbay.relay.sessions import SessionGate
from plugbay.relay.wire import (
    SESSION_HEADER,
    RelayedRequest,
    RelayedSession,
    Responder,
    error,
    shape_result,
)
from plugbay.server import PRINCIPAL_SCOPE_KEY

logger = logging.getLogger(__name__)

PING_INTERVAL = 15.0
"""Seconds a relayed call may stay silent before its stream gets a keep-alive comment
(the interval of the SDK's own event streams)."""

_CallKey = tuple[str | None, str | int]


class RelayLane:
    """Answers relayed ``tools/call`` requests itself and passes everything else on.

    Args:
        app: The SDK's streamable HTTP application, which serves everything else.
        assembly: Whose catalog the lane serves from.
        manager: The SDK's session manager behind ``app``.
        security: The DNS-rebinding protection ``app`` applies.
        sdk: The SDK server behind ``app``: its middleware (telemetry spans, the
            graceful stop's count, error hiding) wraps lane calls too, and 2026-07-28
            results carry its identity.
        json_response: Whether the server answers with JSON bodies only.
        stateless: Whether handshake-era requests come without sessions.
        max_body: The largest request body accepted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        assembly: Assembly,
        manager: StreamableHTTPSessionManager,
        security: TransportSecuritySettings | None,
        sdk: Server[Any],
        json_response: bool,
        stateless: bool,
        max_body: int,
    ) -> None:
        self.app = app
        self.assembly = assembly
        self.gate = SessionGate(manager)
        self.admissions = Admissions(
            self.gate, security, json_response=json_response, stateless=stateless
        )
        self.sdk = sdk
        self.json_response = json_response
        self.max_body = max_body
        self._in_flight: dict[_CallKey, anyio.CancelScope] = {}
        self._answering: set[Responder] = set()
        self._enabled = _has_relays(assembly.catalog)
        assembly.listeners.append(self._catalog_replaced)

    async def _catalog_replaced(self, previous: Catalog, current: Catalog) -> None:
        self._enabled = _has_relays(current)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a relayed ``tools/call`` (or its cancellation) here; pass the rest on."""
        if not self._enabled or scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, self.max_body)
        if complete and await self._serve(scope, body, receive, send):
            return
        await self.app(scope, replaying(body, complete, receive), send)

    async def _serve(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        """Answer the request if it is one for the lane; ``False`` leaves it to the SDK."""
        try:
            message = pydantic_core.from_json(body)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return False
        method = message.get("method")
        # The first of repeated headers counts, as in the SDK's (Starlette's) reading.
        headers = dict(reversed(scope["headers"]))
        if method == "tools/call":
            return await self._call(scope, headers, message, receive, send)
        if method == "notifications/cancelled" and "id" not in message:
            return await self._cancel(scope, headers, message, send)
        return False

    async def _call(
        self,
        scope: Scope,
        headers: Mapping[bytes, bytes],
        message: dict[str, Any],
        receive: Receive,
        send: Send,
    ) -> bool:
        request = ToolCallRequest.parse(message)
        if request is None:
            return False
        entry = self.assembly.catalog.tools.get(request.name)
        if entry is None or not entry.relay:
            return False
        http_request = Request(scope)
        admission = await self.admissions.admit(http_request, headers, message, request, entry)
        if admission is None or (admission.modern and not _on_asyncio()):
            return False  # (the lane watches for a 2026-07-28 client hanging up on asyncio only)
        responder = Responder(send, admission.session_id, self.json_response)
        session = RelayedSession(responder, request.progress_token, admission.log_levels)
        call = Call(
            kind="tool",
            name=request.name,
            arguments=request.arguments,
            principal=scope.get(PRINCIPAL_SCOPE_KEY, LOCAL_PRINCIPAL),
            instance=entry.owner.instance,
            plugin=entry.owner.plugin,
            annotations=entry.annotations,
            timeout=entry.timeout,
            request=RelayedRequest(
                request.request_id, http_request, session, request.params, request.meta
            ),
        )
        self._answering.add(responder)
        try:
            with SessionGate.held(admission.transport):
                if admission.modern:
                    await self._answer_unless_gone(entry, call, admission, responder, receive)
                else:
                    key = (admission.session_id, request.request_id)
                    await self._answer(entry, call, admission, responder, key)
        finally:
            self._answering.discard(responder)
        return True

    async def _answer(
        self,
        entry: ToolEntry,
        call: Call,
        admission: Admission,
        responder: Responder,
        key: _CallKey,
    ) -> None:
        """Run a handshake-era call, cancellable with ``notifications/cancelled``."""
        request_id = key[1]
        # What the SDK's handshake-era path answers a cancelled request with.
        answer = error(request_id, REQUEST_CANCELLED, "Request cancelled")
        with anyio.CancelScope() as scope:
            # A client reusing an id still in flight can cancel the later call.
            self._in_flight[key] = scope
            try:
                answer = await self._run(entry, call, admission.version)
            finally:
                if self._in_flight.get(key) is scope:
                    del self._in_flight[key]
        await responder.answer(answer)

    async def _answer_unless_gone(
        self,
        entry: ToolEntry,
        call: Call,
        admission: Admission,
        responder: Responder,
        receive: Receive,
    ) -> None:
        """Run a 2026-07-28 call, which the client cancels by closing its connection."""
        with anyio.CancelScope() as scope, _cancelled_on_disconnect(receive, scope):
            answer = await self._run(entry, call, admission.version)
        if scope.cancelled_caught:
            return  # the client has gone: nobody is there to answer
        code = answer["error"]["code"] if "error" in answer else None
        await responder.answer(answer, ERROR_CODE_HTTP_STATUS.get(code, 200) if code else 200)

    async def _run(self, entry: ToolEntry, call: Call, version: str) -> dict[str, Any]:
        """Run the call inside the SDK server's middleware and shape its JSON-RPC answer."""
        request = call.request
        request_id = request.request_id

        async def handle(ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
            result = await entry.handle(call)
            dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
            try:
                return shape_result(version, dumped, lambda: self.sdk.server_info_stamp)
            except ValidationError:
                # As the SDK does: a server bug, its details in the log and not on the wire.
                logger.exception("tool %s returned an invalid result", call.name)
                raise MCPError(types.INTERNAL_ERROR, "Handler returned an invalid result") from None

        ctx: ServerRequestContext[Any, Any] = ServerRequestContext(
            session=request.session,  # the part of a ServerSession that Context uses
            lifespan_context=None,
            protocol_version=version,
            method="tools/call",
            params=request.params,
            request_id=request_id,
            meta=request.meta,  # the raw _meta: a dict, as the SDK passes it
            request=request.request,
        )
        try:
            wire = await _through(self.sdk.middleware, handle, ctx)
        except MCPError as failure:
            return error(request_id, failure.error.code, failure.error.message)
        except Exception as failure:  # the SDK's middleware lets only MCPError through: a bug
            reference = log_unexpected(f"tool {call.name}", failure)
            return error(request_id, types.INTERNAL_ERROR, internal_error_text(reference))
        return {"jsonrpc": "2.0", "id": request_id, "result": wire}

    async def _cancel(
        self, scope: Scope, headers: Mapping[bytes, bytes], message: dict[str, Any], send: Send
    ) -> bool:
        """Cancel a handshake-era call running on the lane; other cancellations are the SDK's."""
        if requested_era(headers) != "handshake":
            return False
        params = message.get("params")
        request_id = params.get("requestId") if isinstance(params, dict) else None
        session = headers.get(SESSION_HEADER)
        if session is None or not isinstance(request_id, str | int):
            return False
        running = self._in_flight.get((session.decode("latin-1"), request_id))
        if running is None or not await self.admissions.transport_allows(Request(scope)):
            return False
        if self.gate.session(session.decode("latin-1"), scope) is None:
            return False  # only the credential that opened the session may cancel in it
        running.cancel()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
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


@contextmanager
def _cancelled_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> Iterator[None]:
    """Cancel ``scope`` if the client disconnects while the block runs.

    On asyncio (what uvicorn runs) a bare task waits for the disconnect: a task group
    would cost a fifth of a relayed call. The task ends with the block.
    """
    waiting = asyncio.ensure_future(receive())

    def on_message(done: asyncio.Future[Message]) -> None:
        if (
            not done.cancelled()
            and done.exception() is None
            and done.result()["type"] == "http.disconnect"
        ):
            scope.cancel()

    waiting.add_done_callback(on_message)
    try:
        yield
    finally:
        waiting.remove_done_callback(on_message)
        waiting.cancel()


async def _through(
    layers: Sequence[ServerMiddleware[Any]],
    handle: Callable[[ServerRequestContext[Any, Any]], Awaitable[HandlerResult]],
    ctx: ServerRequestContext[Any, Any],
) -> Any:
    """Run ``handle`` inside the SDK server middleware ``layers``, the first outermost."""
    call_next = handle
    for layer in reversed(layers):
        call_next = partial(layer, call_next=call_next)
    return await call_next(ctx)


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _has_relays(catalog: Catalog) -> bool:
    return any(entry.relay for entry in catalog.tools.values())
