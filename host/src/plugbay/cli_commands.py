"""Commands that plugins add to ``plugbay`` through the ``register_commands`` hook.

The plugins are loaded only when a command line needs them: to list the commands
(``plugbay --help``) or to run a name that is not a core command. A core command
(``plugbay serve``, ``plugbay uninstall``) never waits for them, and never fails
because of them: a plugin that fails to import is reported and left out, so a broken
plugin can still be uninstalled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import click

from plugbay.cli_common import did_you_mean
from plugbay.plugins import PluginRegistry, load_plugins

logger = logging.getLogger(__name__)

HOOK = "register_commands"
_META_KEY = "plugbay.plugin_commands"


def plugin_commands(
    registry: PluginRegistry, taken: Mapping[str, click.Command]
) -> tuple[dict[str, click.Command], list[str]]:
    """Collect the commands plugins register, leaving out those whose name is taken.

    Args:
        registry: The loaded plugins.
        taken: The core commands, by name.

    Returns:
        The commands to add, by name, and one warning per command left out (each
        names its plugin and why).
    """
    added: dict[str, click.Command] = {}
    owners: dict[str, str] = {}
    warnings: list[str] = []
    for registration in registry.collect(HOOK):
        command, plugin = registration.item, registration.plugin
        if not isinstance(command, click.Command) or not command.name:
            warnings.append(
                f"plugin {plugin}: register_commands registered {command!r}, not a named "
                "click command or group; left out"
            )
            continue
        name = command.name
        if name in taken:
            warnings.append(
                f"plugin {plugin}: command {name!r} left out: plugbay has a command of that name"
            )
        elif name in owners:
            warnings.append(
                f"plugin {plugin}: command {name!r} left out: plugin {owners[name]} "
                "registered it first"
            )
        else:
            added[name] = command
            owners[name] = plugin
    # A hook that raised is reported by the registry (logged, and in `plugbay plugins`).
    return added, warnings


class PluginCommandGroup(click.Group):
    """A click group that adds the commands installed plugins register.

    ``load`` builds the plugin registry (:func:`plugbay.plugins.load_plugins` by
    default); tests give one that registers in-process plugins.
    """

    def __init__(
        self, *args: object, load: Callable[[], PluginRegistry] = load_plugins, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.load_registry = load

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        # Once per command line: the root context's meta lives as long as the invocation.
        meta = ctx.find_root().meta
        if _META_KEY not in meta:
            try:
                registry = self.load_registry()
            except Exception as error:  # the core commands must keep working
                click.echo(f"warning: plugin commands not loaded: {error}", err=True)
                meta[_META_KEY] = {}
                return {}
            added, warnings = plugin_commands(registry, self.commands)
            for warning in warnings:
                click.echo(f"warning: {warning}", err=True)
            meta[_META_KEY] = added
        commands: dict[str, click.Command] = meta[_META_KEY]
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The core commands and the plugins' commands, sorted."""
        return sorted({*self.commands, *self._plugin_commands(ctx)})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but "did you mean" also suggests the plugins' commands."""
        name = args[0] if args else ""
        unknown = name and not name.startswith("-") and self.get_command(ctx, name) is None
        if unknown and not ctx.resilient_parsing:
            suggestion = did_you_mean(name, self.list_commands(ctx))
            raise click.UsageError(f"no such command {name!r}{suggestion}", ctx)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A core command without loading plugins; otherwise a plugin's command, or ``None``."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        return self._plugin_commands(ctx).get(cmd_name)
