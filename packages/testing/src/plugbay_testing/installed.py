"""Check a connector's plugin as installed: found by its entry point and loaded as the host does.

Testing the connector class alone misses the plugin around it: a misspelled hook
(``register_connector``) or a hook function without ``@hookimpl`` leaves a plugin that
loads and serves nothing. :func:`check_installed_plugin` finds the entry point in the
``plugbay`` group, loads it with the host's own :class:`~plugbay.plugins.PluginRegistry`
(which runs pluggy's ``check_pending``), and asserts that it registers the connector.
"""

from __future__ import annotations

import difflib
from importlib import metadata
from typing import Any

from plugbay import Connector, hookspecs
from plugbay.config import parse_config
from plugbay.plugins import ENTRY_POINT_GROUP, SELECT_ENV, PluginRegistry
from plugbay_testing.checks import raise_problems

HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("register_"))
"""The hooks a plugin can implement."""
_INSTALL_HINT = (
    'declare it in pyproject.toml ([project.entry-points.plugbay] NAME = "your_package") '
    "and install the project (pip install -e .)"
)


def _top_package(dotted: str) -> str:
    return dotted.split(":", 1)[0].split(".", 1)[0]


def _registered_by(entry_point: metadata.EntryPoint, connector: type[Connector[Any]]) -> bool:
    """Whether the plugin behind ``entry_point`` loads and registers ``connector``."""
    registry = _load(entry_point.name)
    return any(item is connector for item in _connectors(registry))


def find_entry_point(
    connector: type[Connector[Any]], name: str | None = None
) -> metadata.EntryPoint:
    """The installed ``plugbay`` entry point of ``connector``'s plugin.

    Args:
        connector: The connector class under test.
        name: The entry point's name; by default, the one entry point whose module is in
            the connector's top-level package (if several are, the one that registers it).

    Raises:
        AssertionError: No such entry point is installed, or the choice is ambiguous.
    """
    __tracebackhide__ = True
    installed = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    known = sorted(entry_point.name for entry_point in installed)
    if name is not None:
        named = [entry_point for entry_point in installed if entry_point.name == name]
        if not named:
            raise AssertionError(
                f"no plugin is installed under the entry point {name!r} in the group "
                f"{ENTRY_POINT_GROUP!r} (installed: {known}): {_INSTALL_HINT}"
            )
        return named[0]
    package = _top_package(connector.__module__)
    candidates = [ep for ep in installed if _top_package(ep.value) == package]
    if len(candidates) > 1:
        candidates = [ep for ep in candidates if _registered_by(ep, connector)] or candidates
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise AssertionError(
            f"no installed entry point in the group {ENTRY_POINT_GROUP!r} points into the "
            f"package {package!r} of {connector.__qualname__} (installed: {known}): "
            f'{_INSTALL_HINT}; or name it with the class attribute entry_point = "NAME"'
        )
    names = sorted(ep.name for ep in candidates)
    raise AssertionError(
        f"several entry points point into the package {package!r}: {names}; name the one "
        'under test with the class attribute entry_point = "NAME"'
    )


def _load(name: str) -> PluginRegistry:
    """Load only the plugin ``name`` from its entry point, as ``plugbay serve`` would."""
    registry = PluginRegistry()
    registry.load_entry_points({SELECT_ENV: name})
    return registry


def _connectors(registry: PluginRegistry) -> list[Any]:
    config = parse_config({}, environ={})
    return [item.item for item in registry.collect("register_connectors", config=config)]


def _unmarked_hooks(plugin: object) -> list[str]:
    """Attributes named like a hook that pluggy did not take as one (no ``@hookimpl``)."""
    return [name for name in HOOKS if callable(getattr(plugin, name, None))]


def _misspelled_hooks(registry: PluginRegistry, plugin: object) -> list[str]:
    """``@hookimpl`` functions whose name is no hook, each with the closest hook name."""
    hints = []
    for attribute in dir(plugin):
        options = registry.manager.parse_hookimpl_opts(plugin, attribute)
        if options is None:
            continue
        hook = options.get("specname") or attribute
        if hook not in HOOKS:
            close = difflib.get_close_matches(hook, HOOKS, n=1)
            suggestion = f": did you mean {close[0]}?" if close else f"; the hooks are {HOOKS}"
            hints.append(f"{hook} is not a plugbay hook{suggestion}")
    return hints


def check_installed_plugin(connector: type[Connector[Any]], name: str | None = None) -> str:
    """Assert that the installed plugin loads cleanly and registers ``connector``.

    Args:
        connector: The connector class under test.
        name: The entry point's name; see :func:`find_entry_point`.

    Returns:
        The entry point's name.

    Raises:
        AssertionError: Listing what is wrong and what to change.
    """
    __tracebackhide__ = True
    entry_point = find_entry_point(connector, name)
    where = f"the plugin {entry_point.name!r} ({entry_point.value})"
    registry = _load(entry_point.name)
    info = registry.plugins[entry_point.name]
    problems = list(info.errors)
    plugin = registry.manager.get_plugin(entry_point.name)
    imported = not any(error.startswith("import failed") for error in info.errors)
    if plugin is None and imported:  # registration refused it: say which hook name is wrong
        problems.extend(_misspelled_hooks(registry, entry_point.load()))
    raise_problems(f"{where} does not load as the host loads it", problems)
    registered = _connectors(registry)
    problems = list(registry.plugins[entry_point.name].errors)
    if not any(item is connector for item in registered):
        unmarked = _unmarked_hooks(plugin)
        others = [getattr(item, "__qualname__", repr(item)) for item in registered]
        problems.append(
            f"it does not register {connector.__qualname__}"
            + (f" (it registers {others})" if others else "")
            + (
                f": {', '.join(unmarked)} is not marked @plugbay.hookimpl"
                if unmarked
                else ": implement register_connectors(register) with @plugbay.hookimpl and "
                f"call register({connector.__qualname__})"
            )
        )
    raise_problems(f"{where} does not serve {connector.__qualname__}", problems)
    return entry_point.name
