"""The ``plugbay`` command line: the group, ``serve``, and where every command comes from.

The commands live beside what they do (:mod:`plugbay.cli_listing`,
:mod:`plugbay.cli_check`, :mod:`plugbay.cli_connectors`, ...); plugins add theirs
through the ``register_commands`` hook (:mod:`plugbay.cli_commands`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import anyio
import click

from plugbay.assembly import Assembly, assemble
from plugbay.banner import echo_banner, endpoint_url
from plugbay.cli_check import check, config_group, plugins
from plugbay.cli_clients import clients_group
from plugbay.cli_commands import PluginCommandGroup
from plugbay.cli_common import (
    assemble_from,
    config_option,
    exit_with,
    refuse_if_broken,
    report_plugins,
)
from plugbay.cli_connectors import connectors
from plugbay.cli_init import init
from plugbay.cli_install import install, uninstall
from plugbay.cli_listing import call, prompts, resources, tools
from plugbay.cli_new import new
from plugbay.cli_version import version_option
from plugbay.errors import ConfigError
from plugbay.logs import FORMAT_ENV, LEVEL_ENV, LOG_FORMATS, LOG_LEVELS, setup_logging
from plugbay.plugins import load_plugins
from plugbay.redaction import keep_secrets_out_of_logs
from plugbay.startup import allow_unauthenticated_option, checked_start, strict_option
from plugbay.tls import checked_tls, tls_option, tls_url

# Kept for callers of the names cli.py used to define.
_assemble = assemble_from
_report_plugins = report_plugins


@click.group(
    cls=PluginCommandGroup,
    epilog="Examples: plugbay init; plugbay check; plugbay serve --stdio; plugbay serve --demo",
)
@version_option
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages (--log-level debug).")
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    envvar=LEVEL_ENV,
    default="info",
    show_default=True,
    help=f"The least severe messages logged, to stderr (${LEVEL_ENV}).",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    envvar=FORMAT_ENV,
    default="text",
    show_default=True,
    help=f"Log lines as text, or one JSON object each (${FORMAT_ENV}).",
)
def cli(verbose: bool, log_level: str, log_format: str) -> None:
    """One MCP server assembled from the plugbay plugins you have installed."""
    setup_logging("debug" if verbose else log_level, log_format)  # type: ignore[arg-type]


@cli.command(short_help="Serve the MCP server over HTTP or stdio.")
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
@click.option(
    "--demo",
    is_flag=True,
    help="Serve every installed SaaS connector against its bundled fake, with sample data.",
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
    demo: bool,
    strict: bool | None,
    allow_unauthenticated: bool | None,
) -> None:
    r"""Serve the assembled MCP server (HTTP at http://127.0.0.1:8000/mcp by default).

    --demo needs no account: each SaaS connector that ships a fake (Copper, Odoo)
    runs against it on this machine, and the configuration file's connectors are
    not used.

    \b
    Examples:
      plugbay serve
      plugbay serve --stdio --config ~/plugbay.toml
      plugbay serve --demo
    """
    with contextlib.ExitStack() as stack:
        if demo:
            if config_path is not None:
                raise click.UsageError("--demo serves its own connectors: drop --config")
            if (workers or 1) > 1:
                raise click.UsageError("--demo serves from one process: drop --workers")
            build, note = stack.enter_context(_demo_assembly())
        else:
            # Plugins see --workers as [server] workers (plugbay-guard warns of
            # per-worker rate limits from it).
            served = {"workers": workers} if workers is not None else None
            build, note = partial(assemble_from, config_path, server=served), []
        _serve(
            build,
            note=note,
            stdio=stdio,
            host=host,
            port=port,
            stateless=stateless,
            json_response=json_response,
            workers=workers,
            strict=strict,
            allow_unauthenticated=allow_unauthenticated,
        )


def _serve(
    build: Callable[[], Assembly],
    *,
    note: list[str],
    stdio: bool,
    host: str | None,
    port: int | None,
    stateless: bool | None,
    json_response: bool | None,
    workers: int | None,
    strict: bool | None,
    allow_unauthenticated: bool | None,
) -> None:
    """Serve what ``build`` assembles (called again after a strict check), as ``serve`` says."""
    assembly = build()
    report_plugins(assembly)
    refuse_if_broken(assembly)
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
        assembly = build()  # the strict check started and stopped its instances
    banner = partial(echo_banner, note=note)
    if workers > 1:
        from plugbay.transports import run_http_workers

        banner(assembly, tls_url(endpoint_url(host, port, settings.path), ssl), started=False)
        run_http_workers(
            assembly,
            host=host,
            port=port,
            workers=workers,
            json_response=json_response,
            ssl=ssl,
        )
        return
    if stdio:
        from plugbay.transports import serve_stdio

        anyio.run(serve_stdio, assembly, partial(banner, where="stdio"))
        return
    from plugbay.transports import run_http

    assert sock is not None
    url = tls_url(endpoint_url(host, sock.getsockname()[1], settings.path), ssl)
    run_http(
        assembly,
        host=host,
        port=port,
        sock=sock,
        on_started=partial(banner, where=url),
        stateless=stateless,
        json_response=json_response,
        ssl=ssl,
    )


@contextlib.contextmanager
def _demo_assembly() -> Iterator[tuple[Callable[[], Assembly], list[str]]]:
    """Start every installed connector's demo; yield how to assemble a server of them."""
    from plugbay.demo import (
        banner_note,
        demo_base_config,
        demo_config,
        demo_connectors,
        mark_demo_tools,
        running_demos,
    )

    try:
        base = demo_base_config()
    except ConfigError as error:
        exit_with(error)
    connectors = demo_connectors(load_plugins(base.environ), base)
    with running_demos(connectors) as demos:
        config = demo_config(demos, connectors, base)
        instances = {name: connectors[name].name for name in demos.settings}

        def build() -> Assembly:
            try:
                assembly = assemble(load_plugins(base.environ), config)
            except ConfigError as error:
                exit_with(error)
            keep_secrets_out_of_logs(assembly)
            mark_demo_tools(assembly, instances)
            return assembly

        yield build, banner_note(demos)


cli.add_command(tools)
cli.add_command(resources)
cli.add_command(prompts)
cli.add_command(call)
cli.add_command(plugins)
cli.add_command(check)
cli.add_command(config_group)
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
