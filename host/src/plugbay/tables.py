"""Top-level tables that plugins own: claimed, validated, and every problem reported at once.

The host reads ``[server]``, ``[connectors]`` and ``[plugins]`` itself. Every other table
of ``plugbay.toml`` belongs to the plugin that claims it through the
``register_config_tables`` hook (``[auth]`` is plugbay-auth's); a table nobody claims is
an error, because a security table that is silently ignored (a misspelled ``[auth]``, or
plugbay-auth not installed) would serve without what the operator asked for.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from plugbay.config import Config, read_table
from plugbay.errors import ConfigError
from plugbay.setting_paths import settings_context

if TYPE_CHECKING:
    from plugbay.plugins import PluginRegistry

TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED = frozenset({"server", "connectors", "plugins"})
KNOWN_OWNERS = {
    "auth": "plugbay-auth",
    "policy": "plugbay-guard",
    "limits": "plugbay-guard",
    "audit": "plugbay-guard",
    "telemetry": "plugbay-telemetry",
    "redis": "plugbay-redis",
    "cache": "plugbay-cache",
    "sync": "plugbay-sync",
}
"""Tables of the project's own plugins, so that an error can say what to install."""


def claimed_tables(registry: PluginRegistry, problems: list[str]) -> dict[str, tuple[str, type]]:
    """Each table a plugin claims, with the plugin and the model, in pluggy's order.

    A second claim of a table, a reserved or malformed name, or something that is not
    a pydantic model class fails the later plugin (it is reported, the others load) and
    adds a problem.
    """
    claims: dict[str, tuple[str, type]] = {}
    for registration in registry.collect("register_config_tables"):
        plugin, model = registration.plugin, registration.item
        name = registration.options.get("table")
        if not isinstance(name, str) or not TABLE_NAME.match(name) or name in RESERVED:
            message = (
                f"register_config_tables: table={name!r} is not a table name a plugin may "
                "claim (lower case letters, digits and '_'; not server, connectors or plugins)"
            )
        elif not (isinstance(model, type) and issubclass(model, BaseModel)):
            message = f"register_config_tables: [{name}]: {model!r} is not a pydantic model class"
        elif name in claims:
            message = f"register_config_tables: [{name}] is already claimed by {claims[name][0]!r}"
        else:
            claims[name] = (plugin, model)
            continue
        registry.fail(plugin, message)
        problems.append(f"plugin {plugin!r}: {message}")
    return claims


def claim_tables(registry: PluginRegistry, config: Config) -> Config:
    """Validate the file's plugin tables with the models their plugins registered.

    Tables already validated (``config.tables``, as tests build them) are kept.

    Returns:
        ``config`` with :attr:`Config.tables` filled in.

    Raises:
        ConfigError: With every problem of every table, each with its location: a
            table no loaded plugin claims (naming the distribution to install when it
            is a known one), a ``[plugins.<name>]`` table of a plugin that is not loaded,
            and each validation error.
    """
    problems: list[str] = plugin_table_problems(registry, config)
    claims = claimed_tables(registry, problems)
    where = str(config.source) if config.source is not None else "configuration"
    # Relative paths in these tables ([audit] output) start from the file's folder.
    context = settings_context(config.source.parent if config.source is not None else None)
    tables: dict[str, Any] = dict(config.tables)
    for name in config.raw_tables:
        if name in tables:
            continue
        if name not in claims:
            problems.append(f"{where}: [{name}] {unclaimed_reason(registry, name)}")
            continue
        value = read_table(
            config.raw_tables, name, claims[name][1], where, config.environ, context, problems
        )
        if value is not None:
            tables[name] = value
    if problems:
        raise ConfigError(problems)
    return dataclasses.replace(config, tables=tables)


def unclaimed_reason(registry: PluginRegistry, name: str) -> str:
    """Why no plugin reads ``[name]``, and what to do about it."""
    owner = KNOWN_OWNERS.get(name)
    if owner is None:
        return "is not a table of plugbay or of any loaded plugin (a misspelling?)"
    for info in registry.plugins.values():
        if info.distribution == owner and info.status in ("failed", "blocked"):
            return f"belongs to {owner}, {_STATES[info.status]}"
    return f"belongs to {owner}, which is not installed: pip install {owner}"


_STATES = {
    "failed": (
        "which failed to load (`plugbay plugins` says why); the server does not run "
        "without what the table configures"
    ),
    "blocked": (
        "which is blocked (PLUGBAY_PLUGINS, PLUGBAY_BLOCK_PLUGINS); the server does not "
        "run without what the table configures: remove the table to serve without it"
    ),
}


def plugin_table_problems(registry: PluginRegistry, config: Config) -> list[str]:
    """A ``[plugins.<name>]`` table whose plugin is not loaded: the same rule as top-level tables.

    Settings for a plugin that is missing, blocked or broken would otherwise be ignored,
    and the server would run without what they configure.
    """
    where = str(config.source) if config.source is not None else "configuration"
    problems = []
    for name in config.plugins:
        info = registry.plugins.get(name)
        if info is None:
            problems.append(
                f"{where}: [plugins.{name}] is for the plugin {name!r}, which is not installed "
                "(`plugbay plugins` lists the installed ones)"
            )
        elif info.status in _STATES:
            problems.append(
                f"{where}: [plugins.{name}] is for the plugin {name!r}, {_STATES[info.status]}"
            )
    return problems
