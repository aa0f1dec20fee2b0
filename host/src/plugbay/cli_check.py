"""``plugbay plugins``, ``config check`` and ``check``: what is there, and does it work.

``config check`` reads; it starts nothing and connects nowhere, and says so. ``check``
starts every instance as ``serve`` would (after the plugins' lifespans), asks each for
its health and runs the plugins' readiness checks, then stops them all: it is the
command that tells whether ``serve`` would serve what the file describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import click

from plugbay.assembly import Assembly
from plugbay.cli_common import (
    assemble_for_listing,
    assemble_from,
    config_option,
    json_option,
    selection_warnings,
    table,
)
from plugbay.fail_closed import security_problems
from plugbay.redaction import redact_text
from plugbay.tls import tls_problems

HEALTH_TIMEOUT = 10.0
"""Seconds ``plugbay check`` (and ``plugins --check``) wait for one health or readiness check."""


@click.command(short_help="List plugins, their versions, hooks and status.")
@config_option
@json_option
@click.option(
    "--check",
    is_flag=True,
    help="Start the connector instances, report their health and live state, then stop them.",
)
def plugins(config_path: Path | None, as_json: bool, check: bool) -> None:
    r"""List plugins with their versions, hooks, status and errors, and connector instances.

    \b
    Example:
      plugbay plugins --check
    """
    registry, assembly, refused = assemble_for_listing(config_path)
    if assembly is not None:
        for warning in selection_warnings(registry, assembly.config.environ):
            click.echo(warning, err=True)
    for problem in refused:
        # The plugins are listed all the same: they say why a table's plugin failed.
        click.echo(f"error: the configuration is refused: {problem}", err=True)
    infos = list(registry.plugins.values())
    instances: list[dict[str, Any]] = []
    if assembly is not None:
        instances = (
            anyio.run(_checked_instances, assembly)
            if check
            else [state.as_dict() for state in assembly.instances.values()]
        )
    if as_json:
        document: dict[str, Any] = {
            "plugins": [info.as_dict() for info in infos],
            "instances": instances,
        }
        if refused:
            document["refused"] = refused
        click.echo(json.dumps(document, indent=2))
        return
    rows = [
        (info.name, info.version or "-", info.status, ", ".join(info.hooks) or "-")
        for info in infos
    ]
    header, *lines = table(rows, ("PLUGIN", "VERSION", "STATUS", "HOOKS"))
    click.echo(header)
    for line, info in zip(lines, infos, strict=True):
        click.echo(line)
        for error in info.errors:
            click.echo(f"    error: {error}")
        for warning in info.warnings:
            click.echo(f"    warning: {warning}")
    if not instances:
        click.echo("\nno connector instances")
        return
    states = [(item["name"], item["connector"], item["status"]) for item in instances]
    header, *lines = table(states, ("INSTANCE", "CONNECTOR", "STATUS"))
    click.echo(f"\n{header}")
    for line, instance in zip(lines, instances, strict=True):
        click.echo(line)
        if "health" in instance:
            click.echo(f"    health: {instance['health']}")
        if "state" in instance:
            click.echo(f"    state: {json.dumps(instance['state'])}")
        for problem in instance["problems"]:
            click.echo(f"    {problem}")


async def _health(obj: Any) -> str:
    """``"ok"``, or why the instance's health check failed (without secrets)."""
    try:
        with anyio.fail_after(HEALTH_TIMEOUT):
            await obj.check_health()
    except TimeoutError:
        return f"no answer within {HEALTH_TIMEOUT:g} s"
    except Exception as error:
        return redact_text(f"{type(error).__name__}: {error}")
    return "ok"


async def _checked_instances(assembly: Assembly) -> list[dict[str, Any]]:
    """Start every instance, ask each serving one for its health and state, stop them all."""
    await assembly.start()
    try:
        documents = []
        for state in assembly.instances.values():
            document = state.as_dict()
            if state.status == "ready" and state.obj is not None:
                document["health"] = await _health(state.obj)
            documents.append(document)
        return documents
    finally:
        await assembly.stop()


@click.group("config", short_help="Check the configuration file.")
def config_group() -> None:
    r"""Inspect the configuration.

    \b
    Example:
      plugbay config check
    """


@config_group.command("check", short_help="Check the configuration file; start nothing.")
@config_option
def config_check(config_path: Path | None) -> None:
    r"""Check the configuration and the plugins, without starting or connecting to anything.

    Reads the file, loads the plugins, and validates [server], every [connectors]
    table against its connector's settings and every table a plugin owns. Reports
    every problem at once and exits 1 if there is any. Whether a database answers
    or a key is accepted is for `plugbay check`.

    \b
    Example:
      plugbay config check --config team.toml
    """
    assembly = assemble_from(config_path, exit_code=1)
    problems = list(assembly.problems)
    if assembly.config.instances is None:
        problems.extend(
            f"{state.name} is not configured: {problem}"
            for state in assembly.instances.values()
            if state.status == "not configured"
            for problem in state.problems
        )
    # What would make `plugbay serve` refuse (plugin failures are listed above already).
    secure = security_problems(assembly.registry)
    problems.extend(problem for problem in secure if problem not in problems)
    problems.extend(tls_problems(assembly.config.server))
    source = assembly.config.source
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1)
    ready = [name for name, state in assembly.instances.items() if state.obj is not None]
    loaded = [info.name for info in assembly.registry.plugins.values() if info.status == "loaded"]
    click.echo(f"configuration OK: {source if source else 'no file (the defaults)'}")
    click.echo(f"  plugins loaded: {', '.join(loaded) or 'none'}")
    click.echo(
        f"  connector instances: {len(ready)} ({', '.join(ready) or 'none'}), "
        f"{len(assembly.catalog.tools)} tool(s) declared"
    )
    click.echo(
        "checked: the file's syntax, [server], each instance's settings and the plugins' "
        "tables. Nothing was started and nothing was connected to: run `plugbay check` "
        "to start every instance and see that it works."
    )


@click.command(short_help="Start every instance; report what fails.")
@config_option
@json_option
def check(config_path: Path | None, as_json: bool) -> None:
    r"""Start every connector instance, check its health, report it, then stop it.

    Also runs the readiness checks plugins add. Each instance is ready or failed,
    with the reason; exits 1 if any instance (or check, or plugin) failed. Unlike
    `plugbay config check`, this connects to every backend.

    \b
    Example:
      plugbay check --json
    """
    assembly = assemble_from(config_path, exit_code=1)
    report = anyio.run(_check_report, assembly)
    failed = [row for row in report if row["status"] not in ("ready", "skipped")]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "results": report}, indent=2))
    elif report:
        rows = [(row["name"], row["kind"], row["status"], row["reason"]) for row in report]
        for line in table(rows, ("NAME", "KIND", "STATUS", "REASON")):
            click.echo(line)
    else:
        click.echo("nothing to check: no connector instances and no readiness checks")
    if failed:
        raise SystemExit(1)


def _row(name: str, kind: str, status: str, reason: str = "") -> dict[str, str]:
    return {"name": name, "kind": kind, "status": status, "reason": reason}


async def _check_report(assembly: Assembly) -> list[dict[str, str]]:
    """One row per plugin failure, instance and readiness check, in that order."""
    rows = [
        _row(info.name, "plugin", "failed", redact_text("; ".join(info.errors)))
        for info in assembly.registry.plugins.values()
        if info.status == "failed"
    ]
    # Problems of an instance are on its own row; the rest are the configuration's.
    rows.extend(
        _row("configuration", "config", "failed", problem)
        for problem in assembly.problems
        if not problem.startswith("[connectors.")
    )
    default = assembly.config.instances is None
    try:
        async with assembly.extensions.lifespan():
            await assembly.start()
            try:
                rows.extend(await _instance_rows(assembly, default=default))
                rows.extend(await _readiness_rows(assembly))
            finally:
                await assembly.stop()
    except Exception as error:  # a plugin's lifespan failed: nothing could start
        rows.append(_row("lifespan", "plugin", "failed", redact_text(str(error))))
    return rows


async def _instance_rows(assembly: Assembly, *, default: bool) -> list[dict[str, str]]:
    rows = []
    for state in assembly.instances.values():
        kind = f"instance ({state.connector})"
        reason = redact_text("; ".join(state.problems))
        if state.status == "ready" and state.obj is not None:
            health = await _health(state.obj)
            if health == "ok":
                rows.append(_row(state.name, kind, "ready"))
            else:
                rows.append(_row(state.name, kind, "failed", f"health check: {health}"))
        elif state.status == "not configured" and default:
            # With no configuration file every installed connector is tried: one that
            # lacks settings was not asked for.
            rows.append(_row(state.name, kind, "skipped", f"not configured: {reason}"))
        else:
            rows.append(_row(state.name, kind, "failed", f"{state.status}: {reason}"))
    return rows


async def _readiness_rows(assembly: Assembly) -> list[dict[str, str]]:
    rows = []
    for name, readiness in assembly.extensions.readiness_checks.items():
        try:
            with anyio.fail_after(HEALTH_TIMEOUT):
                await readiness()
        except TimeoutError:
            rows.append(_row(name, "readiness", "failed", f"no answer in {HEALTH_TIMEOUT:g} s"))
        except Exception as error:
            rows.append(
                _row(name, "readiness", "failed", redact_text(f"{type(error).__name__}: {error}"))
            )
        else:
            rows.append(_row(name, "readiness", "ready"))
    return rows
