"""The real Redis these tests talk to, on 127.0.0.1:6379, and stores under keys of their own.

Without a Redis the tests are skipped with how to start one (``redis-server``, or
``docker run -p 6379:6379 redis:7``); under ``CI=true`` a missing Redis fails them.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
import uvicorn
from redis.asyncio import Redis
from starlette.types import ASGIApp

from plugbay_redis import RedisEventStore
from plugbay_testing.fakes import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_problem() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1.0) as connection:
            connection.sendall(b"PING\r\n")
            if not connection.recv(64).startswith(b"+PONG"):
                return "something on 127.0.0.1:6379 does not answer PING like Redis"
    except OSError as error:
        return f"no Redis on 127.0.0.1:6379 ({error})"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis; skips without one (fails under ``CI=true``, where it must run)."""
    problem = _redis_problem()
    if problem is None:
        return REDIS_URL
    message = f"{problem}; start one (redis-server, or docker run -p 6379:6379 redis:7)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


@pytest.fixture
def key_prefix() -> str:
    """A key prefix no other test uses."""
    return f"plugbay-test-{uuid.uuid4().hex}"


@pytest.fixture
async def redis_keys(redis_url: str, key_prefix: str) -> AsyncIterator[Redis]:
    """A client on the test Redis; every key under ``key_prefix`` is deleted afterwards."""
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def store(
    redis_url: str, key_prefix: str, redis_keys: Redis
) -> AsyncIterator[RedisEventStore]:
    """A store under ``key_prefix``, with a client of its own."""
    created = RedisEventStore.from_url(redis_url, prefix=key_prefix, ttl=60, max_events=1000)
    try:
        yield created
    finally:
        await created.aclose()


@asynccontextmanager
async def _serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 for the block; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


@pytest.fixture
def serve() -> Any:
    """``async with serve(app) as base_url``: ``app`` served by uvicorn on 127.0.0.1."""
    return _serving


def _load_wire() -> ModuleType:
    """``wire.py`` beside this file (``--import-mode=importlib`` cannot import it by name)."""
    name = "plugbay_redis_tests_wire"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("wire.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def wire() -> ModuleType:
    """The raw streamable-HTTP client of ``wire.py``."""
    return _load_wire()
