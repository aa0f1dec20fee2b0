"""The plugin's hooks, called as the host calls them: the table, the store, readiness, lifespan."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

import plugbay_redis
from plugbay.config import Config
from plugbay_redis import RedisEventStore, RedisSettings, session_scoped

pytestmark = pytest.mark.anyio


class Registered:
    """A ``register`` callback that keeps what it is given."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, item: Any, **options: Any) -> None:
        self.items.append((item, options))


def _config(**table: Any) -> Config:
    return Config(tables={"redis": RedisSettings.model_validate(table)} if table else {})


def _call(hook: str, config: Config) -> Registered:
    registered = Registered()
    getattr(plugbay_redis, hook)(registered, config)
    return registered


def test_the_table_is_claimed_with_its_model() -> None:
    registered = Registered()
    plugbay_redis.register_config_tables(registered)
    assert registered.items == [(RedisSettings, {"table": "redis"})]


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://:secret@cache.internal:6380/1",
        "unix:///run/redis/redis.sock?db=2",
    ],
)
def test_redis_urls_are_accepted_and_kept_secret(url: str) -> None:
    settings = RedisSettings.model_validate({"url": url})
    assert settings.url.get_secret_value() == url
    assert "secret" not in repr(settings)
    assert settings.ttl == 3600
    assert settings.max_events == 1000
    assert settings.key_prefix == "plugbay"
    assert settings.event_store is True


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"url": "http://127.0.0.1:6379"}, "must be a redis://, rediss:// or unix:// URL"),
        ({}, "Field required"),
        ({"url": "redis://h", "ttl": 0}, "greater than 0"),
        ({"url": "redis://h", "max_events": 0}, "greater than or equal to 1"),
        ({"url": "redis://h", "key_prefix": ""}, "at least 1 character"),
        ({"url": "redis://h", "event_store_ttl": 5}, "Extra inputs are not permitted"),
    ],
)
def test_bad_tables_say_what_is_wrong(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        RedisSettings.model_validate(table)


def test_without_the_table_the_plugin_adds_nothing() -> None:
    config = _config()
    assert plugbay_redis.provide_event_store(config) is None
    for hook in (
        "register_asgi_wrappers",
        "register_readiness_checks",
        "register_lifespan",
    ):
        assert _call(hook, config).items == [], hook


async def test_with_the_event_store_off_only_the_lifespan_is_registered() -> None:
    config = _config(url="redis://127.0.0.1:6379/0", event_store=False)
    assert plugbay_redis.provide_event_store(config) is None
    assert _call("register_asgi_wrappers", config).items == []
    assert _call("register_readiness_checks", config).items == []
    ((factory, _),) = _call("register_lifespan", config).items
    async with factory():
        pass
    assert not config.table("redis").connected  # nothing was made, nothing to close


def test_the_store_follows_the_table_and_is_made_once() -> None:
    config = _config(url="redis://127.0.0.1:6379/3", ttl=90, max_events=50, key_prefix="team-a")
    store = plugbay_redis.provide_event_store(config)
    assert isinstance(store, RedisEventStore)
    assert plugbay_redis.provide_event_store(config) is store
    assert store.prefix == "team-a:events"
    assert store.ttl_ms == 90_000
    assert store.max_events == 50
    assert store.client.connection_pool.connection_kwargs["db"] == 3
    assert _call("register_asgi_wrappers", config).items == [(session_scoped, {})]


async def test_readiness_pings_redis(redis_url: str) -> None:
    config = _config(url=redis_url)
    ((check, options),) = _call("register_readiness_checks", config).items
    assert options == {"name": "redis"}
    ((factory, _),) = _call("register_lifespan", config).items
    async with factory():
        assert await check() is None


async def test_readiness_fails_while_redis_does_not_answer() -> None:
    config = _config(url="redis://127.0.0.1:9/0")
    ((check, _),) = _call("register_readiness_checks", config).items
    ((factory, _),) = _call("register_lifespan", config).items
    async with factory():
        with pytest.raises(RedisConnectionError):
            await check()


async def test_the_lifespan_closes_the_client_it_used(redis_url: str, redis_keys: Redis) -> None:
    config = _config(url=redis_url)
    settings = config.table("redis")
    ((factory, _),) = _call("register_lifespan", config).items
    async with factory():
        assert not settings.connected  # nothing is opened before it is needed
        store = plugbay_redis.provide_event_store(config)
        assert isinstance(store, RedisEventStore)
        await store.ping()
        connection = await store.client.client_id()
        assert await redis_keys.client_list(client_id=[connection])
    with anyio.fail_after(5):
        while await redis_keys.client_list(client_id=[connection]):
            await anyio.sleep(0.05)


def test_the_readme_tables_are_valid() -> None:
    readme = Path(__file__).parents[1] / "README.md"
    blocks = re.findall(r"```toml\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    tables = [tomllib.loads(block)["redis"] for block in blocks if "[redis]" in block]
    assert len(tables) == 2
    for table in tables:
        url = table["url"].replace("${REDIS_URL}", "redis://cache.internal:6379/0")
        RedisSettings.model_validate({**table, "url": url})
