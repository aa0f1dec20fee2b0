"""Serve plugins in-process and talk to them through the real ``mcp`` client.

The harness is the whole server a user would run (plugin loading, configuration,
assembly, the SDK server) minus the transport: the client is connected in memory.
Plugins are registered in a registry of their own, so nothing leaks between tests.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, Literal

import mcp_types as types
from mcp import Client

from plugbay import Connector, hookimpl
from plugbay.assembly import Assembly, assemble
from plugbay.config import Config, parse_config
from plugbay.errors import AssemblyError
from plugbay.plugins import PluginRegistry, load_plugins
from plugbay.server import PlugbayServer
from plugbay_testing.checks import raise_problems

ProtocolMode = Literal["auto", "legacy"] | str
"""``mcp.Client`` modes: ``"auto"`` picks the modern era (2026-07-28) in-process,
``"legacy"`` forces the initialize handshake (2025-11-25); a modern version string
pins that version."""

PROTOCOL_MODES: Final[tuple[str, str]] = ("auto", "legacy")
"""Both protocol eras, for ``@pytest.mark.parametrize("mcp_mode", PROTOCOL_MODES)``."""

ConfigInput = Mapping[str, Any] | str | Config | None
PluginInput = type[Connector[Any]] | ModuleType | object


class ConnectorPlugin:
    """A throwaway plugin that registers one connector class (what a plugin module does)."""

    def __init__(self, connector: type[Connector[Any]]) -> None:
        self.connector = connector
        self.__name__ = f"plugbay_testing:{connector.__qualname__}"

    @hookimpl
    def register_connectors(self, register: Callable[[type[Connector[Any]]], None]) -> None:
        """Register the wrapped connector class."""
        register(self.connector)

    def __repr__(self) -> str:
        return f"ConnectorPlugin({self.connector.__qualname__})"


def _is_connector_class(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, Connector)


def _plugin_name(plugin: object) -> str:
    if isinstance(plugin, ConnectorPlugin):
        return getattr(plugin.connector, "name", None) or plugin.connector.__name__
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    return str(name).rsplit(".", 1)[-1].removeprefix("plugbay_") or "plugin"


def named_plugins(plugins: Sequence[PluginInput]) -> dict[str, object]:
    """Give each plugin a unique name; connector classes are wrapped in a plugin object.

    Args:
        plugins: Connector classes, plugin modules or plugin objects with hookimpls.

    Returns:
        The plugins by name, ready for ``load_plugins(extra=...)``.
    """
    named: dict[str, object] = {}
    for item in plugins:
        plugin = ConnectorPlugin(item) if _is_connector_class(item) else item  # type: ignore[arg-type]
        base = name = _plugin_name(plugin)
        counter = 2
        while name in named or name == "builtin":
            name = f"{base}-{counter}"
            counter += 1
        named[name] = plugin
    return named


def _single_connector(plugins: Sequence[PluginInput]) -> type[Connector[Any]]:
    connectors = [item for item in plugins if _is_connector_class(item)]
    if len(connectors) != 1:
        raise TypeError(
            "settings= and instance= configure one connector: pass exactly one connector class "
            "(or describe the instances in config=)"
        )
    connector: type[Connector[Any]] = connectors[0]  # type: ignore[assignment]
    return connector


def build_config(
    plugins: Sequence[PluginInput],
    config: ConfigInput = None,
    *,
    settings: Mapping[str, Any] | str | None = None,
    instance: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Turn the harness's configuration arguments into a host :class:`Config`.

    Args:
        plugins: What is being served (needed to find the connector for ``settings``).
        config: A parsed ``plugbay.toml`` document, its TOML text, or a ready ``Config``.
        settings: Settings of one instance of the only connector class in ``plugins``
            (a dict, or the TOML text of its table).
        instance: That instance's name; defaults to the connector's name.
        environ: For ``${VAR}`` and ``PLUGBAY_<INSTANCE>__<SETTING>``; empty by default,
            so tests do not depend on the machine they run on.

    Returns:
        The configuration.

    Raises:
        plugbay.ConfigError: The configuration has problems (all of them are listed).
    """
    environ = {} if environ is None else dict(environ)
    if isinstance(config, Config):
        if settings is not None or instance is not None:
            raise TypeError("pass settings= and instance= with a dict or TOML config, not a Config")
        return config
    document: dict[str, Any] = (
        tomllib.loads(config) if isinstance(config, str) else dict(config or {})
    )
    if settings is not None or instance is not None:
        connector = _single_connector(plugins)
        if "connectors" in document:
            raise TypeError("pass either settings= or a [connectors] table in config=, not both")
        values = tomllib.loads(settings) if isinstance(settings, str) else dict(settings or {})
        document["connectors"] = {instance or connector.name: {"plugin": connector.name, **values}}
    return parse_config(document, environ=environ)


def build_assembly(
    *plugins: PluginInput,
    config: ConfigInput = None,
    settings: Mapping[str, Any] | str | None = None,
    instance: str | None = None,
    environ: Mapping[str, str] | None = None,
    entry_points: bool = False,
) -> Assembly:
    """Load ``plugins`` in-process and assemble them, without starting anything.

    Takes the arguments of :func:`serve`. Use it to inspect the catalog or the
    problems an assembly reports; use :func:`serve` to call the server.

    Returns:
        The assembly; ``assembly.registry`` holds the plugins (by the names
        :func:`named_plugins` gave them) and ``assembly.problems`` what went wrong.
    """
    host_config = build_config(
        plugins, config, settings=settings, instance=instance, environ=environ
    )
    return _assemble(named_plugins(plugins), host_config, entry_points)


def _assemble(named: Mapping[str, object], config: Config, entry_points: bool) -> Assembly:
    registry = load_plugins(config.environ, extra=named, entry_points=entry_points)
    return assemble(registry, config)


def _problems(assembly: Assembly, ours: set[str]) -> list[str]:
    """What keeps the plugins under test from serving: assembly problems and idle instances."""
    problems = list(assembly.problems)
    if assembly.config.instances is not None:
        return problems  # with a [connectors] table the host reports idle instances itself
    for state in assembly.instances.values():
        if state.plugin in ours and state.status != "configured":
            details = "; ".join(state.problems) or state.status
            problems.append(f"{state.name} ({state.connector}) is {state.status}: {details}")
    return problems


async def _all_pages(fetch: Callable[[str | None], Any], field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if not cursor:
            return items


@dataclass(slots=True)
class Harness:
    """A started server and a client connected to it in memory.

    Attributes:
        assembly: The assembled server (``assembly.catalog``, ``assembly.instances``).
        server: The :class:`plugbay.server.PlugbayServer`; ``server.sdk`` is the SDK server.
        client: An entered ``mcp.Client`` talking to ``server``.
    """

    assembly: Assembly
    server: PlugbayServer
    client: Client

    @property
    def registry(self) -> PluginRegistry:
        """The plugins this server was assembled from."""
        return self.assembly.registry

    @property
    def protocol_version(self) -> str:
        """The protocol version the client negotiated (``2026-07-28``, ``2025-11-25``...)."""
        return self.client.protocol_version

    @property
    def connector(self) -> Connector[Any]:
        """The connector object of the only running instance (to inspect its state)."""
        running = [state.obj for state in self.assembly.instances.values() if state.obj is not None]
        if len(running) != 1:
            names = sorted(self.assembly.instances)
            raise LookupError(
                f"{len(running)} connector instances are running ({names}); use .instance()"
            )
        return running[0]

    def instance(self, name: str) -> Connector[Any]:
        """The connector object of the instance called ``name``."""
        state = self.assembly.instances[name]
        if state.obj is None:
            raise LookupError(f"instance {name!r} is {state.status}: {'; '.join(state.problems)}")
        return state.obj

    def tool_name(self, name: str) -> str:
        """The full name of a tool: ``name``, or ``<instance>_<name>`` when one instance runs."""
        tools = self.assembly.catalog.tools
        if name in tools:
            return name
        instances = {entry.owner.instance for entry in tools.values() if entry.owner.instance}
        if len(instances) == 1 and (full := f"{instances.pop()}_{name}") in tools:
            return full
        return name

    async def call(self, tool: str, /, **arguments: Any) -> types.CallToolResult:
        """Call a tool through the client; the short name works when one instance runs.

        Failures the tool reports come back as a result with ``is_error`` set; protocol
        errors (an unknown tool) raise ``mcp.shared.exceptions.MCPError``.
        """
        return await self.client.call_tool(self.tool_name(tool), arguments)

    async def call_ok(self, tool: str, /, **arguments: Any) -> Any:
        """Call a tool, assert it succeeded, and return its structured content or its text."""
        result = await self.call(tool, **arguments)
        if result.is_error:
            raise AssertionError(f"{self.tool_name(tool)} returned an error: {result_text(result)}")
        if result.structured_content is not None:
            return result.structured_content
        return result_text(result)

    async def read(self, uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
        """Read a resource through the client and return its contents."""
        result = await self.client.read_resource(uri)
        return list(result.contents)

    async def get_prompt(self, name: str, /, **arguments: str) -> types.GetPromptResult:
        """Get a prompt through the client."""
        return await self.client.get_prompt(name, arguments or None)

    async def list_tools(self) -> list[types.Tool]:
        """Every tool the client sees, all pages."""
        return await _all_pages(lambda cursor: self.client.list_tools(cursor=cursor), "tools")

    async def list_prompts(self) -> list[types.Prompt]:
        """Every prompt the client sees, all pages."""
        return await _all_pages(lambda cursor: self.client.list_prompts(cursor=cursor), "prompts")

    async def list_resources(self) -> list[types.Resource]:
        """Every fixed resource the client sees, all pages."""
        return await _all_pages(
            lambda cursor: self.client.list_resources(cursor=cursor), "resources"
        )

    async def list_resource_templates(self) -> list[types.ResourceTemplate]:
        """Every resource template the client sees, all pages."""
        return await _all_pages(
            lambda cursor: self.client.list_resource_templates(cursor=cursor), "resource_templates"
        )


def result_text(result: types.CallToolResult) -> str:
    """The text blocks of a tool result, joined (what a model reads of it)."""
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group.exceptions:
        leaves.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return leaves


@asynccontextmanager
async def serve(
    *plugins: PluginInput,
    config: ConfigInput = None,
    settings: Mapping[str, Any] | str | None = None,
    instance: str | None = None,
    environ: Mapping[str, str] | None = None,
    entry_points: bool = False,
    mode: ProtocolMode = "auto",
    strict: bool = True,
) -> AsyncIterator[Harness]:
    """Assemble a server from ``plugins``, start it, and connect a client in memory.

    ::

        async with serve(NotesConnector, settings={"directory": str(tmp_path)}) as h:
            assert await h.call_ok("list_notes") == {"result": []}

    Args:
        plugins: Connector classes (wrapped in a plugin that registers them), plugin
            modules or plugin objects with hook implementations.
        config: A parsed ``plugbay.toml`` document, its TOML text, or a ``Config``.
            Without ``[connectors]`` every connector runs once, named after itself.
        settings: Settings of one instance of the only connector class given.
        instance: That instance's name; defaults to the connector's name.
        environ: For ``${VAR}`` and ``PLUGBAY_*`` variables; empty by default. Pass
            ``os.environ`` to use the real environment.
        entry_points: Also load the installed plugins.
        mode: The client's protocol mode; see :data:`PROTOCOL_MODES`.
        strict: Raise when the plugins given do not assemble and start cleanly,
            instead of serving whatever did.

    Yields:
        The harness; connectors are started before and stopped after.

    Raises:
        plugbay.AssemblyError: With ``strict``, listing every problem.
        plugbay.ConfigError: The configuration is invalid.
    """
    named = named_plugins(plugins)
    host_config = build_config(
        plugins, config, settings=settings, instance=instance, environ=environ
    )
    assembly = _assemble(named, host_config, entry_points)
    try:
        if strict:
            raise_problems(
                "the plugins under test did not assemble",
                _problems(assembly, set(named)),
                error=AssemblyError,
            )
        await assembly.start()
        try:
            if strict:
                failed = [
                    f"{state.name} ({state.connector}) failed to start: {'; '.join(state.problems)}"
                    for state in assembly.instances.values()
                    if state.plugin in named and state.status == "failed"
                ]
                raise_problems(
                    "the connectors under test did not start", failed, error=AssemblyError
                )
            server = PlugbayServer(assembly)
            failure: BaseException | None = None
            try:
                async with Client(server.sdk, mode=mode) as client:
                    try:
                        yield Harness(assembly=assembly, server=server, client=client)
                    except BaseException as error:
                        failure = error
                        raise
            except BaseExceptionGroup as group:
                # The client's task groups wrap what the test raised (a failed assert) in
                # two exception groups; give the test its own exception back.
                if failure is not None and _leaves(group) == [failure]:
                    raise failure from None
                raise
        finally:
            await assembly.stop()
    finally:
        # The registry is this server's own, but unregistering keeps the plugins from
        # outliving the test through it, as in-process plugin tests should.
        for name in named:
            assembly.registry.unregister(name)
