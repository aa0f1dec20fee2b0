"""plugbay-redis: resumable SSE streams kept in Redis, and a ``/readyz`` check for it.

Install it next to ``plugbay`` and configure a ``[redis]`` table::

    [redis]
    url = "redis://127.0.0.1:6379/0"

Everything goes through plugbay's public hooks: the plugin claims the ``[redis]`` table,
provides the event store that stateful HTTP sessions keep their SSE events in
(``provide_event_store``), runs each MCP request with its session's key space
(``register_asgi_wrappers``, see :mod:`plugbay_redis.sessions`), makes ``/readyz``
report Redis (``register_readiness_checks``) and closes the client when serving stops
(``register_lifespan``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Final

from plugbay import hookimpl
from plugbay_redis.event_store import UNSTORED, RedisEventStore
from plugbay_redis.sessions import SessionKeys, bound_session, current_session, session_scoped
from plugbay_redis.settings import RedisSettings

if TYPE_CHECKING:
    from mcp.server.streamable_http import EventStore

    from plugbay.config import Config

__all__ = [
    "TABLE",
    "UNSTORED",
    "RedisEventStore",
    "RedisSettings",
    "SessionKeys",
    "bound_session",
    "current_session",
    "provide_event_store",
    "redis_table",
    "register_asgi_wrappers",
    "register_config_tables",
    "register_lifespan",
    "register_readiness_checks",
    "session_scoped",
]

TABLE: Final = "redis"
"""The top-level table of ``plugbay.toml`` this plugin owns."""


def redis_table(config: Config) -> RedisSettings | None:
    """The validated ``[redis]`` table, or ``None`` when the configuration has none."""
    settings = config.table(TABLE)
    return settings if isinstance(settings, RedisSettings) else None


def _event_store_on(config: Config) -> RedisSettings | None:
    settings = redis_table(config)
    return settings if settings is not None and settings.event_store else None


@hookimpl
def register_config_tables(register: Callable[..., None]) -> None:
    """Claim ``[redis]``."""
    register(RedisSettings, table=TABLE)


@hookimpl
def provide_event_store(config: Config) -> EventStore | None:
    """The Redis event store, when ``[redis]`` has it on (the default)."""
    settings = _event_store_on(config)
    return None if settings is None else settings.store()


@hookimpl
def register_asgi_wrappers(register: Callable[..., None], config: Config) -> None:
    """Run each MCP request with its session's keys, so sessions never share streams."""
    if _event_store_on(config) is not None:
        register(session_scoped)


@hookimpl
def register_readiness_checks(register: Callable[..., None], config: Config) -> None:
    """``/readyz`` is ready only while Redis answers, when the event store is on."""
    settings = _event_store_on(config)
    if settings is not None:
        register(partial(_ping, settings), name=TABLE)


@hookimpl
def register_lifespan(register: Callable[..., None], config: Config) -> None:
    """Close the Redis client (if it was ever used) when serving stops."""
    settings = redis_table(config)
    if settings is not None:
        register(partial(_closing_client, settings))


async def _ping(settings: RedisSettings) -> None:
    await settings.client().ping()


@asynccontextmanager
async def _closing_client(settings: RedisSettings) -> AsyncIterator[None]:
    try:
        yield
    finally:
        if settings.connected:
            await settings.client().aclose()
