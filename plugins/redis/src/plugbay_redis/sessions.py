"""Which MCP session an event belongs to, told to the event store without SDK internals.

The SDK shares one :class:`~mcp.server.streamable_http.EventStore` among all sessions of
a server and names each stream after the JSON-RPC id of the request it answers, ids that
every client numbers the same way (``0``, ``1``, ...). Its ``store_event`` and
``replay_events_after`` are not told the session, so the store learns it from the
context it is called in:

- :func:`session_scoped` wraps the MCP endpoint (through plugbay's
  ``register_asgi_wrappers`` hook). A request that names a session
  (``Mcp-Session-Id``) runs with that session's :class:`SessionKeys`; a request that
  names none may open one, so it runs with fresh keys, which become the new session's
  when the response carries the id the SDK gave it.
- Python copies the context into every task a task starts, so the session's own
  tasks (where the SDK stores the messages a session sends) carry the keys of the
  request that opened it, and every later request of the session finds the same keys.
  The end-to-end tests pin this (``test_redis_resume_sdk.py``).

Keys are random, so no client can name another session's streams, and they live as long
as the session's tasks do (the registry holds them weakly): nothing to clean up.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final
from weakref import WeakValueDictionary

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_HEADER: Final = b"mcp-session-id"

_current: ContextVar[SessionKeys | None] = ContextVar("plugbay_redis_session", default=None)
_sessions: WeakValueDictionary[str, SessionKeys] = WeakValueDictionary()


class SessionKeys:
    """The key space of one MCP session in the event store.

    Attributes:
        token: A random name, part of every Redis key of the session; never sent out.
        tag: A digest of the token that starts each of the session's event ids, so an
            id from any other session is refused before Redis is asked.
    """

    __slots__ = ("__weakref__", "tag", "token")

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.tag = hashlib.sha256(self.token.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"SessionKeys(tag={self.tag!r})"


def current_session() -> SessionKeys | None:
    """The keys of the session the running request or task belongs to, if any."""
    return _current.get()


@contextmanager
def bound_session(keys: SessionKeys | None) -> Iterator[SessionKeys | None]:
    """Run the block (and the tasks it starts) as part of the session ``keys``."""
    token = _current.set(keys)
    try:
        yield keys
    finally:
        _current.reset(token)


def open_sessions() -> int:
    """How many sessions this process knows the keys of (their tasks are alive)."""
    return len(_sessions)


def _header(headers: object, name: bytes) -> str | None:
    for key, value in headers:  # type: ignore[attr-defined]
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def session_scoped(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so each HTTP request runs with the keys of its MCP session.

    A request with an ``Mcp-Session-Id`` this process did not open runs with no keys:
    the SDK answers it ``404`` anyway, and the store neither stores nor replays
    anything without keys.
    """

    async def scoped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        session_id = _header(scope.get("headers", ()), SESSION_HEADER)
        if session_id is not None:
            with bound_session(_sessions.get(session_id)):
                await app(scope, receive, send)
            return
        keys = SessionKeys()

        async def send_opening(message: Message) -> None:
            if message["type"] == "http.response.start":
                opened = _header(message.get("headers", ()), SESSION_HEADER)
                if opened is not None:
                    # The response names the session this request opened; later
                    # requests naming it must find the keys its tasks already use.
                    _sessions[opened] = keys
            await send(message)

        with bound_session(keys):
            await app(scope, receive, send_opening)

    return scoped
