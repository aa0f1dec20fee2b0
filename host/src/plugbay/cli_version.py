"""``plugbay --version``: plugbay's version, each installed plugin's, the MCP SDK's and Python's.

Read from the installed distributions' metadata only: no plugin is imported, so the
report is fast and a plugin that cannot load is still listed. A distribution whose
metadata cannot be read is listed with the error.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import click

from plugbay.cli_install import canonical_name

GROUP = "plugbay"
"""The entry-point group plugins register in."""


@dataclass(frozen=True)
class PluginDistribution:
    """One installed distribution that provides plugbay plugins.

    Attributes:
        name: Its distribution name, or ``<unnamed in FOLDER>`` when that is unreadable.
        version: Its version; ``None`` when its metadata has none.
        entry_points: The names of its plugins (entry points in the ``plugbay`` group).
        error: Why its metadata could not be read, if it could not.
    """

    name: str
    version: str | None
    entry_points: tuple[str, ...] = ()
    error: str | None = None


def _unnamed(distribution: metadata.Distribution) -> str:
    # Distribution has no public path of its own; locate_file("") is the folder it is in.
    return f"<unnamed in {distribution.locate_file('')}>"


def _describe(distribution: metadata.Distribution) -> PluginDistribution | None:
    """What one distribution provides, or ``None`` when it provides no plugin."""
    try:
        raw_name: str | None = distribution.metadata["Name"]
        version = distribution.version or None
        missing = [
            field for field, value in (("Name", raw_name), ("Version", version)) if not value
        ]
        name = raw_name or _unnamed(distribution)
        problem = f"metadata has no {' or '.join(missing)}" if missing else None
    except Exception as error:
        name, version = _unnamed(distribution), None
        problem = f"metadata unreadable: {type(error).__name__}: {error}"
    try:
        names = tuple(
            sorted(point.name for point in distribution.entry_points if point.group == GROUP)
        )
    except Exception as error:
        # Whether it holds plugins cannot be told: list it, since a plugin may be hidden here.
        problem = f"entry points unreadable: {type(error).__name__}: {error}"
        return PluginDistribution(name=name, version=version, error=problem)
    if not names:
        return None
    return PluginDistribution(name=name, version=version, entry_points=names, error=problem)


def plugin_distributions() -> list[PluginDistribution]:
    """Every installed distribution with entry points in the ``plugbay`` group, by name.

    A distribution found twice on ``sys.path`` is listed once, as Python imports it: the
    first one found.
    """
    found: dict[str, PluginDistribution] = {}
    unnamed: list[PluginDistribution] = []
    for distribution in metadata.distributions():
        described = _describe(distribution)
        if described is None:
            continue
        if described.name.startswith("<unnamed in "):
            unnamed.append(described)
        else:
            found.setdefault(canonical_name(described.name), described)
    return sorted(found.values(), key=lambda item: item.name.lower()) + unnamed


def _version_of(name: str) -> str:
    try:
        return metadata.version(name) or "unknown"
    except metadata.PackageNotFoundError:
        return "not installed"
    except Exception as error:
        return f"unreadable ({type(error).__name__}: {error})"


def version_report() -> str:
    """The text ``plugbay --version`` prints."""
    lines = [f"plugbay {_version_of('plugbay')}"]
    plugins = plugin_distributions()
    lines.append("plugins:" if plugins else "plugins: none installed")
    for plugin in plugins:
        line = f"  {plugin.name} {plugin.version or '?'}"
        if plugin.entry_points:
            line += f" ({', '.join(plugin.entry_points)})"
        if plugin.error:
            line += f"  error: {plugin.error}"
        lines.append(line)
    lines.append(f"mcp {_version_of('mcp')}")
    lines.append(
        f"Python {platform.python_version()} ({platform.python_implementation()}) "
        f"at {sys.executable}"
    )
    return "\n".join(lines)


def _print_version(context: click.Context, _param: click.Parameter, value: Any) -> None:
    if not value or context.resilient_parsing:
        return
    click.echo(version_report())
    context.exit()


version_option = click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the versions of plugbay, its plugins, the MCP SDK and Python, and exit.",
)
"""The ``--version`` option of the ``plugbay`` group."""
