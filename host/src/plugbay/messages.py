"""Message middleware: plugin code around every MCP message the server receives.

A plugin registers ``async (message, call_next)`` through the
``register_message_middleware`` hook. It gets an :class:`IncomingMessage`, a type of
plugbay's own, never the SDK's request context: the SDK calls its
``Server.middleware`` provisional, so this module is the one place that adapts
plugbay's middleware onto it, and a change there changes nothing for plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext as SdkCallNext
from mcp.server.context import HandlerResult
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND

from plugbay.auth import LOCAL_PRINCIPAL, Principal

logger = logging.getLogger(__name__)

PRINCIPAL_SCOPE_KEY = "plugbay.principal"
"""Where the HTTP authentication layer leaves the caller in the ASGI scope."""
SESSION_HEADER = "mcp-session-id"

REFUSAL_CODES: frozenset[int] = frozenset(
    {INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR} | set(range(-32099, -31999))
) - {
    # Codes the MCP specification or the SDKs give a meaning clients act on (a closed
    # connection, a timeout, a missing resource, a header mismatch, a missing client
    # capability, an unsupported version, a URL elicitation): a refusal must not
    # pretend to be one of them.
    -32000,
    -32001,
    -32002,
    -32020,
    -32021,
    -32022,
    -32042,
}
"""The JSON-RPC error codes a :class:`MessageRefused` may carry: the four standard
request errors and the server-error range ``-32099..-32000``, less the codes MCP
has given a meaning to."""
MAX_REFUSAL_MESSAGE = 500

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One MCP message as the server received it, for message middleware.

    Attributes:
        method: The JSON-RPC method (``initialize``, ``tools/list``,
            ``notifications/initialized`` ...).
        params: The params as sent, before any validation, ``_meta`` included; empty
            when there were none. Read-only.
        request_id: The JSON-RPC id; ``None`` for a notification.
        session_id: The MCP session (the ``Mcp-Session-Id`` of stateful HTTP, the
            legacy SSE session), or ``None`` (stdio, stateless HTTP, the 2026-07-28
            era, which has no sessions).
        principal: The authenticated caller (``local`` on stdio).
        protocol_version: The protocol version the message was received under.
        client: The peer's ``(host, port)`` over HTTP; ``None`` over a pipe.
    """

    method: str
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    request_id: str | int | None = None
    session_id: str | None = None
    principal: Principal = LOCAL_PRINCIPAL
    protocol_version: str | None = None
    client: tuple[str, int] | None = None

    @property
    def is_notification(self) -> bool:
        """Whether the message is a notification, which gets no answer."""
        return self.request_id is None


MessageNext = Callable[[IncomingMessage], Awaitable[Any]]
"""Runs the rest of the chain and the server's handling of the message."""

MessageMiddleware = Callable[[IncomingMessage, MessageNext], Awaitable[Any]]
"""``async (message, call_next) -> result``; see the ``register_message_middleware`` hook.

``await call_next(message)`` returns the result the client will get, as a JSON-able
dict (``None`` for a notification); it raises when the request fails. Return what
it returned. Passing on a message with other ``params``
(``dataclasses.replace(message, params=...)``) changes what the server handles;
the other fields are facts and stay as received.
"""


class MessageRefused(Exception):
    """Raised by message middleware to answer a request with a JSON-RPC error.

    The handler never runs. For a notification there is no answer: it is dropped.

    Args:
        message: What the client is told; names no secret and no internal detail.
            At most 500 characters.
        code: The JSON-RPC error code, one of :data:`REFUSAL_CODES` (default
            ``-32600``, invalid request).

    Raises:
        ValueError: The code is not one a plugin may choose, or the message is empty
            or too long.
    """

    def __init__(self, message: str, *, code: int = INVALID_REQUEST) -> None:
        if code not in REFUSAL_CODES:
            raise ValueError(
                f"MessageRefused code {code} is not allowed: use -32600, -32601, -32602, "
                "-32603 or a free code between -32099 and -32003 (not -32020, -32021, -32022 "
                "or -32042)"
            )
        if not message.strip() or len(message) > MAX_REFUSAL_MESSAGE:
            raise ValueError(f"a MessageRefused message has 1 to {MAX_REFUSAL_MESSAGE} characters")
        super().__init__(message)
        self.message = message
        self.code = code


def principal_of(ctx: ServerRequestContext[Any, Any]) -> Principal:
    """The caller of a request: from the HTTP authentication layer, else local trust."""
    request = ctx.request
    if request is None:
        return LOCAL_PRINCIPAL
    principal: Principal = request.scope.get(PRINCIPAL_SCOPE_KEY, LOCAL_PRINCIPAL)
    return principal


def session_id_of(request: Any) -> str | None:
    """The MCP session of an HTTP request: its header, or the legacy SSE query parameter."""
    if request is None:
        return None
    value = request.headers.get(SESSION_HEADER)
    if value is None:
        value = request.query_params.get("session_id")
    return str(value) if value is not None else None


def incoming_message(ctx: ServerRequestContext[Any, Any]) -> IncomingMessage:
    """The plugbay view of the message an SDK request context carries."""
    request = ctx.request
    client = getattr(request, "client", None) if request is not None else None
    return IncomingMessage(
        method=ctx.method,
        params=MappingProxyType(dict(ctx.params)) if ctx.params else _EMPTY,
        request_id=ctx.request_id,
        session_id=session_id_of(request),
        principal=principal_of(ctx),
        protocol_version=ctx.protocol_version,
        client=(client[0], client[1]) if client else None,
    )


async def _handle(
    ctx: ServerRequestContext[Any, Any],
    call_next: SdkCallNext,
    received: IncomingMessage,
    message: IncomingMessage,
) -> HandlerResult:
    """The chain's innermost step: hand the (possibly rewritten) message back to the SDK."""
    if message.params is not received.params:
        ctx = replace(ctx, params=dict(message.params))
    return await call_next(ctx)


async def _layer(
    middleware: MessageMiddleware, call_next: MessageNext, message: IncomingMessage
) -> Any:
    return await middleware(message, call_next)


class MessageChain:
    """SDK middleware that runs plugbay's message middleware, the first one outermost.

    Args:
        middleware: The registered message middleware, outermost first.
    """

    def __init__(self, middleware: Sequence[MessageMiddleware]) -> None:
        self.middleware = tuple(middleware)

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: SdkCallNext
    ) -> HandlerResult:
        """Run the chain for one message; a refusal becomes the request's JSON-RPC error."""
        message = incoming_message(ctx)
        chain: MessageNext = partial(_handle, ctx, call_next, message)
        for middleware in reversed(self.middleware):
            chain = partial(_layer, middleware, chain)
        try:
            result: HandlerResult = await chain(message)
        except MessageRefused as refused:
            if message.is_notification:
                logger.debug("message middleware dropped %s: %s", message.method, refused.message)
                return None
            raise MCPError(refused.code, refused.message) from None
        return result
