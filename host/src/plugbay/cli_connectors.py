"""``plugbay connectors``: the installed connectors and the settings each one takes."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import click
from dotenv import dotenv_values

from plugbay.config import Config, find_config_file
from plugbay.connector_settings import ConnectorInfo, SettingInfo, describe_connectors
from plugbay.connectors_doc import render_markdown
from plugbay.plugins import load_plugins

_DEFAULT_WIDTH = 30
"""Longer defaults are cut in the table (``--json`` and the docs give them whole)."""


def installed_connector_infos() -> list[ConnectorInfo]:
    """The connectors of the installed plugins (``PLUGBAY_PLUGINS`` and the block list apply).

    No configuration is read: what is installed does not depend on it, and ``plugbay
    init`` runs before there is one. The ``.env`` file is, as ``serve`` reads it (beside
    the configuration file, else in the working directory), so it selects alike.
    """
    source = find_config_file()
    folder = source.parent if source is not None else Path.cwd()
    dotenv = {k: v for k, v in dotenv_values(folder / ".env").items() if v is not None}
    environ = {**dotenv, **os.environ}
    registry = load_plugins(environ)
    infos = describe_connectors(registry, Config(environ=environ))
    for plugin in registry.plugins.values():
        if plugin.status == "failed":
            for error in plugin.errors:
                click.echo(f"warning: plugin {plugin.name} failed: {error}", err=True)
    return infos


def unknown_connector(name: str, known: Iterable[str]) -> click.UsageError:
    """The error for a connector name nothing provides, with the closest names offered."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    listed = ", ".join(names) or "none (install one: plugbay install plugbay-<name>)"
    return click.UsageError(
        f"no installed connector is called {name!r}{hint} (installed: {listed})"
    )


@click.group("connectors", invoke_without_command=True, short_help="List the installed connectors.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--markdown", is_flag=True, help="Print every connector's settings as a Markdown reference."
)
@click.pass_context
def connectors(ctx: click.Context, as_json: bool, markdown: bool) -> None:
    """List the installed connectors with a one-line description.

    \b
    Examples:
      plugbay connectors
      plugbay connectors show sql
      plugbay connectors --markdown > connectors.md
    """  # noqa: D301 (\b is click's no-rewrap marker)
    if ctx.invoked_subcommand is not None:
        return
    infos = installed_connector_infos()
    if markdown:
        click.echo(render_markdown(infos), nl=False)
        return
    if as_json:
        click.echo(json.dumps([_as_dict(info) for info in infos], indent=2))
        return
    if not infos:
        click.echo("no connectors installed (install one: plugbay install plugbay-<name>)")
        return
    width = max(len("CONNECTOR"), *(len(info.name) for info in infos))
    click.echo(f"{'CONNECTOR':<{width}}  DESCRIPTION")
    for info in infos:
        click.echo(f"{info.name:<{width}}  {info.description}".rstrip())
    click.echo("\nSettings of one: plugbay connectors show NAME")


@connectors.command("show", short_help="Show a connector's settings.")
@click.argument("name")
@click.option(
    "--instance",
    default=None,
    help="Name the environment variables for this instance (default: the connector's name).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(name: str, instance: str | None, as_json: bool) -> None:
    """Print the settings of connector NAME as a table, from its settings model.

    \b
    Example:
      plugbay connectors show odoo --instance erp
    """  # noqa: D301 (\b is click's no-rewrap marker)
    infos = {info.name: info for info in installed_connector_infos()}
    info = infos.get(name)
    if info is None:
        raise unknown_connector(name, infos)
    instance = instance or info.name
    if as_json:
        click.echo(json.dumps(_as_dict(info, instance), indent=2))
        return
    package = f" (plugin {info.plugin}{', ' + info.distribution if info.distribution else ''})"
    click.echo(f"{info.name}{package}: {info.description}")
    if not info.settings:
        click.echo("no settings")
        return
    click.echo(f'settings of [connectors.{instance}] (plugin = "{info.name}"):\n')
    _echo_table(info.settings, instance)


def _echo_table(settings: Sequence[SettingInfo], instance: str) -> None:
    headers = ("SETTING", "TYPE", "DEFAULT", "REQUIRED", "SECRET", "ENVIRONMENT VARIABLE")
    rows = [
        (
            s.name,
            s.type,
            _cut(s.default or "-"),
            "yes" if s.required else "no",
            "yes" if s.secret else "no",
            s.variable(instance),
        )
        for s in settings
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    line_width = max(shutil.get_terminal_size().columns, 60)
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row, setting in zip(rows, settings, strict=True):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        # The description under its row: the columns above are already wide.
        for text in textwrap.wrap(setting.description, width=line_width - 4) or ["-"]:
            click.echo(f"    {text}")


def _cut(text: str) -> str:
    return text if len(text) <= _DEFAULT_WIDTH else text[: _DEFAULT_WIDTH - 3] + "..."


def _as_dict(info: ConnectorInfo, instance: str | None = None) -> dict[str, object]:
    instance = instance or info.name
    return {
        "name": info.name,
        "plugin": info.plugin,
        "distribution": info.distribution,
        "description": info.description,
        "settings": [
            {
                "name": s.name,
                "type": s.type,
                "default": s.default,
                "required": s.required,
                "secret": s.secret,
                "variable": s.variable(instance),
                "description": s.description,
            }
            for s in info.settings
        ],
    }
