"""What the relay lane may know of a handshake-era session, read from the SDK's manager.

The SDK (2.3) has no public handle on a session's transport, owner or handshake state:
everything this lane reads of them is here, and whatever it does not find sends the
request down the SDK's own path.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from mcp.server.context import CallNext, HandlerResult
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import Scope


class SessionGate:
    """Which sessions the lane may serve, and in which protocol version.

    A session is open to the lane once its handshake is settled (noted by
    :meth:`track`, SDK middleware, when a message after ``initialize`` has been
    accepted) and while the SDK still serves it; the caller must present the
    credential that opened it.
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
            session_id = request.headers.get(MCP_SESSION_ID_HEADER)
            connection = getattr(ctx.session, "_connection", None)
            if (
                session_id is not None
                and connection is not None
                and session_id not in self._ready
                and getattr(connection, "initialize_accepted", False)
            ):
                self._ready[session_id] = connection
                # Forgotten with the connection, the way the SDK forgets the session.
                connection.exit_stack.callback(self._ready.pop, session_id, None)
        return result

    def session(self, session_id: str, scope: Scope) -> tuple[Any, str] | None:
        """The session's SDK transport and protocol version, if the lane may serve it."""
        connection = self._ready.get(session_id)
        if connection is None:
            return None
        instances = getattr(self._manager, "_server_instances", None)
        owners = getattr(self._manager, "_session_owners", None)
        if not isinstance(instances, dict) or not isinstance(owners, dict):
            return None  # an SDK whose session bookkeeping this lane does not know
        transport = instances.get(session_id)
        if transport is None or getattr(transport, "is_terminated", True):
            return None
        user = scope.get("user")
        requestor = authorization_context(user) if isinstance(user, AuthenticatedUser) else None
        if requestor != owners.get(session_id):
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
        """Keep the session from expiring while a call runs, as the SDK's requests do."""
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
