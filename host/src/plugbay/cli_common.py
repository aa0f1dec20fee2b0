"""What the ``plugbay`` commands share: options, assembling the server, errors, suggestions."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from plugbay.assembly import Assembly, assemble
from plugbay.config import load_config
from plugbay.errors import ConfigError
from plugbay.fail_closed import SecurityHookFailed, refuse_if_insecure
from plugbay.logs import echo_lines
from plugbay.plugins import BLOCK_ENV, SELECT_ENV, PluginRegistry, load_plugins
from plugbay.redaction import keep_secrets_out_of_logs

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: $PLUGBAY_CONFIG, else ./plugbay.toml if present).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def assemble_from(
    config_path: Path | None, *, exit_code: int = 2, server: Mapping[str, Any] | None = None
) -> Assembly:
    """Read the configuration, load the plugins and assemble the server (nothing started).

    A configuration that cannot be read or is refused (a table no plugin claims, or one
    its model refuses) ends the command with ``exit_code``, every problem on its own
    line. ``server`` overrides ``[server]`` values (``serve --workers 2``), so plugins
    see what will be served.
    """
    _, assembly, refused = assemble_for_listing(config_path, exit_code=exit_code, server=server)
    if assembly is None:
        exit_with(ConfigError(refused), code=exit_code)
    return assembly


def assemble_for_listing(
    config_path: Path | None, *, exit_code: int = 2, server: Mapping[str, Any] | None = None
) -> tuple[PluginRegistry, Assembly | None, list[str]]:
    """The plugins, and the assembly unless the configuration is refused (with why).

    For ``plugbay plugins``, which must still show every plugin and its errors when a
    table is refused because its plugin failed: that is where the operator is sent to
    find out why. A file that cannot be read at all ends the command (``exit_code``).
    """
    try:
        config = load_config(config_path)
    except ConfigError as error:
        exit_with(error, code=exit_code)
    if server:
        config = dataclasses.replace(config, server=config.server.model_copy(update=dict(server)))
    registry = load_plugins(config.environ)
    try:
        assembly = assemble(registry, config)
    except ConfigError as error:
        return registry, None, error.problems
    keep_secrets_out_of_logs(assembly)
    return registry, assembly, []


def exit_with(error: ConfigError, *, code: int = 2) -> NoReturn:
    """Print each of ``error``'s problems as ``error: ...`` on stderr and exit with ``code``."""
    for problem in error.problems:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(code) from None


def selection_warnings(registry: PluginRegistry, environ: Mapping[str, str]) -> list[str]:
    """A warning for each plugin the selection variables name that is not installed.

    ``PLUGBAY_PLUGINS=fileystem`` would otherwise load nothing and say nothing.
    """
    known = list(registry.plugins)
    warnings = []
    for variable in (SELECT_ENV, BLOCK_ENV):
        for name in (part.strip() for part in environ.get(variable, "").split(",")):
            if name and name not in known:
                warnings.append(
                    f"warning: {variable} names {name!r}, which is not an installed plugin"
                    f"{did_you_mean(name, known)}"
                )
    return warnings


def report_plugins(assembly: Assembly) -> None:
    """Warn on stderr of each plugin that failed to load or register, or is misnamed."""
    lines = selection_warnings(assembly.registry, assembly.config.environ)
    # Instances are reported by the start-up banner (plugbay.banner), once they started.
    lines.extend(
        f"warning: plugin {info.name} failed: {error}"
        for info in assembly.registry.plugins.values()
        if info.status == "failed"
        for error in info.errors
    )
    echo_lines(lines)


def refuse_if_broken(assembly: Assembly) -> None:
    """Exit 2, saying which plugin and why, when a security plugin is broken or missing."""
    try:
        refuse_if_insecure(assembly.registry)
    except SecurityHookFailed as error:
        click.echo("error: refusing to serve: a security plugin is broken or missing", err=True)
        exit_with(ConfigError(error.problems))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the names closest to ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(match) for match in close) + "?"


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> list[str]:
    """Rows as aligned columns under ``headers``; the last column is not padded."""
    every = [headers, *rows]
    widths = [max(len(row[column]) for row in every) for column in range(len(headers) - 1)]
    lines = []
    for row in every:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines
