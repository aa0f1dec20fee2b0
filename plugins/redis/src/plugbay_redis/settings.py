"""The ``[redis]`` table: where Redis is and what plugbay keeps in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from plugbay_redis.event_store import RedisEventStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

SCHEMES: Final = ("redis://", "rediss://", "unix://")
CONNECT_TIMEOUT: Final = 2.0
"""Seconds to connect, and to wait for an answer: a slow Redis must not stall sessions."""


class RedisSettings(BaseModel):
    """The ``[redis]`` table.

    Attributes:
        url: ``redis://[:password@]host:6379/0``, ``rediss://`` (TLS) or
            ``unix:///run/redis.sock?db=0``; a secret, since it may hold a password.
        event_store: Keep the SSE events of stateful sessions in Redis, so clients
            resume broken streams with ``Last-Event-ID``.
        ttl: Seconds a stream is kept after its last event.
        max_events: About how many events each stream keeps (older ones are trimmed).
        key_prefix: Prefix of every key; events are under ``<key_prefix>:events:``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: SecretStr
    event_store: bool = True
    ttl: float = Field(default=3600.0, gt=0)
    max_events: int = Field(default=1000, ge=1)
    key_prefix: str = Field(default="plugbay", min_length=1)

    _client: Redis | None = PrivateAttr(default=None)
    _store: RedisEventStore | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _url_is_redis(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(SCHEMES):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @property
    def connected(self) -> bool:
        """Whether :meth:`client` was created (and so has connections to close)."""
        return self._client is not None

    def client(self) -> Redis:
        """The one client of this configuration (made on first use; connects lazily)."""
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(
                self.url.get_secret_value(),
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=CONNECT_TIMEOUT,
            )
        return self._client

    def store(self) -> RedisEventStore:
        """The event store on :meth:`client`, made once."""
        if self._store is None:
            self._store = RedisEventStore(
                self.client(),
                prefix=f"{self.key_prefix}:events",
                ttl=self.ttl,
                max_events=self.max_events,
            )
        return self._store
