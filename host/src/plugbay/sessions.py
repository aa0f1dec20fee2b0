"""What the server remembers about each connected client between its requests.

Only handshake-era (2025-11-25) clients have sessions: the log level they chose with
``logging/setLevel`` and the resources they subscribed to live on their connection
and go with it. A 2026-07-28 client carries such choices on every request instead
(the ``io.modelcontextprotocol/logLevel`` ``_meta`` key, ``subscriptions/listen``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, get_args

import anyio
import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.connection import Connection
from mcp_types import LoggingLevel

from plugbay.redaction import redact_text

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


@dataclass(eq=False)
class _Watched:
    owner: Any  # the connector serving the URI, or None
    count: int = 0
    told: bool = False  # whether the owner was last told the URI is subscribed
    lock: anyio.Lock = field(default_factory=anyio.Lock)


@dataclass
class Subscribers:
    """Subscribers of each resource URI, across sessions and both eras, told to its connector.

    It hears ``resource_subscribed`` for the first and ``resource_unsubscribed`` after the
    last, in order. Counts change before any await: a cancelled caller leaves none wrong.
    """

    _watched: dict[str, _Watched] = field(default_factory=dict)

    async def add(self, owners: Mapping[str, Any]) -> None:
        """One more subscriber of each URI (mapped to the connector that serves it)."""
        for uri, owner in owners.items():
            self._watched.setdefault(uri, _Watched(owner)).count += 1
        await self._settle(owners)

    async def remove(self, uris: Iterable[str]) -> None:
        """One subscriber fewer of each of ``uris``."""
        known = [uri for uri in dict.fromkeys(uris) if uri in self._watched]
        for uri in known:
            self._watched[uri].count -= 1
        await self._settle(known)

    async def _settle(self, uris: Iterable[str]) -> None:
        for uri in uris:
            if (watched := self._watched.get(uri)) is None:
                continue
            async with watched.lock:
                told, watched.told = watched.told, watched.count > 0
                if told != watched.told and watched.owner is not None:
                    method = "resource_subscribed" if watched.told else "resource_unsubscribed"
                    try:
                        await getattr(watched.owner, method)(uri)
                    except Exception as error:  # the connector's, never the subscriber's
                        text = redact_text(f"{type(error).__name__}: {error}")
                        logging.getLogger(__name__).warning("%s(%s) failed: %s", method, uri, text)
                if not watched.count and self._watched.get(uri) is watched:
                    del self._watched[uri]


async def subscribe(session: Any, uri: str, owner: Any, subscribers: Subscribers) -> None:
    """Count the client of ``session`` among the subscribers of ``uri`` until it leaves."""
    connection = connection_of(session)
    if connection is None or uri in connection.state.get(SUBSCRIPTIONS_KEY, ()):
        return
    if SUBSCRIPTIONS_KEY not in connection.state:
        uris = connection.state[SUBSCRIPTIONS_KEY] = set()
        connection.exit_stack.push_async_callback(subscribers.remove, uris)
    connection.state[SUBSCRIPTIONS_KEY].add(uri)
    await subscribers.add({uri: owner})


async def unsubscribe(session: Any, uri: str, subscribers: Subscribers) -> None:
    """Forget a subscription of the client of ``session``; unknown ones are ignored."""
    connection = connection_of(session)
    if connection is not None and uri in connection.state.get(SUBSCRIPTIONS_KEY, ()):
        connection.state[SUBSCRIPTIONS_KEY].discard(uri)
        await subscribers.remove([uri])


def subscribed(connection: Connection, uri: str) -> bool:
    """Whether the client on ``connection`` subscribed to ``uri``."""
    return uri in connection.state.get(SUBSCRIPTIONS_KEY, ())
