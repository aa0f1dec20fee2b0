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
from plugbay.errors import ConfigError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "plugbay"
SELECT_ENV = "PLUGBAY_PLUGINS"
"""Comma-separated plugin names: load only these (built-ins always load)."""
BLOCK_ENV = "PLUGBAY_BLOCK_PLUGINS"
"""Comma-separated plugin names: never load these, built-ins included (``builtin``)."""
BUILTIN = "builtin"
"""The name the host's own plugin (:mod:`plugbay.builtin`) is registered and blocked under."""
SECURITY_HOOKS = frozenset(
    {
        "register_auth",
        "register_middleware",
        "register_visibility",
        "register_asgi_wrappers",
        "register_message_middleware",
    }
)
"""Hooks whose failure stops the server instead of being skipped (fail closed).

Authentication backends and ASGI wrappers decide who gets in; middleware (call and
message) is where requests are admitted or refused, and a hook that raised cannot say
whether it was about to register an admitting layer or an observing one, so every
middleware counts; visibility decides what a caller may see.
"""

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
    warnings: list[str] = field(default_factory=list)
    """Problems that do not stop the plugin from loading (it implements no hook)."""

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
            "warnings": self.warnings,
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
        self.config_problems: list[str] = []
        """Configuration problems plugins reported by raising :class:`plugbay.ConfigError`
        from a hook; the assembly refuses the configuration with them."""
        self.security_failures: list[str] = []
        """Failures of security hooks (:data:`SECURITY_HOOKS`), each naming the plugin:
        a server with any of them refuses to serve (:mod:`plugbay.fail_closed`)."""

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
            if hooks := self._security_hooks_of(plugin):
                self.security_failures.append(
                    f"plugin {name!r} implements {', '.join(hooks)} but could not be "
                    f"registered: {info.errors[-1]}"
                )
            return False
        info.hooks = sorted(impl.name for impl in self.manager.get_hookcallers(plugin) or [])
        if not info.hooks:
            # pluggy registers an object without marked functions silently: the usual
            # cause is a hook function without @hookimpl, and the plugin then adds nothing.
            info.warnings.append(
                f"{module} implements no plugbay hook: mark its hook functions with "
                "@plugbay.hookimpl (register_connectors, ...)"
            )
            logger.warning("plugin %s: %s", name, info.warnings[-1])
        return True

    def _security_hooks_of(self, plugin: object) -> list[str]:
        """The security hooks ``plugin`` marks an implementation of (registered or not)."""
        found = set()
        for attribute in dir(plugin):
            options = self.manager.parse_hookimpl_opts(plugin, attribute)
            if options is not None:
                found.add(options.get("specname") or attribute)
        return sorted(found & SECURITY_HOOKS)

    def unregister(self, name: str) -> None:
        """Remove a plugin by name (tests register plugins in-process and remove them after)."""
        plugin = self.manager.get_plugin(name)
        if plugin is not None:
            self.manager.unregister(plugin)
        self.plugins.pop(name, None)

    def load_builtins(self, environ: Mapping[str, str] | None = None) -> None:
        """Register the host's own behaviour, which uses the same hooks as any plugin.

        ``PLUGBAY_BLOCK_PLUGINS=builtin`` leaves it out, as pytest's ``-p no:NAME`` does;
        ``PLUGBAY_PLUGINS`` never does.
        """
        environ = os.environ if environ is None else environ
        if BUILTIN in _names(environ.get(BLOCK_ENV)):
            self.plugins[BUILTIN] = PluginInfo(
                name=BUILTIN, status="blocked", module="plugbay.builtin"
            )
            return
        from plugbay import builtin

        self.register(builtin, BUILTIN, status="builtin")

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

        Implementations are called in pluggy's call order: ``tryfirst`` ones first, then
        the most recently registered plugin before earlier ones, ``trylast`` ones last.
        For middleware, first means outermost.

        A plugin whose hook raises is marked failed and contributes nothing from that
        hook; the other plugins are not affected, but a failure in one of the
        :data:`SECURITY_HOOKS` is also recorded in :attr:`security_failures`.
        ``context`` holds the hook's other arguments (``config``); each implementation
        gets those it asks for.
        """
        hook = getattr(self.manager.hook, hook_name)
        # get_hookimpls() lists them in the reverse of the order pluggy calls them in.
        for implementation in reversed(hook.get_hookimpls()):
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
            except ConfigError as error:
                # The plugin says the configuration is wrong: a configuration problem,
                # which stops the server like any other, not a plugin to skip.
                for problem in error.problems:
                    self.fail(plugin, f"{hook_name}: {problem}")
                    self.config_problems.append(f"plugin {plugin!r}: {problem}")
                continue
            except Exception as error:
                self.fail(
                    plugin,
                    f"{hook_name}: {_describe_error(error)}",
                    security=hook_name in SECURITY_HOOKS,
                )
                continue
            yield from collected

    def fail(self, plugin: str, message: str, *, security: bool = False) -> None:
        """Record that ``plugin`` failed at assembly; it keeps running what it already added.

        Args:
            plugin: The plugin's name.
            message: What failed and why.
            security: Whether the failure is in a security hook, which makes the server
                refuse to serve.
        """
        info = self.plugins.setdefault(plugin, PluginInfo(name=plugin, status="loaded"))
        if info.status != "builtin":
            info.status = "failed"
        info.errors.append(message)
        if security:
            self.security_failures.append(f"plugin {plugin!r}: {message}")
            logger.error("plugin %s failed in a security hook: %s", plugin, message)
        else:
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
    registry.load_builtins(environ)
    if entry_points:
        registry.load_entry_points(environ)
    for name, plugin in (extra or {}).items():
        registry.register(plugin, name)
    return registry
