"""Streamable HTTP: a request reusing the id of one still in progress gets an answer.

The SDK's transport (2.3) files each POSTed request's answer stream under the request
id, per session. A second POST with an id still in progress replaces the first one's
stream: one answer reaches one of them and every other POST waits forever (11 of 12
in a test with twelve). No public hook of the SDK sees the POST before that, so
:class:`RequestIdGuard`, ASGI middleware in front of the transport, answers such a
POST itself: ``400`` with a JSON-RPC ``-32600`` error carrying its id, and the first
request goes on. An id is in use from when its POST arrives until the SDK is done with
that POST (or its client has gone); a POST that comes when the first one's answer has
gone out but the SDK has not yet forgotten its stream waits for that moment instead of
being refused, so a client that reuses ids one after another is served as the SDK
serves it. The id the transport uses for its standalone GET stream is refused too,
since a request with it would take that stream over.

Ids are compared as the SDK correlates them (``"7"`` is ``7``), within one session and
one caller: a credential that does not own the session learns nothing here and gets
the SDK's ``404``. Requests without a session (stateless mode, the 2026-07-28 era)
each have a stream of their own and pass untouched.
"""

from __future__ import annotations

from typing import Any

import anyio
import pydantic_core
from mcp.server.streamable_http import GET_STREAM_KEY, MCP_SESSION_ID_HEADER
from mcp.shared.dispatcher import as_request_id, coerce_request_id
from mcp_types import INVALID_REQUEST, RequestId
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plugbay.answers import duplicate_id_error, error_answer
from plugbay.hosting.bodies import read_body, replaying
from plugbay.server import PRINCIPAL_SCOPE_KEY

_SESSION_HEADER = MCP_SESSION_ID_HEADER.lower().encode("latin-1")

_Key = tuple[str, str | None, RequestId]


class _Slot:
    """One open POST's request id: whether its answer has gone out, and when it is done."""

    __slots__ = ("answered", "done")

    def __init__(self) -> None:
        self.answered = False
        self.done = anyio.Event()


class RequestIdGuard:
    """Answers a POST whose request id is in use by an open POST of the same session.

    Args:
        app: The SDK's streamable HTTP application (or what wraps it).
        max_body: The largest request body the application accepts; a larger one is
            passed on unread for it to refuse.
    """

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self._open: dict[_Key, _Slot] = {}

    @property
    def in_progress(self) -> int:
        """Requests whose POST is open, across sessions."""
        return len(self._open)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless it reuses an id that is in progress."""
        session = _session_of(scope) if scope["type"] == "http" else None
        if session is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, self.max_body)
        request_id = _request_id(body) if complete else None
        forward = replaying(body, complete, receive)
        if request_id is None:
            await self.app(scope, forward, send)
            return
        principal = scope.get(PRINCIPAL_SCOPE_KEY)
        key: _Key = (session, getattr(principal, "name", None), coerce_request_id(request_id))
        while (holder := self._open.get(key)) is not None and holder.answered:
            # Its answer is out and the client may reuse the id (MCP says it should
            # not, JSON-RPC lets it); the SDK forgets the id's stream as the POST ends.
            await holder.done.wait()
        if holder is not None or str(request_id) == GET_STREAM_KEY:
            await _refuse(request_id, scope, forward, send)
            return
        slot = self._open[key] = _Slot()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                slot.answered = True
            await send(message)

        try:
            await self.app(scope, forward, sending)
        finally:
            del self._open[key]
            slot.done.set()


def _session_of(scope: Scope) -> str | None:
    # The first of repeated headers counts, as in the SDK's (Starlette's) reading.
    for name, value in scope["headers"]:
        if name == _SESSION_HEADER:
            return bytes(value).decode("latin-1")
    return None


def _request_id(body: bytes) -> RequestId | None:
    """The id of the JSON-RPC request in ``body``; ``None`` for anything else."""
    try:
        message: Any = pydantic_core.from_json(body)
    except ValueError:
        return None  # the SDK answers it: Parse error
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return None
    return as_request_id(message.get("id"))


async def _refuse(request_id: RequestId, scope: Scope, receive: Receive, send: Send) -> None:
    if str(request_id) == GET_STREAM_KEY:
        answer = error_answer(
            request_id,
            INVALID_REQUEST,
            f"Invalid Request: the id {request_id!r} is reserved by this server; send the "
            "request with another id",
        )
    else:
        answer = duplicate_id_error(request_id)
    body = answer.model_dump(mode="json", by_alias=True, exclude_unset=True)
    await JSONResponse(body, status_code=400)(scope, receive, send)
