"""Assembly: from installed plugins and configuration to connector instances and a catalog."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
from pydantic import ValidationError

from plugbay.catalog import (
    Catalog,
    Owner,
    build_prompt,
    build_resource,
    build_tool,
    tool_available,
)
from plugbay.components import (
    PromptSpec,
    ResourceSpec,
    ToolSpec,
    prompt,
    prompt_spec,
    resource_spec,
    tool,
    tool_spec,
)
from plugbay.config import Config, InstanceConfig, setting_variable, validation_line
from plugbay.connector import Connector
from plugbay.describing import instance_facts
from plugbay.dynamic import Components, build_dynamic, merge_leniently, without
from plugbay.errors import AssemblyError, ConfigError
from plugbay.extensions import (
    Extensions,
    collect_extensions,
    staged_middleware,
    visibility_checks,
)
from plugbay.fail_closed import security_registrations
from plugbay.freestanding import freestanding, resource_mark
from plugbay.instances import InstanceState, InstanceStatus
from plugbay.middleware import Middleware, Visibility
from plugbay.plugins import PluginRegistry
from plugbay.tables import claim_tables
from plugbay.threads import WorkerThreads

logger = logging.getLogger(__name__)

__all__ = ["START_TIMEOUT", "Assembly", "InstanceState", "InstanceStatus", "assemble"]

START_TIMEOUT = 30.0
"""Seconds a connector may take to start before it is reported as failed."""


@dataclass(slots=True)
class Assembly:
    """The assembled server: plugins, connector instances, catalog and auth backends."""

    registry: PluginRegistry
    config: Config
    catalog: Catalog
    instances: dict[str, InstanceState]
    middleware: list[Middleware]
    auth_backends: list[Any]
    problems: list[str] = field(default_factory=list)
    """Assembly errors (configuration and plugin problems), for ``config check``."""
    listeners: list[Callable[[Catalog, Catalog], Awaitable[None]]] = field(default_factory=list)
    """Called with the old and the new catalog whenever :meth:`replace_catalog` swaps them."""
    visibility: list[Visibility] = field(default_factory=list)
    """List filters registered through ``register_visibility``."""
    message_middleware: list[Any] = field(default_factory=list)
    """Registered through ``register_message_middleware``, outermost first."""
    extensions: Extensions = field(default_factory=Extensions)
    """Routes, ASGI wrappers, lifespans, readiness checks and the event store."""
    declared: dict[str, Catalog] = field(default_factory=dict)
    """Each instance's decorated components as assembled: withdrawn while it is failed,
    put back when it starts (see :meth:`start_instance`)."""
    _dynamic: dict[str, Catalog] = field(default_factory=dict, init=False, repr=False)
    """The catalog entries built from each instance's ``components()``, by instance."""
    _catalog_lock: anyio.Lock | None = field(default=None, init=False, repr=False)

    async def replace_catalog(self, catalog: Catalog) -> None:
        """Serve a new catalog from now on and tell the listeners (connected clients).

        The swap is one assignment, so a call in flight finishes on the entry it found.
        """
        previous, self.catalog = self.catalog, catalog
        for listener in self.listeners:
            await listener(previous, catalog)

    async def start(self, only: Collection[str] | None = None) -> None:
        """Start the configured connector instances (those named in ``only``) concurrently.

        An instance whose ``start`` raises or times out is marked failed and its
        components are withdrawn from the catalog; the others serve.
        """

        async def start_one(name: str) -> None:
            if (error := await self.start_instance(name)) is not None:
                logger.warning("connector instance %s failed to start: %s", name, error)

        async with anyio.create_task_group() as group:
            for state in self.instances.values():
                if state.status == "configured" and (only is None or state.name in only):
                    group.start_soon(start_one, state.name)

    async def start_instance(self, name: str) -> Exception | None:
        """Start one instance, configured or failed earlier (see :mod:`plugbay.retrying`).

        Started, the instance serves its declared components and its dynamic ones,
        and clients hear of them. Otherwise it is marked failed, its components are
        withdrawn, and the reason replaces any earlier start failure in its problems.

        Returns:
            ``None`` once the instance serves, else the error its ``start`` raised.
        """
        state = self.instances[name]
        obj = state.obj
        assert obj is not None
        obj._plugbay_listen(partial(self.refresh_components, name))
        try:
            with anyio.fail_after(START_TIMEOUT):
                await obj.start()
                # Under the lock, so that a components_changed() the connector sends
                # while this runs waits and then finds the instance ready.
                async with self._lock():
                    await self._restore_declared(state)
                    await self._swap_dynamic(state, await obj.components())
                    state.status = "ready"
        except Exception as error:
            obj._plugbay_listen(None)
            state.status = "failed"
            state.problems[:] = [p for p in state.problems if not p.startswith("failed to start:")]
            state.problems.append(f"failed to start: {type(error).__name__}: {error}")
            async with self._lock():
                self._dynamic.pop(name, None)
                await self.replace_catalog(self.catalog.without_instances({name}))
            return error
        return None

    async def _restore_declared(self, state: InstanceState) -> None:
        """Serve again the declared components withdrawn when the instance failed."""
        back = without(self.declared.get(state.name, Catalog()), self.catalog)
        if back.tools or back.resources or back.templates or back.prompts:
            catalog, _, clashes = merge_leniently(self.catalog, back)
            state.problems.extend(clash for clash in clashes if clash not in state.problems)
            await self.replace_catalog(catalog)

    async def refresh_components(self, instance: str) -> None:
        """Ask a serving instance for its dynamic components again and serve the new ones.

        What :meth:`Connector.components_changed` calls. Failures are logged and the
        previous components stay; a name that clashes with another component is left
        out and listed in the instance's problems.
        """
        async with self._lock():
            state = self.instances.get(instance)
            if state is None or state.status != "ready" or state.obj is None:
                return
            try:
                with anyio.fail_after(START_TIMEOUT):
                    components = await state.obj.components()
            except Exception:
                logger.exception("components() of instance %s failed", instance)
                return
            await self._swap_dynamic(state, components)

    def _lock(self) -> anyio.Lock:
        # Made on first use, inside the event loop that serves the assembly.
        if self._catalog_lock is None:
            self._catalog_lock = anyio.Lock()
        return self._catalog_lock

    async def _swap_dynamic(self, state: InstanceState, components: Components | None) -> None:
        """Replace the instance's dynamic entries in the catalog (caller holds the lock)."""
        previous = self._dynamic.get(state.name)
        if components is None and previous is None:
            return
        facts = instance_facts(state.obj)
        owner = Owner(state.plugin, state.name, state.obj, state.threads, facts)
        staged, problems = build_dynamic(
            components or Components(),
            owner,
            middleware=self.middleware,
            default_timeout=state.call_timeout,
        )
        base = without(self.catalog, previous) if previous is not None else self.catalog
        catalog, added, clashes = merge_leniently(base, staged)
        self._dynamic[state.name] = added
        for problem in [*problems, *clashes]:
            logger.warning("instance %s: %s", state.name, problem)
            if problem not in state.problems:
                state.problems.append(problem)
        await self.replace_catalog(catalog)

    async def stop(self) -> None:
        """Stop every started instance; errors are logged, never raised."""
        for state in self.instances.values():
            if state.status != "ready" or state.obj is None:
                continue
            try:
                with anyio.fail_after(START_TIMEOUT), anyio.CancelScope(shield=True):
                    await state.obj.stop()
            except Exception:
                logger.exception("connector instance %s did not stop cleanly", state.name)
            state.obj._plugbay_listen(None)
            state.status = "stopped"


@dataclass(frozen=True, slots=True)
class _ConnectorClass:
    plugin: str
    cls: type[Connector[Any]]


def _collect_connectors(registry: PluginRegistry, config: Config) -> dict[str, _ConnectorClass]:
    connectors: dict[str, _ConnectorClass] = {}
    for registration in registry.collect("register_connectors", config=config):
        cls = registration.item
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            registry.fail(
                registration.plugin, f"register_connectors: {cls!r} is not a Connector subclass"
            )
            continue
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            registry.fail(registration.plugin, f"register_connectors: {cls.__name__} has no name")
            continue
        if (existing := connectors.get(name)) is not None:
            registry.fail(
                registration.plugin,
                f"register_connectors: connector name {name!r} is already registered by plugin "
                f"{existing.plugin!r}",
            )
            continue
        connectors[name] = _ConnectorClass(registration.plugin, cls)
    return connectors


def installed_connectors(
    registry: PluginRegistry, config: Config
) -> dict[str, tuple[str, type[Connector[Any]]]]:
    """The connector classes the loaded plugins register, by name, each with its plugin.

    What ``plugbay connectors`` and ``plugbay init`` describe; a bad registration is
    recorded against its plugin as it is at assembly.
    """
    found = _collect_connectors(registry, config)
    return {name: (item.plugin, item.cls) for name, item in found.items()}


def _settings_hint(instance: str, field_name: str) -> str:
    variable = setting_variable(instance, field_name)
    return f"set {field_name!r} in [connectors.{instance}] or the environment variable {variable}"


def _configure_instance(
    wanted: InstanceConfig, found: _ConnectorClass | None, config: Config
) -> InstanceState:
    plugin = found.plugin if found else "?"
    state = InstanceState(
        name=wanted.name,
        connector=wanted.plugin,
        plugin=plugin,
        status="not configured",
        call_timeout=(
            wanted.call_timeout if wanted.call_timeout is not None else config.server.call_timeout
        ),
        threads=WorkerThreads(
            f"instance {wanted.name!r}",
            wanted.sync_workers or config.server.sync_workers,
            config.server.max_abandoned_threads,
        ),
    )
    if found is None:
        state.problems.append(
            f"no installed plugin provides the connector {wanted.plugin!r} "
            "(is its package installed? see `plugbay plugins`)"
        )
        return state
    for variable in wanted.missing_variables:
        state.problems.append(f"the environment variable {variable} is not set")
    values = {**wanted.values, **config.env_overrides(wanted.name)}
    try:
        settings = found.cls.settings_model.model_validate(
            values, context=config.settings_context(wanted.name)
        )
    except ValidationError as error:
        for item in error.errors(include_input=False, include_url=False):
            location = ".".join(str(part) for part in item["loc"])
            if item["type"] == "missing" and len(item["loc"]) == 1:
                state.problems.append(
                    f"{location} is required: {_settings_hint(wanted.name, location)}"
                )
            else:
                state.problems.append(validation_line(item))
        return state
    if state.problems:
        return state
    try:
        state.obj = found.cls(wanted.name, settings)
    except Exception as error:
        state.status = "failed"
        state.problems.append(f"could not be created: {type(error).__name__}: {error}")
        return state
    state.status = "configured"
    return state


def _wanted_instances(
    config: Config, connectors: Mapping[str, _ConnectorClass]
) -> list[InstanceConfig]:
    if config.instances is not None:
        return list(config.instances)
    # No [connectors] table: every connector runs once under its own name, on its
    # defaults and environment variables. Those that need more are listed as not
    # configured, with what to set.
    return [InstanceConfig(name=name, plugin=name, values={}) for name in sorted(connectors)]


def _add_components(
    catalog: Catalog,
    owner: Owner,
    functions: list[
        tuple[Callable[..., Any], ToolSpec | None, ResourceSpec | None, PromptSpec | None]
    ],
    *,
    scheme: str | None,
    middleware: list[Middleware],
    timeout: float | None,
    list_unavailable: bool = False,
) -> None:
    for function, t_spec, r_spec, p_spec in functions:
        if t_spec is not None and (list_unavailable or tool_available(t_spec, owner)):
            catalog.add_tool(
                build_tool(function, t_spec, owner, middleware=middleware, default_timeout=timeout)
            )
        if r_spec is not None:
            catalog.add_resource(
                build_resource(
                    function,
                    r_spec,
                    owner,
                    scheme=scheme,
                    middleware=middleware,
                    default_timeout=timeout,
                )
            )
        if p_spec is not None:
            catalog.add_prompt(
                build_prompt(
                    function, p_spec, owner, middleware=middleware, default_timeout=timeout
                )
            )


def assemble(registry: PluginRegistry, config: Config) -> Assembly:
    """Build the server's catalog from the registry and configuration.

    Problems that belong to one plugin or instance (a broken hook, missing
    settings, a name clash) are recorded and that piece is left out; the rest is
    assembled. ``Assembly.problems`` lists them all.

    Raises:
        ConfigError: A plugin table is unclaimed or invalid (:func:`plugbay.tables.claim_tables`),
            or a plugin's hook said the configuration is wrong (raised ``ConfigError``).
    """
    problems: list[str] = []
    config = claim_tables(registry, config)
    middleware: list[Middleware] = staged_middleware(registry, config)
    auth_backends = security_registrations(registry, "register_auth", config)
    connectors = _collect_connectors(registry, config)

    catalog = Catalog()
    declared: dict[str, Catalog] = {}
    instances: dict[str, InstanceState] = {}
    for wanted in _wanted_instances(config, connectors):
        found = connectors.get(wanted.plugin)
        state = _configure_instance(wanted, found, config)
        instances[wanted.name] = state
        if state.obj is None:
            if config.instances is not None:
                problems.extend(
                    f"[connectors.{state.name}]: {problem}" for problem in state.problems
                )
            continue
        assert found is not None
        members = [
            (getattr(state.obj, attribute), tool_spec(fn), resource_spec(fn), prompt_spec(fn))
            for attribute, fn in found.cls.members()
        ]
        staged = Catalog()
        try:
            owner = Owner(
                plugin=found.plugin,
                instance=state.name,
                connector=state.obj,
                threads=state.threads,
                facts=instance_facts(state.obj),
            )
            _add_components(
                staged,
                owner,
                members,
                scheme=found.cls.uri_scheme or found.cls.name,
                middleware=middleware,
                timeout=state.call_timeout,
                list_unavailable=config.server.list_unavailable_tools,
            )
            catalog = catalog.merged(staged)
            declared[state.name] = staged
        except AssemblyError as error:
            state.status = "failed"
            state.obj = None
            state.problems.append(str(error))
            registry.fail(found.plugin, str(error))

    plugin_threads: dict[str, WorkerThreads] = {}
    for hook, mark, spec_of in (
        ("register_tools", tool, tool_spec),
        ("register_resources", resource_mark, resource_spec),
        ("register_prompts", prompt, prompt_spec),
    ):
        for plugin, function, spec in freestanding(registry, config, hook, mark, spec_of):
            if plugin not in plugin_threads:
                plugin_threads[plugin] = WorkerThreads(
                    f"plugin {plugin!r}",
                    config.server.sync_workers,
                    config.server.max_abandoned_threads,
                )
            owner = Owner(plugin=plugin, threads=plugin_threads[plugin])
            staged = Catalog()
            try:
                # Only this hook's spec: a function registered through two hooks (a tool
                # and a prompt) carries both specs and must not be added twice.
                _add_components(
                    staged,
                    owner,
                    [
                        (
                            function,
                            spec if hook == "register_tools" else None,
                            spec if hook == "register_resources" else None,
                            spec if hook == "register_prompts" else None,
                        )
                    ],
                    scheme=None,
                    middleware=middleware,
                    timeout=config.server.call_timeout,
                )
                catalog = catalog.merged(staged)
            except AssemblyError as error:
                registry.fail(plugin, str(error))

    visibility = visibility_checks(registry, config)
    message_middleware = security_registrations(registry, "register_message_middleware", config)
    extensions = collect_extensions(registry, config)
    if registry.config_problems:
        raise ConfigError(registry.config_problems)
    problems.extend(
        f"plugin {info.name!r}: {error}"
        for info in registry.plugins.values()
        for error in info.errors
    )
    return Assembly(
        registry=registry,
        config=config,
        catalog=catalog,
        instances=instances,
        middleware=middleware,
        auth_backends=auth_backends,
        problems=problems,
        visibility=visibility,
        message_middleware=message_middleware,
        extensions=extensions,
        declared=declared,
    )
