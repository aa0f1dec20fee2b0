"""What plugins add to how the server runs: middleware stages, visibility, HTTP and lifespan.

Collected once at assembly from the hooks of :mod:`plugbay.hookspecs`. Hooks that decide
who gets in or what runs (middleware, visibility, ASGI wrappers, message middleware)
are security hooks: something unusable registered through them is a security failure
of its plugin (:mod:`plugbay.fail_closed`), not a skipped item.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from plugbay.errors import AssemblyError
from plugbay.fail_closed import security_registrations
from plugbay.middleware import STAGES, Middleware, Visibility

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from mcp.server.streamable_http import EventStore

    from plugbay.config import Config
    from plugbay.plugins import PluginRegistry

logger = logging.getLogger(__name__)

HOST_PATHS = frozenset({"/healthz", "/readyz", "/sse", "/messages/", "/ws"})
"""Paths the host serves itself (besides ``[server] path``); no plugin route may take them."""

ReadinessCheck = Callable[[], Awaitable[None]]
"""``async () -> None``, raising when what it checks is not ready."""
LifespanFactory = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True, slots=True)
class PluginRoute:
    """An HTTP route a plugin registered (``register_routes``)."""

    plugin: str
    path: str
    endpoint: Callable[..., Awaitable[Any]]
    methods: tuple[str, ...] = ("GET",)
    public: bool = False
    """Served without authentication or the ASGI wrappers (OAuth metadata, for example)."""


@dataclass(slots=True)
class Extensions:
    """Everything the ``how it runs`` hooks registered, in pluggy's order."""

    routes: list[PluginRoute] = field(default_factory=list)
    asgi_wrappers: list[Callable[[Any], Any]] = field(default_factory=list)
    lifespans: list[tuple[str, LifespanFactory]] = field(default_factory=list)
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    event_store: EventStore | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Enter every plugin's lifespan in order; exit them in reverse order.

        Raises:
            AssemblyError: A lifespan failed to start, naming its plugin.
        """
        async with AsyncExitStack() as stack:
            for plugin, factory in self.lifespans:
                try:
                    await stack.enter_async_context(factory())
                except Exception as error:
                    raise AssemblyError(
                        f"plugin {plugin!r}: its lifespan failed to start: "
                        f"{type(error).__name__}: {error}"
                    ) from error
            yield


def staged_middleware(registry: PluginRegistry, config: Config) -> list[Middleware]:
    """The call middleware, outermost first: ``observe``, then ``admit``, then ``run``.

    Within a stage, pluggy's order is kept. A middleware with an unknown stage is a
    security failure of its plugin.
    """
    by_stage: dict[str, list[Middleware]] = {stage: [] for stage in STAGES}
    for plugin, layer, options in security_registrations(
        registry, "register_middleware", config, with_options=True
    ):
        stage = options.get("stage", "run")
        if stage not in by_stage:
            registry.fail(
                plugin,
                f"register_middleware: stage={stage!r} is not one of {', '.join(STAGES)}",
                security=True,
            )
            continue
        by_stage[stage].append(layer)
    return [layer for stage in STAGES for layer in by_stage[stage]]


def visibility_checks(registry: PluginRegistry, config: Config) -> list[Visibility]:
    """The ``register_visibility`` checks, in pluggy's order."""
    return list(security_registrations(registry, "register_visibility", config))


def collect_extensions(registry: PluginRegistry, config: Config) -> Extensions:
    """Call the routes, ASGI wrappers, lifespan, readiness and event-store hooks."""
    found = Extensions(
        asgi_wrappers=list(security_registrations(registry, "register_asgi_wrappers", config))
    )
    taken = set(HOST_PATHS) | {config.server.path}
    for registration in registry.collect("register_routes", config=config):
        route = _route(registration.plugin, registration.item, registration.options)
        if isinstance(route, str):
            registry.fail(registration.plugin, f"register_routes: {route}")
        elif route.path in taken:
            registry.fail(
                registration.plugin,
                f"register_routes: the path {route.path} is served already; pick another",
            )
        else:
            taken.add(route.path)
            found.routes.append(route)
    for registration in registry.collect("register_lifespan", config=config):
        if callable(registration.item):
            found.lifespans.append((registration.plugin, registration.item))
        else:
            registry.fail(
                registration.plugin,
                f"register_lifespan: {registration.item!r} is not a factory of async "
                "context managers",
            )
    for registration in registry.collect("register_readiness_checks", config=config):
        name = registration.options.get("name")
        if not callable(registration.item) or not isinstance(name, str) or not name:
            problem = "register it as register(check, name='...') with an async callable"
        elif name in found.readiness_checks or name in ("instances", "connectors"):
            problem = f"a readiness check named {name!r} exists already"
        else:
            found.readiness_checks[name] = registration.item
            continue
        registry.fail(registration.plugin, f"register_readiness_checks: {problem}")
    found.event_store = _event_store(registry, config)
    return found


def _route(plugin: str, endpoint: Any, options: Mapping[str, Any]) -> PluginRoute | str:
    """The route ``register_routes`` was given, or why it cannot be served."""
    path, methods = options.get("path"), options.get("methods", ["GET"])
    if not callable(endpoint):
        return f"{endpoint!r} is not an endpoint (async (request) -> response)"
    if not isinstance(path, str) or not path.startswith("/"):
        return f"path={path!r}: register it as register(endpoint, path='/...')"
    if isinstance(methods, str) or not all(isinstance(m, str) for m in methods):
        return f"methods={methods!r} must be a list of HTTP methods"
    return PluginRoute(
        plugin,
        path,
        endpoint,
        tuple(m.upper() for m in methods),
        public=bool(options.get("public", False)),
    )


def _event_store(registry: PluginRegistry, config: Config) -> EventStore | None:
    """The first event store a plugin provides; a plugin whose hook raises is reported."""
    # firstresult: pluggy stops at the first non-None answer. Called through pluggy so
    # the order is pluggy's, with each plugin's failure isolated as for other hooks.
    for implementation in reversed(registry.manager.hook.provide_event_store.get_hookimpls()):
        try:
            store = implementation.function(
                **{name: config for name in implementation.argnames if name == "config"}
            )
        except Exception as error:
            registry.fail(
                implementation.plugin_name,
                f"provide_event_store: {type(error).__name__}: {error}",
            )
            continue
        if store is not None:
            return cast("EventStore", store)
    return None
