"""Fixtures for plugbay-guard's tests: configurations with the guard's tables, the hooks'
registrations, and real servers assembled with the guard and a small connector.

Tests here import no other plugin: callers are authenticated by a small API-key backend
of the tests' own (through the public ``register_auth`` hook), as a third-party
authentication plugin would be.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import plugbay_guard
from plugbay import Connector, HttpRequestInfo, Principal, Settings, hookimpl, prompt, resource
from plugbay import tool as tool_mark
from plugbay.assembly import Assembly
from plugbay.config import Config, ServerConfig
from plugbay.transports import http_app
from plugbay_testing.harness import build_assembly

BASE = "http://127.0.0.1:8000"
REDIS_URL = "redis://127.0.0.1:6379/0"


def guard_tables() -> dict[str, type[Any]]:
    """The tables the guard claims, through its own hook."""
    claimed: dict[str, type[Any]] = {}

    def register(model: type[Any], /, *, table: str) -> None:
        claimed[table] = model

    plugbay_guard.register_config_tables(register)
    return claimed


@pytest.fixture
def guard_config() -> Callable[..., Config]:
    """``guard_config(workers=1, policy={...}, limits={...}, audit={...})``: a host
    :class:`Config` carrying the guard's tables, validated with the guard's models."""

    def make(*, workers: int = 1, **tables: Mapping[str, Any]) -> Config:
        models = guard_tables()
        validated = {name: models[name].model_validate(value) for name, value in tables.items()}
        return Config(server=ServerConfig(workers=workers), tables=validated)

    return make


Registered = list[tuple[Any, dict[str, Any]]]


@pytest.fixture
def registered() -> Callable[[Callable[..., None], Config], Registered]:
    """``registered(hook, config)``: what one of the guard's hooks registers, with options."""

    def call(hook: Callable[..., None], config: Config) -> Registered:
        found: Registered = []

        def register(item: Any, /, **options: Any) -> None:
            found.append((item, options))

        hook(register=register, config=config)
        return found

    return call


class KeyAuth:
    """An API-key backend of the tests' own: ``x-api-key: <key>`` names a principal."""

    name = "test-keys"

    def __init__(self, keys: Mapping[str, Principal]) -> None:
        self.keys = dict(keys)

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        """The principal of the request's key, if it has one this backend knows."""
        key = request.headers.get("x-api-key")
        return self.keys.get(key) if key is not None else None

    def challenge(self) -> str | None:
        """The challenge sent with a ``401``."""
        return 'ApiKey realm="tests"'


class Extras:
    """A plugin of the tests: tools, connectors and auth backends, registered as given."""

    __name__ = "extras"

    def __init__(
        self,
        *,
        tools: Iterable[Any] = (),
        prompts: Iterable[Any] = (),
        connectors: Iterable[type[Connector[Any]]] = (),
        auth: Iterable[Any] = (),
        middleware: Iterable[tuple[Any, str]] = (),
        routes: Iterable[tuple[Any, dict[str, Any]]] = (),
    ) -> None:
        self.tools = list(tools)
        self.prompts = list(prompts)
        self.connectors = list(connectors)
        self.auth = list(auth)
        self.middleware = list(middleware)
        self.routes = list(routes)

    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        for item in self.tools:
            if isinstance(item, tuple):
                register(item[0], **item[1])
            else:
                register(item)

    @hookimpl
    def register_prompts(self, register: Callable[..., None]) -> None:
        for item in self.prompts:
            register(item)

    @hookimpl
    def register_connectors(self, register: Callable[..., None]) -> None:
        for connector in self.connectors:
            register(connector)

    @hookimpl
    def register_auth(self, register: Callable[..., None]) -> None:
        for backend in self.auth:
            register(backend)

    @hookimpl
    def register_middleware(self, register: Callable[..., None]) -> None:
        for layer, stage in self.middleware:
            register(layer, stage=stage)

    @hookimpl
    def register_routes(self, register: Callable[..., None]) -> None:
        for endpoint, options in self.routes:
            register(endpoint, **options)


@pytest.fixture
def extras() -> type[Extras]:
    """The :class:`Extras` plugin class."""
    return Extras


@pytest.fixture
def key_auth() -> type[KeyAuth]:
    """The :class:`KeyAuth` backend class."""
    return KeyAuth


@pytest.fixture
def build() -> Callable[..., Assembly]:
    """``build(extras, config=toml_or_dict, environ=...)``: the guard and ``extras``,
    assembled by the real host from a real configuration."""

    def make(
        plugin: Extras | None = None, config: Any = None, environ: Mapping[str, str] | None = None
    ) -> Assembly:
        plugins: list[object] = [plugbay_guard] if plugin is None else [plugbay_guard, plugin]
        return build_assembly(*plugins, config=config, environ=environ)

    return make


@pytest.fixture
def connector_cls() -> type[Connector[Any]]:
    """A small connector, ``calc``, with a tool, a resource template and a prompt."""

    class CalcSettings(Settings):
        offset: int = 1

    class CalcConnector(Connector[CalcSettings]):
        """Adds numbers."""

        name = "calc"

        @tool_mark(read_only=True, idempotent=True)
        async def add(self, a: int) -> int:
            """Add the offset to a."""
            return a + self.settings.offset

        @resource("numbers/{n}", mime_type="text/plain")
        def number(self, n: str) -> str:
            """One number."""
            return f"{self.instance}:{n}"

        @prompt
        def explain(self, topic: str) -> str:
            """Explain a topic."""
            return f"Explain {topic}"

    return CalcConnector


@pytest.fixture
def served() -> Callable[..., Any]:
    """``async with served(assembly) as app``: the assembly's HTTP app with its lifespan."""

    @asynccontextmanager
    async def serve(assembly: Assembly) -> AsyncIterator[Any]:
        application = http_app(assembly, stateless=True, json_response=True)
        async with application.router.lifespan_context(application):
            yield application

    return serve


@pytest.fixture
def client_as() -> Callable[..., Any]:
    """``async with client_as(app, key) as client``: an MCP client sending ``x-api-key``."""

    @asynccontextmanager
    async def connect(app: Any, key: str) -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=BASE, headers={"x-api-key": key}
        )
        async with (
            http,
            Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as client,
        ):
            yield client

    return connect


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix unique to this test in the real Redis; its keys are deleted after.

    Redis on 127.0.0.1:6379 is required under ``CI=true``; elsewhere its absence skips.
    """
    if os.environ.get("CI") == "true":
        import redis.asyncio as redis  # under CI a missing redis package fails, never skips
    else:
        redis = pytest.importorskip("redis.asyncio", reason="install plugbay-guard[redis]")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        message = (
            f"Redis is not reachable at {REDIS_URL} ({type(error).__name__}); start redis-server"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    prefix = f"plugbay-guard-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
