"""Resumable SSE streams: the MCP SDK's ``EventStore`` kept in Redis.

With an event store, a stateful streamable-HTTP session stamps every SSE event with an
id and keeps it, so a client whose stream broke reconnects with ``Last-Event-ID`` and
receives what it missed. Each (session, stream) is one Redis stream, trimmed to a
maximum length and expiring a while after its last event, so memory stays bounded and
nothing lives in the worker's heap.

The SDK shares one store among all sessions and names streams after JSON-RPC request
ids, which different clients reuse; :meth:`RedisEventStore.for_session` gives each
session its own key space so one client can never replay another's events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from typing import TYPE_CHECKING, Any

from mcp.server.auth.middleware.bearer_auth import AuthorizationContext
from mcp.server.streamable_http import (
    EventCallback,
    EventId,
    EventMessage,
    EventStore,
    StreamableHTTPServerTransport,
    StreamId,
)
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import JSONRPCMessage, jsonrpc_message_adapter

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "plugbay:events"
UNSTORED = "unstored"
"""The id handed out when Redis could not store an event: it replays nothing."""
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_PAYLOAD = b"m"


def _encode(stream_id: StreamId) -> str:
    return base64.urlsafe_b64encode(stream_id.encode()).decode().rstrip("=")


def _decode(token: str) -> StreamId:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


class RedisEventStore(EventStore):
    """An ``EventStore`` on Redis streams (Redis 6.2 or later).

    Args:
        client: A ``redis.asyncio.Redis`` client; several stores may share one.
        prefix: Prefix of every key this store writes.
        ttl: Seconds a stream is kept after its last event.
        max_events: About how many events each stream keeps (older ones are trimmed).
        scope: The key space, normally one per session (see :meth:`for_session`).
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float = 3600.0,
        max_events: int = 1000,
        scope: str = "-",
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl * 1000))
        self.max_events = max_events
        self.scope = scope
        # Event ids carry a tag of their scope: Redis entry ids are only unique within
        # one key, and an id from another session must never match one of ours.
        self._tag = hashlib.sha256(scope.encode()).hexdigest()[:12]

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisEventStore:
        """A store with its own client for ``url`` (``redis://host:6379/0``).

        No connection is made until the first event; short socket timeouts keep a
        slow Redis from stalling the sessions that store events in it.

        Raises:
            ConfigError: When the ``redis`` package is not installed.
        """
        try:
            from redis.asyncio import Redis
        except ImportError:
            from plugbay.errors import ConfigError

            raise ConfigError(
                ["[server] event_store needs the redis package: pip install 'plugbay[redis]'"]
            ) from None
        client = Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=2.0)
        return cls(client, **options)

    def for_session(self, session_id: str) -> RedisEventStore:
        """A store sharing this one's client whose keys belong to ``session_id`` alone."""
        return RedisEventStore(
            self.client,
            prefix=self.prefix,
            ttl=self.ttl_ms / 1000,
            max_events=self.max_events,
            scope=session_id,
        )

    def key(self, stream_id: StreamId) -> str:
        """The Redis key of one stream in this store's scope."""
        return f"{self.prefix}:{self.scope}:{_encode(stream_id)}"

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Append an event (``None``: a priming event with no message) and return its id.

        A Redis failure is logged and the event goes out unstored: the stream keeps
        flowing, it just cannot be resumed past that point.
        """
        payload = (
            b""
            if message is None
            else message.model_dump_json(by_alias=True, exclude_unset=True).encode()
        )
        key = self.key(stream_id)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.xadd(key, {_PAYLOAD: payload}, maxlen=self.max_events, approximate=True)
                pipe.pexpire(key, self.ttl_ms)
                entry_id, _ = await pipe.execute()
        except Exception as error:
            logger.warning("could not store an SSE event in Redis (%s)", type(error).__name__)
            return UNSTORED
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        return self._event_id(_encode(stream_id), entry)

    def _event_id(self, token: str, entry: str) -> EventId:
        return f"{self._tag}.{token}.{entry}"

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        """Send the events of ``last_event_id``'s stream that came after it.

        Returns:
            The stream's id, or ``None`` when the id is not one of this scope's stored
            events (unknown, malformed, expired, or trimmed away): replaying from the
            oldest event still kept would hide that events were lost.
        """
        parts = last_event_id.split(".")
        if len(parts) != 3 or parts[0] != self._tag or not _ENTRY_ID.match(parts[2]):
            return None
        token, entry = parts[1], parts[2]
        try:
            stream_id = _decode(token)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        key = self.key(stream_id)
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
            await send_callback(EventMessage(message, self._event_id(token, entry_id)))
        return stream_id

    async def ping(self) -> None:
        """Raise if Redis does not answer (for readiness checks)."""
        await self.client.ping()

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()


class ResumableSessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager, giving each session its own event-store key space."""

    def _admit_session(
        self, requestor: AuthorizationContext | None
    ) -> StreamableHTTPServerTransport | None:
        transport = super()._admit_session(requestor)
        store = self.event_store
        if (
            transport is not None
            and transport.mcp_session_id is not None
            and isinstance(store, RedisEventStore)
        ):
            # SDK 2.3 has no per-session store hook; the transport reads this attribute
            # for every event it stores or replays (pinned by the tests).
            transport._event_store = store.for_session(transport.mcp_session_id)
        return transport
