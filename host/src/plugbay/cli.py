"""The ``plugbay`` command line."""

from __future__ import annotations

import json
import logging
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import click
import mcp_types as types

from plugbay.assembly import Assembly, assemble
from plugbay.banner import echo_banner, endpoint_url
from plugbay.catalog import Catalog
from plugbay.cli_clients import clients_group
from plugbay.cli_connectors import connectors
from plugbay.cli_init import init
from plugbay.cli_install import install, uninstall
from plugbay.cli_new import new
from plugbay.cli_served import echo_failures, served_catalog, unknown_tool_reason
from plugbay.cli_version import version_option
from plugbay.config import load_config
from plugbay.errors import ConfigError
from plugbay.fail_closed import SecurityHookFailed, refuse_if_insecure, security_problems
from plugbay.middleware import Call
from plugbay.plugins import load_plugins
from plugbay.redaction import install_log_redaction, keep_secrets_out_of_logs
from plugbay.startup import allow_unauthenticated_option, checked_start, strict_option
from plugbay.tls import checked_tls, tls_option, tls_problems, tls_url

if TYPE_CHECKING:
    from plugbay.telemetry.setup import InstalledTelemetry

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: $PLUGBAY_CONFIG, else ./plugbay.toml if present).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
HEALTH_TIMEOUT = 10.0
"""Seconds ``plugbay plugins --check`` waits for one instance's health check."""


def _setup_logging(verbose: bool) -> None:
    # Always standard error: on stdio, standard output belongs to the protocol.
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_redaction()


def _assemble(config_path: Path | None) -> Assembly:
    try:
        config = load_config(config_path)
    except ConfigError as error:
        _exit_with(error)
    registry = load_plugins(config.environ)
    assembly = assemble(registry, config)
    keep_secrets_out_of_logs(assembly)
    return assembly


def _report_plugins(assembly: Assembly) -> None:
    # Instances are reported by the start-up banner (plugbay.banner), once they started.
    for info in assembly.registry.plugins.values():
        if info.status == "failed":
            for error in info.errors:
                click.echo(f"warning: plugin {info.name} failed: {error}", err=True)


@click.group()
@version_option
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """One MCP server assembled from the plugbay plugins you have installed."""
    _setup_logging(verbose)


@cli.command()
@config_option
@click.option("--stdio", is_flag=True, help="Serve one client over standard input/output.")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option(
    "--stateless/--stateful", default=None, help="Stateless HTTP: no sessions, any worker."
)
@click.option(
    "--json-response/--sse-response", default=None, help="Answer POSTs with JSON, not SSE."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="HTTP worker processes (default [server] workers, else 1); more than one is stateless.",
)
@strict_option
@allow_unauthenticated_option
@tls_option
def serve(
    config_path: Path | None,
    stdio: bool,
    host: str | None,
    port: int | None,
    stateless: bool | None,
    json_response: bool | None,
    workers: int | None,
    strict: bool | None,
    allow_unauthenticated: bool | None,
) -> None:
    """Serve the assembled MCP server (HTTP at http://127.0.0.1:8000/mcp by default)."""
    assembly = _assemble(config_path)
    _report_plugins(assembly)
    _refuse_if_insecure(assembly)
    settings = assembly.config.server
    workers = settings.workers if workers is None else workers
    host = host or settings.host
    port = settings.port if port is None else port
    if stdio and workers > 1:
        raise click.UsageError("--workers applies to HTTP; stdio serves one client")
    if workers > 1 and stateless is False:
        raise click.UsageError(
            "several workers cannot share stateful sessions: drop --stateful or use one worker"
        )
    strict = settings.strict if strict is None else strict
    allowed = settings.allow_unauthenticated if allow_unauthenticated is None else True
    ssl = checked_tls(settings, stdio=stdio)  # before the port is bound
    sock = checked_start(assembly, None if stdio else host, port, workers, strict, allowed)
    if strict:
        assembly = _assemble(config_path)  # the strict check started and stopped its instances
    if workers > 1:
        from plugbay.transports import run_http_workers

        _check_telemetry(assembly)
        echo_banner(assembly, tls_url(endpoint_url(host, port, settings.path), ssl), started=False)
        run_http_workers(
            assembly,
            host=host,
            port=port,
            workers=workers,
            json_response=json_response,
            ssl=ssl,
        )
        return
    telemetry = _install_telemetry(assembly)
    try:
        if stdio:
            from plugbay.transports import serve_stdio

            anyio.run(serve_stdio, assembly, partial(echo_banner, where="stdio"))
            return
        from plugbay.transports import run_http

        assert sock is not None
        url = tls_url(endpoint_url(host, sock.getsockname()[1], settings.path), ssl)
        run_http(
            assembly,
            host=host,
            port=port,
            sock=sock,
            on_started=partial(echo_banner, where=url),
            stateless=stateless,
            json_response=json_response,
            ssl=ssl,
        )
    finally:
        if telemetry is not None:
            telemetry.shutdown()


def _install_telemetry(assembly: Assembly) -> InstalledTelemetry | None:
    settings = assembly.config.telemetry
    if not settings.enabled:
        return None
    from plugbay.telemetry.setup import install

    try:
        return install(settings, environ=assembly.config.environ)
    except ConfigError as error:
        _exit_with(error)


def _check_telemetry(assembly: Assembly) -> None:
    """Refuse, before any worker starts, a telemetry setup the workers could not install."""
    settings = assembly.config.telemetry
    if not settings.enabled:
        return
    from plugbay.telemetry.setup import check_installed

    try:
        check_installed(settings, assembly.config.environ)
    except ConfigError as error:
        _exit_with(error)


def _refuse_if_insecure(assembly: Assembly) -> None:
    """Exit 2, saying which plugin and why, when a security plugin is broken or missing."""
    try:
        refuse_if_insecure(assembly.registry, assembly.config, assembly.auth_backends)
    except SecurityHookFailed as error:
        click.echo("error: refusing to serve: a security plugin is broken or missing", err=True)
        _exit_with(ConfigError(error.problems))


def _exit_with(error: ConfigError) -> NoReturn:
    for problem in error.problems:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(2) from None


@cli.command()
@config_option
@json_option
@click.option(
    "--check",
    is_flag=True,
    help="Start the connector instances, report their health and live state, then stop them.",
)
def plugins(config_path: Path | None, as_json: bool, check: bool) -> None:
    """List plugins with their versions, hooks, status and errors, and connector instances."""
    assembly = _assemble(config_path)
    infos = list(assembly.registry.plugins.values())
    instances = (
        anyio.run(_checked_instances, assembly)
        if check
        else [state.as_dict() for state in assembly.instances.values()]
    )
    if as_json:
        document = {"plugins": [info.as_dict() for info in infos], "instances": instances}
        click.echo(json.dumps(document, indent=2))
        return
    for info in infos:
        version = info.version or "-"
        click.echo(f"{info.name:<20} {version:<10} {info.status:<8} {', '.join(info.hooks)}")
        for error in info.errors:
            click.echo(f"    error: {error}")
        for warning in info.warnings:
            click.echo(f"    warning: {warning}")
    if instances:
        click.echo("\nconnector instances:")
    for instance in instances:
        click.echo(f"{instance['name']:<20} {instance['connector']:<15} {instance['status']}")
        if "health" in instance:
            click.echo(f"    health: {instance['health']}")
        if "state" in instance:
            click.echo(f"    state: {json.dumps(instance['state'])}")
        for problem in instance["problems"]:
            click.echo(f"    {problem}")


async def _checked_instances(assembly: Assembly) -> list[dict[str, Any]]:
    """Start every instance, ask each serving one for its health and state, stop them all."""
    await assembly.start()
    try:
        documents = []
        for state in assembly.instances.values():
            document = state.as_dict()
            if state.status == "ready" and state.obj is not None:
                try:
                    with anyio.fail_after(HEALTH_TIMEOUT):
                        await state.obj.check_health()
                    document["health"] = "ok"
                except Exception as error:
                    document["health"] = f"{type(error).__name__}: {error}"
            documents.append(document)
        return documents
    finally:
        await assembly.stop()


def _served_catalog(assembly: Assembly, as_json: bool) -> Catalog:
    """What clients would be offered; the failed instances are named after the listing.

    Every instance is started for the listing and stopped again, as ``serve`` would
    start it (see :mod:`plugbay.cli_served`).
    """
    catalog = served_catalog(assembly)
    click.get_current_context().call_on_close(partial(echo_failures, assembly, as_json=as_json))
    return catalog


def _dump(models: list[Any]) -> list[dict[str, Any]]:
    return [model.model_dump(mode="json", by_alias=True, exclude_none=True) for model in models]


@cli.command()
@config_option
@json_option
def tools(config_path: Path | None, as_json: bool) -> None:
    """List the tools the assembled server exposes."""
    catalog = _served_catalog(_assemble(config_path), as_json)
    definitions = [entry.definition for entry in catalog.tools.values()]
    if as_json:
        click.echo(json.dumps(_dump(definitions), indent=2))
        return
    for tool in definitions:
        summary = (tool.description or "").split("\n", 1)[0]
        click.echo(f"{tool.name:<40} {summary}")


@cli.command()
@config_option
@json_option
def resources(config_path: Path | None, as_json: bool) -> None:
    """List the resources and resource templates the assembled server exposes."""
    catalog = _served_catalog(_assemble(config_path), as_json)
    definitions = [entry.definition for entry in catalog.resources.values()]
    definitions += [entry.definition for entry in catalog.templates]
    if as_json:
        click.echo(json.dumps(_dump(definitions), indent=2))
        return
    for item in definitions:
        uri = item.uri if isinstance(item, types.Resource) else item.uri_template
        click.echo(f"{uri:<50} {item.description or ''}".rstrip())


@cli.command()
@config_option
@json_option
def prompts(config_path: Path | None, as_json: bool) -> None:
    """List the prompts the assembled server exposes."""
    catalog = _served_catalog(_assemble(config_path), as_json)
    definitions = [entry.definition for entry in catalog.prompts.values()]
    if as_json:
        click.echo(json.dumps(_dump(definitions), indent=2))
        return
    for item in definitions:
        click.echo(f"{item.name:<40} {(item.description or '').split(chr(10), 1)[0]}")


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


@cli.command()
@config_option
@click.argument("tool_name")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--args", "json_arguments", default=None, help="All arguments as one JSON object.")
def call(
    config_path: Path | None, tool_name: str, pairs: tuple[str, ...], json_arguments: str | None
) -> None:
    """Call one tool in-process and print its result.

    Values that parse as JSON are passed as JSON, the rest as strings.
    """
    arguments = _parse_arguments(pairs, json_arguments)
    assembly = _assemble(config_path)
    # In-process, but through the same middleware as a served call: fail closed alike.
    _refuse_if_insecure(assembly)

    async def run() -> types.CallToolResult:
        await assembly.start()
        try:
            entry = assembly.catalog.tools.get(tool_name)
            if entry is None:
                known = ", ".join(sorted(assembly.catalog.tools)) or "none"
                if (reason := unknown_tool_reason(assembly, tool_name)) is not None:
                    raise click.UsageError(reason)
                raise click.UsageError(f"unknown tool {tool_name!r}; the tools are: {known}")
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


@cli.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@config_option
def config_check(config_path: Path | None) -> None:
    """Report every configuration and plugin problem at once; exit 1 if there is any."""
    assembly = _assemble(config_path)
    problems = list(assembly.problems)
    for state in assembly.instances.values():
        if state.status == "not configured" and assembly.config.instances is None:
            problems.extend(
                f"{state.name} is not configured: {problem}" for problem in state.problems
            )
    # What would make `plugbay serve` refuse (plugin failures are listed above already).
    secure = security_problems(assembly.registry, assembly.config, assembly.auth_backends)
    problems.extend(problem for problem in secure if problem not in problems)
    problems.extend(tls_problems(assembly.config.server))
    if not problems:
        ready = [name for name, state in assembly.instances.items() if state.obj is not None]
        click.echo(
            f"configuration OK: {len(ready)} connector instance(s) ({', '.join(ready) or 'none'}), "
            f"{len(assembly.catalog.tools)} tool(s)"
        )
        return
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(1)


@cli.group("keys")
def keys_group() -> None:
    """Make API keys for [[auth.api_keys]] and hash existing ones."""


@keys_group.command("new")
@click.option("--name", default="my-client", show_default=True, help="Who will hold the key.")
@click.option("--scope", "scopes", multiple=True, help="A scope the key grants (repeatable).")
@click.option("--role", "roles", multiple=True, help="A role the key's holder has (repeatable).")
def keys_new(name: str, scopes: tuple[str, ...], roles: tuple[str, ...]) -> None:
    """Print a new random API key and the [[auth.api_keys]] entry that accepts it.

    Give the key to its holder once; keep only the entry (which holds its hash) in
    plugbay.toml. The key cannot be recovered from the hash.
    """
    from plugbay.hosting.api_keys import hash_api_key, new_api_key

    key = new_api_key()
    click.echo(f"key:  {key}", err=True)
    click.echo("      (shown once: hand it to its holder; plugbay keeps only the hash)", err=True)
    click.echo("[[auth.api_keys]]")
    click.echo(f"name = {json.dumps(name)}")
    click.echo(f'hash = "{hash_api_key(key)}"')
    click.echo(f"scopes = {json.dumps(list(scopes))}")
    if roles:
        click.echo(f"roles = {json.dumps(list(roles))}")


@keys_group.command("hash")
def keys_hash() -> None:
    """Print the hash of a key read from standard input (so it stays out of shell history)."""
    from plugbay.hosting.api_keys import hash_api_key

    key = sys.stdin.readline().strip()
    if not key:
        raise click.UsageError("pipe the key on standard input: plugbay keys hash < key.txt")
    click.echo(hash_api_key(key))


cli.add_command(clients_group)
cli.add_command(install)
cli.add_command(uninstall)
cli.add_command(connectors)
cli.add_command(init)
cli.add_command(new)


def main() -> None:
    """Entry point of the ``plugbay`` script."""
    cli()


if __name__ == "__main__":
    main()
