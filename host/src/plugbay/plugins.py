"""Finding and loading plugins, one at a time, so that one broken plugin breaks nothing else."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Literal

import pluggy

from plugbay import hookspecs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "plugbay"
SELECT_ENV = "PLUGBAY_PLUGINS"
"""Comma-separated plugin names: load only these (built-ins always load)."""
BLOCK_ENV = "PLUGBAY_BLOCK_PLUGINS"
"""Comma-separated plugin names: never load these."""

PluginStatus = Literal["loaded", "failed", "blocked", "builtin"]


@dataclass(slots=True)
class PluginInfo:
    """What ``plugbay plugins`` reports about one plugin."""

    name: str
    status: PluginStatus
    version: str | None = None
    distribution: str | None = None
    module: str | None = None
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "name": self.name,
            "status": self.status,
            "version": self.version,
            "distribution": self.distribution,
            "module": self.module,
            "hooks": self.hooks,
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True)
class Registration:
    """One thing a plugin passed to a hook's ``register`` callback."""

    plugin: str
    item: Any
    options: Mapping[str, Any]


def _names(value: str | None) -> set[str]:
    return {name.strip() for name in (value or "").split(",") if name.strip()}


def _describe_error(error: BaseException) -> str:
    """The error's type and message, and where in the plugin it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


class PluginRegistry:
    """The pluggy plugin manager plus a report on every plugin it tried to load."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}

    def register(
        self,
        plugin: ModuleType | object,
        name: str,
        *,
        status: PluginStatus = "loaded",
        version: str | None = None,
        distribution: str | None = None,
    ) -> bool:
        """Register one plugin object or module; on failure record why and return ``False``.

        Misspelled hook implementations (``check_pending``) and hooks with the wrong
        arguments are failures.
        """
        module = getattr(plugin, "__name__", type(plugin).__name__)
        info = PluginInfo(
            name=name, status=status, version=version, distribution=distribution, module=module
        )
        self.plugins[name] = info
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
        except Exception as error:
            if self.manager.is_registered(plugin):
                self.manager.unregister(plugin)
            info.status = "failed"
            info.errors.append(_describe_error(error))
            logger.warning("plugin %s not loaded: %s", name, info.errors[-1])
            return False
        info.hooks = sorted(impl.name for impl in self.manager.get_hookcallers(plugin) or [])
        return True

    def unregister(self, name: str) -> None:
        """Remove a plugin by name (tests register plugins in-process and remove them after)."""
        plugin = self.manager.get_plugin(name)
        if plugin is not None:
            self.manager.unregister(plugin)
        self.plugins.pop(name, None)

    def load_builtins(self) -> None:
        """Register the host's own behaviour, which uses the same hooks as any plugin."""
        from plugbay import builtin

        self.register(builtin, "builtin", status="builtin")

    def load_entry_points(self, environ: Mapping[str, str] | None = None) -> None:
        """Load every installed plugin, honouring the select and block variables."""
        environ = os.environ if environ is None else environ
        selected = _names(environ.get(SELECT_ENV))
        blocked = _names(environ.get(BLOCK_ENV))
        for entry_point in sorted(
            metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
        ):
            name = entry_point.name
            distribution = entry_point.dist.name if entry_point.dist else None
            version = entry_point.dist.version if entry_point.dist else None
            if name in blocked or (selected and name not in selected):
                self.plugins[name] = PluginInfo(
                    name=name,
                    status="blocked",
                    version=version,
                    distribution=distribution,
                    module=entry_point.value,
                )
                continue
            if self.manager.get_plugin(name) is not None:
                continue
            try:
                plugin = entry_point.load()
            except BaseException as error:
                if isinstance(error, KeyboardInterrupt):
                    raise
                self.plugins[name] = PluginInfo(
                    name=name,
                    status="failed",
                    version=version,
                    distribution=distribution,
                    module=entry_point.value,
                    errors=[f"import failed: {_describe_error(error)}"],
                )
                logger.warning("plugin %s failed to import: %s", name, error)
                continue
            self.register(plugin, name, version=version, distribution=distribution)

    def collect(self, hook_name: str, **context: Any) -> Iterator[Registration]:
        """Call one registration hook on each plugin in turn and yield what they register.

        A plugin whose hook raises is marked failed and contributes nothing from that
        hook; the other plugins are not affected. ``context`` holds the hook's other
        arguments (``config``); each implementation gets those it asks for.
        """
        hook = getattr(self.manager.hook, hook_name)
        for implementation in hook.get_hookimpls():
            plugin = implementation.plugin_name
            collected: list[Registration] = []

            def register(
                item: Any,
                /,
                _plugin: str = plugin,
                _collected: list[Registration] = collected,
                **options: Any,
            ) -> None:
                _collected.append(Registration(_plugin, item, options))

            # pluggy lets an implementation leave out arguments it does not use.
            offered = {"register": register, **context}
            arguments = {name: offered[name] for name in implementation.argnames if name in offered}
            try:
                implementation.function(**arguments)
            except Exception as error:
                self.fail(plugin, f"{hook_name}: {_describe_error(error)}")
                continue
            yield from collected

    def fail(self, plugin: str, message: str) -> None:
        """Record that ``plugin`` failed at assembly; it keeps running what it already added."""
        info = self.plugins.setdefault(plugin, PluginInfo(name=plugin, status="loaded"))
        if info.status != "builtin":
            info.status = "failed"
        info.errors.append(message)
        logger.warning("plugin %s: %s", plugin, message)


def load_plugins(
    environ: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, object] | None = None,
    entry_points: bool = True,
) -> PluginRegistry:
    """Build a registry with the built-ins, the installed plugins and any ``extra`` ones.

    Args:
        environ: Used for the select and block variables; defaults to ``os.environ``.
        extra: Plugins to register in-process, by name (tests use this).
        entry_points: Whether to load installed plugins at all.

    Returns:
        The registry, with a report for every plugin.
    """
    registry = PluginRegistry()
    registry.load_builtins()
    if entry_points:
        registry.load_entry_points(environ)
    for name, plugin in (extra or {}).items():
        registry.register(plugin, name)
    return registry
