"""Where each MCP client keeps its server list, and the entry that starts plugbay in it.

The locations are the clients' documented ones (docs/guide.md lists them). They are
computed from a platform name and a home folder passed in, so tests compute the macOS,
Windows and Linux paths on any machine and never touch the real home.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Literal

Scope = Literal["user", "project"]


@dataclass(frozen=True)
class Client:
    """An MCP client whose configuration file ``plugbay clients`` edits.

    Attributes:
        name: The name on the command line (``claude-desktop``).
        title: The name people know it by.
        key: The top-level key that maps server names to their entries.
        scopes: The scopes it has; the first is the default.
        typed: Whether its entries say ``"type": "stdio"``.
    """

    name: str
    title: str
    key: str
    scopes: tuple[Scope, ...]
    typed: bool = False


CLIENTS: dict[str, Client] = {
    client.name: client
    for client in (
        Client("claude-desktop", "Claude Desktop", "mcpServers", ("user",)),
        Client("claude-code", "Claude Code", "mcpServers", ("user", "project"), typed=True),
        Client("cursor", "Cursor", "mcpServers", ("user", "project")),
        Client("vscode", "VS Code", "servers", ("user", "project"), typed=True),
    )
}
"""The clients, by command-line name."""

GENERIC = Client("generic", "a generic mcp.json", "mcpServers", ("user",))
"""The shape most clients read, for ``plugbay clients add --print``."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _pure(platform: str, path: str) -> PurePath:
    return PureWindowsPath(path) if platform == "win32" else PurePosixPath(path)


def _app_data(platform: str, home: PurePath, environ: Mapping[str, str]) -> PurePath:
    """The folder Electron apps (Claude Desktop, VS Code) keep their settings in."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform == "win32":
        appdata = environ.get("APPDATA")
        return _pure(platform, appdata) if appdata else home / "AppData" / "Roaming"
    xdg = environ.get("XDG_CONFIG_HOME")
    return _pure(platform, xdg) if xdg else home / ".config"


def config_file(
    client: Client,
    scope: Scope,
    *,
    platform: str,
    home: str,
    project: str,
    environ: Mapping[str, str],
) -> PurePath:
    """The file a client reads its MCP servers from.

    Args:
        client: The client.
        scope: ``user`` (every project of this user) or ``project`` (one folder).
        platform: A ``sys.platform`` value: ``darwin``, ``win32``, ``linux``...
        home: The user's home folder.
        project: The project folder, for the ``project`` scope.
        environ: The environment (``APPDATA`` on Windows, ``XDG_CONFIG_HOME`` elsewhere).

    Returns:
        The path, Windows-style for ``win32``.

    Raises:
        ValueError: The client has no such scope.
    """
    if scope not in client.scopes:
        raise ValueError(
            f"{client.title} has no {scope} scope (it has: {', '.join(client.scopes)})"
        )
    base = _pure(platform, home)
    if scope == "project":
        folder = _pure(platform, project)
        return {
            "claude-code": folder / ".mcp.json",
            "cursor": folder / ".cursor" / "mcp.json",
            "vscode": folder / ".vscode" / "mcp.json",
        }[client.name]
    app_data = _app_data(platform, base, environ)
    return {
        "claude-desktop": app_data / "Claude" / "claude_desktop_config.json",
        "claude-code": base / ".claude.json",
        "cursor": base / ".cursor" / "mcp.json",
        # The default profile's user configuration ("MCP: Open User Configuration").
        "vscode": app_data / "Code" / "User" / "mcp.json",
    }[client.name]


def server_entry(
    client: Client, command: list[str], config: str, env: Mapping[str, str]
) -> dict[str, object]:
    """The entry that starts plugbay over stdio, in the client's shape.

    Args:
        client: The client the entry is for.
        command: The absolute command that runs plugbay, with its leading arguments.
        config: The absolute path of the configuration file.
        env: Environment variables the client passes to the server.

    Returns:
        The entry, with absolute paths only: a desktop app starts it in ``/`` with a
        PATH that has no virtual environment on it.
    """
    entry: dict[str, object] = {"type": "stdio"} if client.typed else {}
    entry["command"] = command[0]
    entry["args"] = [*command[1:], "serve", "--stdio", "--config", config]
    if env:
        entry["env"] = dict(env)
    return entry


def parse_env(pairs: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` pairs as a mapping.

    Raises:
        ValueError: A pair has no ``=`` or its name is not a variable name.
    """
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        # The value may be a secret: the messages name only the variable.
        if not sep:
            raise ValueError("--env takes NAME=VALUE; one of them has no '='")
        if not _ENV_NAME.fullmatch(name):
            raise ValueError(f"--env takes NAME=VALUE; {name!r} is not a variable name")
        env[name] = value
    return env
