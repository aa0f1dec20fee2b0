"""``plugbay tools``, ``resources``, ``prompts`` and ``call``: what clients are offered.

Every instance is started for a listing and stopped again, as ``serve`` would start
it (see :mod:`plugbay.cli_served`): a failed instance is named after the table, with
its reason, and ``call`` says why a tool of a failed instance is missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import click
import mcp_types as types

from plugbay.assembly import Assembly
from plugbay.catalog import Catalog
from plugbay.cli_common import (
    assemble_from,
    config_option,
    did_you_mean,
    json_option,
    refuse_if_broken,
    table,
)
from plugbay.cli_served import echo_failures, served_catalog, unknown_tool_reason
from plugbay.middleware import Call


def _served_catalog(assembly: Assembly, as_json: bool) -> Catalog:
    """What clients would be offered; the failed instances are named after the listing."""
    catalog = served_catalog(assembly)
    click.get_current_context().call_on_close(partial(echo_failures, assembly, as_json=as_json))
    return catalog


def _dump(models: list[Any]) -> list[dict[str, Any]]:
    return [model.model_dump(mode="json", by_alias=True, exclude_none=True) for model in models]


def _summary(description: str | None) -> str:
    return (description or "").split("\n", 1)[0]


def _echo_table(rows: Sequence[Sequence[str]], headers: Sequence[str], empty: str) -> None:
    if not rows:
        click.echo(empty)
        return
    for line in table(rows, headers):
        click.echo(line)


@click.command(short_help="List the tools the server offers.")
@config_option
@json_option
def tools(config_path: Path | None, as_json: bool) -> None:
    r"""List the tools the assembled server exposes, with the first line of each description.

    \b
    Example:
      plugbay tools --config plugbay.toml
    """
    catalog = _served_catalog(assemble_from(config_path), as_json)
    definitions = [entry.definition for entry in catalog.tools.values()]
    if as_json:
        click.echo(json.dumps(_dump(definitions), indent=2))
        return
    rows = [(tool.name, _summary(tool.description)) for tool in definitions]
    _echo_table(rows, ("TOOL", "DESCRIPTION"), "no tools")


@click.command(short_help="List the resources the server offers.")
@config_option
@json_option
def resources(config_path: Path | None, as_json: bool) -> None:
    r"""List the resources and resource templates the assembled server exposes.

    \b
    Example:
      plugbay resources --json
    """
    catalog = _served_catalog(assemble_from(config_path), as_json)
    definitions = [entry.definition for entry in catalog.resources.values()]
    definitions += [entry.definition for entry in catalog.templates]
    if as_json:
        click.echo(json.dumps(_dump(definitions), indent=2))
        return
    rows = [
        (
            item.uri if isinstance(item, types.Resource) else item.uri_template,
            _summary(item.description),
        )
        for item in definitions
    ]
    _echo_table(rows, ("URI", "DESCRIPTION"), "no resources")


@click.command(short_help="List the prompts the server offers.")
@config_option
@json_option
def prompts(config_path: Path | None, as_json: bool) -> None:
    r"""List the prompts the assembled server exposes.

    \b
    Example:
      plugbay prompts
    """
    catalog = _served_catalog(assemble_from(config_path), as_json)
    definitions = [entry.definition for entry in catalog.prompts.values()]
    if as_json:
        click.echo(json.dumps(_dump(definitions), indent=2))
        return
    rows = [(item.name, _summary(item.description)) for item in definitions]
    _echo_table(rows, ("PROMPT", "DESCRIPTION"), "no prompts")


def _parse_arguments(pairs: tuple[str, ...], json_arguments: str | None) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if json_arguments:
        try:
            loaded = json.loads(json_arguments)
        except json.JSONDecodeError as error:
            raise click.BadParameter(f"not JSON: {error}", param_hint="--args") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--args")
        arguments.update(loaded)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="ARGUMENTS")
        try:
            arguments[key] = json.loads(raw)
        except json.JSONDecodeError:
            arguments[key] = raw
    return arguments


def unknown_tool(assembly: Assembly, tool_name: str) -> str:
    """Why ``tool_name`` cannot be called: its instance failed, or no such tool."""
    if (reason := unknown_tool_reason(assembly, tool_name)) is not None:
        return reason
    names = sorted(assembly.catalog.tools)
    if not names:
        return f"unknown tool {tool_name!r}: the server has no tools (see `plugbay check`)"
    return (
        f"unknown tool {tool_name!r}{did_you_mean(tool_name, names)} "
        f"(the tools are: {', '.join(names)})"
    )


@click.command(short_help="Call one tool and print its result.")
@config_option
@click.argument("tool_name")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--args", "json_arguments", default=None, help="All arguments as one JSON object.")
def call(
    config_path: Path | None, tool_name: str, pairs: tuple[str, ...], json_arguments: str | None
) -> None:
    r"""Call one tool in-process and print its result (exit 1 if the tool reports an error).

    Values that parse as JSON are passed as JSON, the rest as strings.

    \b
    Examples:
      plugbay call docs_read_text_file path=README.md
      plugbay call db_query --args '{"sql": "select 1"}'
    """
    arguments = _parse_arguments(pairs, json_arguments)
    assembly = assemble_from(config_path)
    # In-process, but through the same middleware as a served call: fail closed alike.
    refuse_if_broken(assembly)

    async def run() -> types.CallToolResult:
        async with assembly.extensions.lifespan():
            return await run_started()

    async def run_started() -> types.CallToolResult:
        await assembly.start()
        try:
            entry = assembly.catalog.tools.get(tool_name)
            if entry is None:
                raise click.UsageError(unknown_tool(assembly, tool_name))
            call = Call(
                kind="tool",
                name=tool_name,
                arguments=arguments,
                instance=entry.owner.instance,
                plugin=entry.owner.plugin,
                annotations=entry.annotations,
                timeout=entry.timeout,
            )
            return await entry.handle(call)
        finally:
            await assembly.stop()

    result = anyio.run(run)
    if result.structured_content is not None:
        click.echo(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    else:
        for block in result.content:
            if isinstance(block, types.TextContent):
                click.echo(block.text)
            else:
                click.echo(
                    json.dumps(block.model_dump(mode="json", by_alias=True, exclude_none=True))
                )
    if result.is_error:
        raise SystemExit(1)
