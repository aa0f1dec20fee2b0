"""Resumable SSE streams: the MCP SDK's ``EventStore`` kept in Redis.

With an event store, a stateful streamable-HTTP session stamps every SSE event with an
id and keeps it, so a client whose stream broke reconnects with ``Last-Event-ID`` and
receives what it missed. Each (session, stream) is one Redis stream, trimmed to a
maximum length and expiring a while after its last event, so memory stays bounded and
nothing lives in the worker's heap.

The SDK shares one store among all sessions and names streams after JSON-RPC request
ids, which different clients reuse. The store therefore keeps each event under the keys
of the session it is stored in (:mod:`plugbay_redis.sessions`), and replays an event id
only within the session that received it: one client can never replay another's events.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import TYPE_CHECKING, Any, Final

from mcp.server.streamable_http import (
    EventCallback,
    EventId,
    EventMessage,
    EventStore,
    StreamId,
)
from mcp_types import JSONRPCMessage, jsonrpc_message_adapter

from plugbay_redis.sessions import SessionKeys, current_session

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "plugbay:events"
UNSTORED: Final = "unstored"
"""The id handed out when an event could not be stored: it replays nothing."""
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_PAYLOAD = b"m"


def _encode(stream_id: StreamId) -> str:
    return base64.urlsafe_b64encode(stream_id.encode()).decode().rstrip("=")


def _decode(token: str) -> StreamId:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


class RedisEventStore(EventStore):
    """An ``EventStore`` on Redis streams (Redis 6.2 or later), one key space per session.

    Events are stored and replayed in the session of the running request or task
    (:func:`plugbay_redis.sessions.current_session`); with no session there, nothing is
    stored and nothing replayed, so events can never land in a space that sessions share.

    Args:
        client: A ``redis.asyncio.Redis`` client; several stores may share one.
        prefix: Prefix of every key this store writes.
        ttl: Seconds a stream is kept after its last event.
        max_events: About how many events each stream keeps (older ones are trimmed).
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float = 3600.0,
        max_events: int = 1000,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl * 1000))
        self.max_events = max_events
        self._warned = False

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisEventStore:
        """A store with its own client for ``url`` (``redis://host:6379/0``).

        No connection is made until the first event; short socket timeouts keep a
        slow Redis from stalling the sessions that store events in it.
        """
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=2.0)
        return cls(client, **options)

    def key(self, stream_id: StreamId, session: SessionKeys) -> str:
        """The Redis key of one stream of one session."""
        return f"{self.prefix}:{session.token}:{_encode(stream_id)}"

    def _session(self) -> SessionKeys | None:
        session = current_session()
        if session is None and not self._warned:
            # Only a request that bypassed plugbay_redis.sessions.session_scoped gets
            # here; storing its events in a shared space would let sessions mix.
            self._warned = True
            logger.warning(
                "an SSE event outside any known MCP session was not stored "
                "(is the plugbay-redis ASGI wrapper installed?)"
            )
        return session

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Append an event (``None``: a priming event with no message) and return its id.

        A Redis failure is logged and the event goes out unstored: the stream keeps
        flowing, it just cannot be resumed past that point.
        """
        session = self._session()
        if session is None:
            return UNSTORED
        payload = (
            b""
            if message is None
            else message.model_dump_json(by_alias=True, exclude_unset=True).encode()
        )
        key = self.key(stream_id, session)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.xadd(key, {_PAYLOAD: payload}, maxlen=self.max_events, approximate=True)
                pipe.pexpire(key, self.ttl_ms)
                entry_id, _ = await pipe.execute()
        except Exception as error:
            logger.warning("could not store an SSE event in Redis (%s)", type(error).__name__)
            return UNSTORED
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        return _event_id(session, _encode(stream_id), entry)

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        """Send the events of ``last_event_id``'s stream that came after it.

        Returns:
            The stream's id, or ``None`` when the id is not one of this session's
            stored events (unknown, malformed, another session's, expired, or trimmed
            away): replaying from the oldest event still kept would hide that events
            were lost.
        """
        session = self._session()
        parts = last_event_id.split(".")
        if (
            session is None
            or len(parts) != 3
            or parts[0] != session.tag
            or not _ENTRY_ID.match(parts[2])
        ):
            return None
        token, entry = parts[1], parts[2]
        try:
            stream_id = _decode(token)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        key = self.key(stream_id, session)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.xrange(key, entry, entry, count=1)
                pipe.xrange(key, f"({entry}", "+")
                found, later = await pipe.execute()
        except Exception as error:
            logger.warning("could not replay SSE events from Redis (%s)", type(error).__name__)
            return None
        if not found:
            return None
        for raw_id, fields in later:
            payload = fields.get(_PAYLOAD, b"")
            if not payload:
                continue  # a priming event: nothing to send
            entry_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            message = jsonrpc_message_adapter.validate_json(payload)
            await send_callback(EventMessage(message, _event_id(session, token, entry_id)))
        return stream_id

    async def ping(self) -> None:
        """Raise if Redis does not answer (for readiness checks)."""
        await self.client.ping()

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()


def _event_id(session: SessionKeys, token: str, entry: str) -> EventId:
    return f"{session.tag}.{token}.{entry}"
