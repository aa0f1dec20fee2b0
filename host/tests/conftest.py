"""Fixtures for the host's own tests: in-process plugins, assemblies and servers."""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from plugbay import hookimpl
from plugbay.assembly import Assembly, assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins


def _register_all(register: Callable[..., None], items: Iterable[Any]) -> None:
    for item in items:
        if isinstance(item, tuple):
            function, options = item
            register(function, **options)
        else:
            register(item)


class Bundle:
    """A plugin object that registers whatever it was given, through every hook.

    Items are registered as given; a ``(function, options)`` tuple is registered as
    ``register(function, **options)``.
    """

    def __init__(
        self,
        *,
        tools: Iterable[Any] = (),
        resources: Iterable[Any] = (),
        prompts: Iterable[Any] = (),
        connectors: Iterable[Any] = (),
        middleware: Iterable[Any] = (),
        auth: Iterable[Any] = (),
        tables: Iterable[Any] = (),
        routes: Iterable[Any] = (),
        wrappers: Iterable[Any] = (),
        lifespans: Iterable[Any] = (),
        readiness: Iterable[Any] = (),
        visibility: Iterable[Any] = (),
        event_store: Any = None,
    ) -> None:
        self.tools = list(tools)
        self.resources = list(resources)
        self.prompts = list(prompts)
        self.connectors = list(connectors)
        self.middleware = list(middleware)
        self.auth = list(auth)
        self.tables = list(tables)
        self.routes = list(routes)
        self.wrappers = list(wrappers)
        self.lifespans = list(lifespans)
        self.readiness = list(readiness)
        self.visibility = list(visibility)
        self.event_store = event_store

    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        _register_all(register, self.tools)

    @hookimpl
    def register_resources(self, register: Callable[..., None]) -> None:
        _register_all(register, self.resources)

    @hookimpl
    def register_prompts(self, register: Callable[..., None]) -> None:
        _register_all(register, self.prompts)

    @hookimpl
    def register_connectors(self, register: Callable[..., None]) -> None:
        _register_all(register, self.connectors)

    @hookimpl
    def register_middleware(self, register: Callable[..., None]) -> None:
        _register_all(register, self.middleware)

    @hookimpl
    def register_auth(self, register: Callable[..., None]) -> None:
        _register_all(register, self.auth)

    @hookimpl
    def register_config_tables(self, register: Callable[..., None]) -> None:
        _register_all(register, self.tables)

    @hookimpl
    def register_routes(self, register: Callable[..., None]) -> None:
        _register_all(register, self.routes)

    @hookimpl
    def register_asgi_wrappers(self, register: Callable[..., None]) -> None:
        _register_all(register, self.wrappers)

    @hookimpl
    def register_lifespan(self, register: Callable[..., None]) -> None:
        _register_all(register, self.lifespans)

    @hookimpl
    def register_readiness_checks(self, register: Callable[..., None]) -> None:
        _register_all(register, self.readiness)

    @hookimpl
    def register_visibility(self, register: Callable[..., None]) -> None:
        _register_all(register, self.visibility)

    @hookimpl
    def provide_event_store(self) -> Any:
        return self.event_store


@pytest.fixture
def bundle() -> type[Bundle]:
    """The :class:`Bundle` plugin class."""
    return Bundle


Build = Callable[..., Assembly]


@pytest.fixture
def build() -> Build:
    """Assemble in-process plugins (no entry points) with an optional TOML configuration.

    ``build({"name": plugin, ...}, toml="...", environ={...})``; a bare :class:`Bundle`
    is registered as plugin ``"test"``.
    """

    def make(
        plugins: Mapping[str, object] | Bundle,
        toml: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Assembly:
        extra = {"test": plugins} if isinstance(plugins, Bundle) else dict(plugins)
        registry = load_plugins({}, extra=extra, entry_points=False)
        document = tomllib.loads(toml) if toml else {}
        config = parse_config(document, environ=dict(environ or {}))
        return assemble(registry, config)

    return make


@pytest.fixture
def connector_cls() -> type[Any]:
    """A small connector, ``calc``, with a tool, a resource template and a prompt."""
    from plugbay import Connector, Settings, prompt, resource, tool

    class CalcSettings(Settings):
        offset: int = 1

    class CalcConnector(Connector[CalcSettings]):
        """Adds numbers.

        More words that are not the description.
        """

        name = "calc"
        TOML = '[connectors.calc]\nplugin = "calc"\n'

        @tool(read_only=True, idempotent=True)
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
