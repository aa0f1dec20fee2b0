"""What the server remembers about each connected client between its requests.

Only handshake-era (2025-11-25) clients have sessions: the log level they chose with
``logging/setLevel`` and the resources they subscribed to live on their connection
and go with it. A 2026-07-28 client carries such choices on every request instead
(the ``io.modelcontextprotocol/logLevel`` ``_meta`` key, ``subscriptions/listen``).
"""

from __future__ import annotations

from typing import Any, Final, get_args

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.connection import Connection
from mcp_types import LoggingLevel

LOG_LEVELS: Final[tuple[LoggingLevel, ...]] = get_args(LoggingLevel)
"""The MCP log levels, least severe first (the RFC 5424 order)."""
_RANK: Final[dict[str, int]] = {level: rank for rank, level in enumerate(LOG_LEVELS)}
LOG_LEVEL_KEY = "plugbay.log_level"
"""Where a connection's ``logging/setLevel`` choice is kept in ``Connection.state``."""
SUBSCRIPTIONS_KEY = "plugbay.subscriptions"
"""Where a connection's resource subscriptions (a set of URIs) are kept."""


def connection_of(session: Any) -> Connection | None:
    """The SDK connection a request's session belongs to, or ``None`` outside a request.

    The SDK (2.3) builds a ``ServerSession`` per request and gives handlers no public
    handle on the connection behind it (its ``Context.connection`` is not built for
    low-level handlers yet); the connection's ``state`` and ``exit_stack`` are its
    public, per-client storage and teardown. This is the one place plugbay reaches
    for it, so an SDK that exposes it publicly changes only this function.
    """
    connection = getattr(session, "_connection", None)
    return connection if isinstance(connection, Connection) else None


async def set_logging_level(
    ctx: ServerRequestContext[Any, Any], params: types.SetLevelRequestParams
) -> types.EmptyResult:
    """``logging/setLevel``: from now on send this session log messages at ``level`` and up."""
    connection = connection_of(ctx.session)
    if connection is not None:
        connection.state[LOG_LEVEL_KEY] = params.level
    return types.EmptyResult()


def log_wanted(session: Any, level: LoggingLevel) -> bool:
    """Whether the client of ``session`` asked for log messages at ``level``.

    A session that never sent ``logging/setLevel`` gets every level. 2026-07-28
    requests carry their level themselves and the SDK filters them.
    """
    connection = connection_of(session)
    if connection is None:
        return True
    minimum = connection.state.get(LOG_LEVEL_KEY)
    return minimum is None or _RANK.get(level, len(LOG_LEVELS)) >= _RANK[minimum]


def subscribe(session: Any, uri: str) -> None:
    """Remember that the client of ``session`` wants to hear when ``uri`` changes."""
    connection = connection_of(session)
    if connection is not None:
        connection.state.setdefault(SUBSCRIPTIONS_KEY, set()).add(uri)


def unsubscribe(session: Any, uri: str) -> None:
    """Forget a subscription of the client of ``session``; unknown ones are ignored."""
    connection = connection_of(session)
    if connection is not None:
        connection.state.get(SUBSCRIPTIONS_KEY, set()).discard(uri)


def subscribed(connection: Connection, uri: str) -> bool:
    """Whether the client on ``connection`` subscribed to ``uri``."""
    return uri in connection.state.get(SUBSCRIPTIONS_KEY, ())
