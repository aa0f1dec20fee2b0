"""``plugbay clients``: add plugbay to Claude Desktop, Claude Code, Cursor and VS Code.

A desktop client starts its servers itself, in ``/``, with a PATH that holds no virtual
environment, so the entry written names this installation's ``plugbay`` and the
configuration file by their absolute paths. The files are edited as client_files.py says:
other servers untouched, a backup first, and a file that cannot be parsed left as it is.

``PLUGBAY_CLIENTS_HOME`` replaces the home folder (and ``APPDATA``/``XDG_CONFIG_HOME``
under it), so tests and trials never touch the real clients' files.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import click

from plugbay.client_configs import (
    CLIENTS,
    GENERIC,
    Client,
    Scope,
    config_file,
    parse_env,
    server_entry,
)
from plugbay.client_files import (
    ClientFile,
    ClientFileError,
    read_client_file,
    servers_in,
    write_client_file,
)
from plugbay.config import find_config_file

HOME_ENV = "PLUGBAY_CLIENTS_HOME"
"""Replaces the home folder for ``plugbay clients`` (tests, trials)."""


def plugbay_command() -> list[str]:
    """The absolute command that runs this installation's plugbay.

    The script beside this interpreter (a virtual environment's, pipx's, uv tool's), else
    the user scheme's scripts folder, else ``python -m plugbay`` with this interpreter.
    ``shutil.which`` is not asked: the first ``plugbay`` on PATH may be another installation.
    """
    name = "plugbay.exe" if sys.platform == "win32" else "plugbay"
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    folders.append(Path(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user"))))
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            # abspath, not resolve: a venv's python is a link out of the venv.
            return [os.path.abspath(candidate)]
    return [os.path.abspath(sys.executable), "-m", "plugbay"]


def _home() -> tuple[str, Mapping[str, str]]:
    override = os.environ.get(HOME_ENV)
    if override:
        return os.path.abspath(override), {}
    return str(Path.home()), os.environ


def _target(client: Client, scope: str | None, project: Path | None, file: Path | None) -> Path:
    if file is not None:
        return Path(os.path.abspath(file))
    chosen: Scope = (
        client.scopes[0] if scope is None else "project" if scope == "project" else "user"
    )
    home, environ = _home()
    try:
        path = config_file(
            client,
            chosen,
            platform=sys.platform,
            home=home,
            project=os.path.abspath(project or Path.cwd()),
            environ=environ,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    return Path(path)


def _absolute_config(given: Path | None) -> str:
    found = find_config_file(given)
    if found is None:
        raise click.UsageError(
            "name the configuration with --config PATH (there is no ./plugbay.toml here)"
        )
    path = os.path.abspath(found.expanduser())
    if not os.path.isfile(path):
        click.echo(
            f"warning: {path} does not exist yet; the client's start fails until it does", err=True
        )
    return path


def _refuse(error: ClientFileError, client: Client, name: str, entry: dict[str, Any]) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    click.echo("Nothing was changed. To add the entry by hand, put under", err=True)
    click.echo(f'"{client.key}":', err=True)
    click.echo(json.dumps({name: entry}, indent=2), err=True)
    raise SystemExit(1)


def _runs_plugbay(name: str, entry: object, wanted: str) -> bool:
    if name == wanted:
        return True
    if not isinstance(entry, dict):
        return False
    command = str(entry.get("command", ""))
    args = entry.get("args")
    by_module = isinstance(args, list) and args[:2] == ["-m", "plugbay"]
    return Path(command.replace("\\", "/")).stem == "plugbay" or by_module


scope_option = click.option(
    "--scope",
    type=click.Choice(["user", "project"]),
    default=None,
    help="user: every project (the default); project: the --project folder's own file.",
)
project_option = click.option(
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The project folder for --scope project (default: the current folder).",
)
file_option = click.option(
    "--file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Edit this file instead of the client's usual one (another profile, an Insiders build).",
)
name_option = click.option(
    "--name", default="plugbay", show_default=True, help="The server's name in the client."
)


@click.group("clients", short_help="Add plugbay to desktop MCP clients.")
def clients_group() -> None:
    """Add plugbay to desktop MCP clients' files.

    The clients: claude-desktop, claude-code, cursor, vscode.

    Example: plugbay clients add claude-desktop --config ~/plugbay/plugbay.toml
    """


@clients_group.command("list", short_help="Show each client's file and its servers.")
@name_option
@project_option
def clients_list(name: str, project: Path | None) -> None:
    """Show each client's file and the servers in it that run plugbay.

    Example: plugbay clients list
    """
    rows = [("CLIENT", "SCOPE", "PLUGBAY ENTRIES", "FILE")]
    for client in CLIENTS.values():
        for scope in client.scopes:
            path = _target(client, scope, project, None)
            try:
                file = read_client_file(path)
                servers = servers_in(file, client.key) or {}
            except ClientFileError as error:
                rows.append((client.name, scope, f"unreadable: {error}", str(path)))
                continue
            found = [key for key, entry in servers.items() if _runs_plugbay(key, entry, name)]
            shown = ", ".join(found) or ("-" if file.raw is not None else "- (no file)")
            rows.append((client.name, scope, shown, str(path)))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[3]]))


@clients_group.command("add", short_help="Add plugbay to a client's file.")
@click.argument("client_name", metavar="[CLIENT]", required=False, type=click.Choice(list(CLIENTS)))
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The configuration file, written as an absolute path"
    " (default: $PLUGBAY_CONFIG, else ./plugbay.toml).",
)
@click.option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A variable the client passes to plugbay (repeatable; written in plain text).",
)
@click.option("--print", "print_only", is_flag=True, help="Print the JSON instead of writing it.")
@name_option
@scope_option
@project_option
@file_option
def clients_add(
    client_name: str | None,
    config_path: Path | None,
    env_pairs: tuple[str, ...],
    print_only: bool,
    name: str,
    scope: str | None,
    project: Path | None,
    file: Path | None,
) -> None:
    """Add (or update) the entry that starts plugbay to a client's file.

    Other servers and settings stay as they are; the file is backed up first, and one that
    is not plain JSON is left untouched (exit 1, with the entry to add by hand). Without
    CLIENT, --print prints a generic mcp.json.

    Example: plugbay clients add cursor --config ./plugbay.toml --env ODOO_API_KEY=...
    """
    if client_name is None and not print_only:
        raise click.UsageError(f"name the client ({', '.join(CLIENTS)}) or give --print")
    client = CLIENTS[client_name] if client_name else GENERIC
    try:
        env = parse_env(env_pairs)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    entry = server_entry(client, plugbay_command(), _absolute_config(config_path), env)
    if print_only:
        click.echo(json.dumps({client.key: {name: entry}}, indent=2))
        return
    path = _target(client, scope, project, file)
    try:
        current = read_client_file(path)
        servers = servers_in(current, client.key)
        if servers is not None and servers.get(name) == entry:
            click.echo(f"{name} is already in {client.title}'s {path}; nothing to change")
            return
        if servers is None:
            servers = current.data[client.key] = {}
        servers[name] = entry
        backup = write_client_file(current)
    except ClientFileError as error:
        _refuse(error, client, name, entry)
    _report("added", name, client, path, backup)
    if env:
        click.echo(f"note: {', '.join(env)} are stored in plain text in {path}", err=True)


@clients_group.command("remove", short_help="Remove plugbay from a client's file.")
@click.argument("client_name", metavar="CLIENT", type=click.Choice(list(CLIENTS)))
@name_option
@scope_option
@project_option
@file_option
def clients_remove(
    client_name: str, name: str, scope: str | None, project: Path | None, file: Path | None
) -> None:
    """Remove plugbay's entry from a client's file.

    The file is backed up first; nothing else in it changes.

    Example: plugbay clients remove claude-desktop
    """
    client = CLIENTS[client_name]
    path = _target(client, scope, project, file)
    try:
        current: ClientFile = read_client_file(path)
        servers = servers_in(current, client.key)
        if not servers or name not in servers:
            click.echo(f"{client.title}'s {path} has no server named {name}; nothing to remove")
            return
        del servers[name]
        backup = write_client_file(current)
    except ClientFileError as error:
        click.echo(f"error: {error}", err=True)
        click.echo("Nothing was changed.", err=True)
        raise SystemExit(1) from None
    _report("removed", name, client, path, backup)


def _report(done: str, name: str, client: Client, path: Path, backup: Path | None) -> None:
    click.echo(f"{done} {name} {'to' if done == 'added' else 'from'} {client.title}: {path}")
    if backup is not None:
        click.echo(f"backup of the previous file: {backup}")
    click.echo(f"restart {client.title} (or reload its MCP servers) to apply it")
