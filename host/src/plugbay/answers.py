"""Every request with an id gets an answer: a guard on a connection's message streams.

The SDK (2.3) lets two shortcomings of a client go unanswered on a stream transport
(stdio, legacy SSE):

- a line that is not JSON, or not a JSON-RPC message, reaches its dispatcher as an
  exception, which it logs at debug level and drops: the client waits forever. Here
  it is answered ``-32700 Parse error`` (``id: null``) or ``-32600 Invalid Request``
  (with the message's id when it has a usable one), and the session goes on;
- a request reusing the id of a request still in progress replaces the first one in
  the dispatcher's table (both then answer under one id, and ``notifications/cancelled``
  reaches only the second). Here the second is answered ``-32600`` at once, without
  reaching the server, and the first goes on undisturbed.

The SDK has no hook for either (its dispatcher's stream-exception observer is not set
by ``Server.run``), so :func:`answering` wraps the streams a transport hands to
``Server.run``. Streamable HTTP keeps its own per-request streams, where a reused id
is caught before the SDK sees the request (:mod:`plugbay.hosting.request_ids`).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Protocol, Self

import anyio
from mcp.shared.dispatcher import as_request_id, coerce_request_id
from mcp.shared.message import SessionMessage
from mcp_types import (
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)
from pydantic import ValidationError

logger = logging.getLogger(__name__)

CANCELLED = "notifications/cancelled"


class _Receiving(Protocol):
    async def receive(self) -> SessionMessage | Exception: ...
    async def aclose(self) -> None: ...


class _Sending(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...
    async def aclose(self) -> None: ...


def duplicate_id_error(request_id: RequestId) -> JSONRPCError:
    """The answer to a request whose id a request still in progress is using."""
    return error_answer(
        request_id,
        INVALID_REQUEST,
        f"Invalid Request: the id {request_id!r} is already used by a request in progress "
        "in this session; send each request with an id of its own",
    )


def error_answer(request_id: RequestId | None, code: int, message: str) -> JSONRPCError:
    """A JSON-RPC error answer."""
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))


def unreadable_answer(error: Exception) -> JSONRPCError | None:
    """The answer to a message the transport could not read, or ``None`` for a blank line."""
    if not isinstance(error, ValidationError):
        return error_answer(None, PARSE_ERROR, "Parse error: the message could not be read")
    details = error.errors(include_url=False)
    if any(item["type"] == "json_invalid" for item in details):
        text = next((item.get("input") for item in details), None)
        if isinstance(text, str) and not text.strip():
            return None  # an empty line carries no message to answer
        return error_answer(None, PARSE_ERROR, "Parse error: the message is not valid JSON")
    found: dict[str, Any] = next(
        (item["input"] for item in details if isinstance(item.get("input"), dict)), {}
    )
    return error_answer(
        as_request_id(found.get("id")),
        INVALID_REQUEST,
        "Invalid Request: not a JSON-RPC 2.0 request, notification or response",
    )


class RequestIds:
    """The ids of one connection's requests that have not been answered yet.

    Ids are compared as the SDK correlates them (``"7"`` and ``7`` are one id).
    """

    def __init__(self) -> None:
        self._ids: set[RequestId] = set()

    def __len__(self) -> int:
        return len(self._ids)

    def claim(self, request_id: RequestId) -> bool:
        """Note a new request; ``False`` if its id is in use."""
        key = coerce_request_id(request_id)
        if key in self._ids:
            return False
        self._ids.add(key)
        return True

    def release(self, request_id: Any) -> None:
        """Forget a request: it has been answered, or cancelled (and will not be)."""
        if (valid := as_request_id(request_id)) is not None:
            self._ids.discard(coerce_request_id(valid))


class _Wrapper:
    """Closing and the context manager of a wrapped stream, as the SDK uses them."""

    _inner: _Receiving | _Sending

    async def aclose(self) -> None:
        """Close the transport's stream."""
        await self._inner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        await self.aclose()
        return None


class AnsweringReadStream(_Wrapper):
    """The read side: answers what it must and passes the rest on to the server."""

    def __init__(
        self, inner: _Receiving, write: _Sending, ids: RequestIds, *, unreadable: bool
    ) -> None:
        self._inner: _Receiving = inner
        self._write = write
        self._ids = ids
        self._unreadable = unreadable

    @property
    def last_context(self) -> Any:
        """The sending task's context, which the SDK's dispatcher reads when it is there."""
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        """The next message for the server."""
        while True:
            item = await self._inner.receive()
            if isinstance(item, Exception):
                if not self._unreadable:
                    return item  # the transport answers it (legacy SSE: HTTP 400)
                answer = unreadable_answer(item)
                if answer is not None:
                    logger.info("answered an unreadable message with %d", answer.error.code)
                    await self._answer(answer)
                continue
            message = item.message
            if isinstance(message, JSONRPCRequest):
                if not self._ids.claim(message.id):
                    await self._answer(duplicate_id_error(message.id))
                    continue
            elif isinstance(message, JSONRPCNotification) and message.method == CANCELLED:
                # The SDK never answers a cancelled request: its id is free again.
                self._ids.release((message.params or {}).get("requestId"))
            return item

    async def _answer(self, answer: JSONRPCError) -> None:
        try:
            await self._write.send(SessionMessage(answer))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            logger.debug("could not answer: the connection is closing")

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class AnsweringWriteStream(_Wrapper):
    """The write side: frees a request's id once its answer goes out."""

    def __init__(self, inner: _Sending, ids: RequestIds) -> None:
        self._inner: _Sending = inner
        self._ids = ids

    async def send(self, item: SessionMessage, /) -> None:
        """Send a message to the client."""
        message = item.message
        if isinstance(message, JSONRPCResponse | JSONRPCError):
            self._ids.release(message.id)
        await self._inner.send(item)


def answering(
    read_stream: _Receiving, write_stream: _Sending, *, unreadable: bool = True
) -> tuple[AnsweringReadStream, AnsweringWriteStream]:
    """Wrap a transport's streams so every request with an id gets an answer.

    Args:
        read_stream: What the transport received (messages, or exceptions for lines
            it could not read).
        write_stream: Where the server's messages go.
        unreadable: Answer what the transport could not read; off when the transport
            answers it itself.
    """
    ids = RequestIds()
    return (
        AnsweringReadStream(read_stream, write_stream, ids, unreadable=unreadable),
        AnsweringWriteStream(write_stream, ids),
    )
