"""What ``plugbay tools``, ``resources``, ``prompts`` and ``call`` see: what ``serve`` offers.

``serve`` withdraws the components of an instance that fails to start, so the listing
commands start every instance too (and stop them again) rather than list what was
merely configured, and they name each instance that failed, with its reason. The
reasons are cleaned of secrets (see :mod:`plugbay.redaction`): a backend's error may
quote a URL with its password.
"""

from __future__ import annotations

import anyio
import click

from plugbay.assembly import Assembly
from plugbay.catalog import Catalog
from plugbay.cli_common import table
from plugbay.instances import InstanceState
from plugbay.redaction import redact_text


def served_catalog(assembly: Assembly) -> Catalog:
    """Start every instance, take the catalog clients would be offered, stop them all."""

    async def live() -> Catalog:
        await assembly.start()
        try:
            return assembly.catalog
        finally:
            await assembly.stop()

    return anyio.run(live)


def failed_instances(assembly: Assembly) -> list[InstanceState]:
    """The instances that failed (to be created, assembled or started), in order."""
    return [state for state in assembly.instances.values() if state.status == "failed"]


def failure_reason(state: InstanceState) -> str:
    """Why a failed instance does not serve, without secrets."""
    return redact_text("; ".join(state.problems) or "failed")


def echo_failures(assembly: Assembly, *, as_json: bool) -> None:
    """Name each failed instance and its reason: after the listing, or on stderr for JSON.

    JSON output stays the list of definitions it always was, so the failures go to
    standard error there.
    """
    failed = failed_instances(assembly)
    if not failed:
        return
    if as_json:
        for state in failed:
            click.echo(
                f"warning: instance {state.name!r} did not start ({failure_reason(state)}); "
                "its tools, resources and prompts are not listed",
                err=True,
            )
        return
    click.echo("\nfailed instances (their components are not listed):")
    rows = [(state.name, state.connector, f"failed: {failure_reason(state)}") for state in failed]
    for line in table(rows, ("INSTANCE", "CONNECTOR", "REASON")):
        click.echo(line)


def unknown_tool_reason(assembly: Assembly, tool_name: str) -> str | None:
    """Why ``tool_name`` is missing when it belongs to an instance that failed, else ``None``."""
    for state in failed_instances(assembly):
        declared = assembly.declared.get(state.name)
        if declared is not None and tool_name in declared.tools:
            return (
                f"tool {tool_name!r} belongs to instance {state.name!r}, which failed: "
                f"{failure_reason(state)}"
            )
    return None
