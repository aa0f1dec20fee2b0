"""The lines ``plugbay serve`` writes to standard error once its instances have started.

Where the MCP endpoint is (or that it is stdio), each instance with its tool count, and
each instance that does not serve on one line with its reason. With no configuration
file every installed connector is tried; those that lack settings are folded into one
line that names them and ``plugbay init``, rather than a warning each.

Reasons are cleaned of secrets (see :mod:`plugbay.redaction`): a backend's error may
quote a URL with its password.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from plugbay.assembly import Assembly
from plugbay.logs import echo_lines
from plugbay.redaction import redact_text


def endpoint_url(host: str, port: int, path: str) -> str:
    """The URL a client on this machine or network would use: ``http://host:port/path``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


def banner_lines(
    assembly: Assembly, where: str, *, started: bool = True, note: Sequence[str] = ()
) -> list[str]:
    """The banner: ``where`` (a URL or ``stdio``) first, then a line per instance.

    Args:
        assembly: The assembly being served.
        where: What a client connects to.
        started: Whether the instances have been started; if not (the parent of
            ``--workers``, whose workers each start their own), ready counts are the
            tools each instance declares.
        note: Lines to show right after the first (``serve --demo`` says it is a demo).
    """
    lines = [
        f"plugbay: serving MCP at {where}"
        if where != "stdio"
        else "plugbay: serving MCP over stdio",
        *note,
    ]
    counts = Counter(entry.owner.instance for entry in assembly.catalog.tools.values())
    unconfigured: list[str] = []
    default = assembly.config.instances is None
    for state in assembly.instances.values():
        label = f"{state.name} ({state.connector})"
        reason = redact_text("; ".join(state.problems))
        if state.status == "ready" or (not started and state.status == "configured"):
            count = counts.get(state.name, 0)
            lines.append(f"plugbay: {label}: {count} tool{'' if count == 1 else 's'}")
        elif state.status == "not configured" and default:
            unconfigured.append(state.name)
        elif state.status == "not configured":
            lines.append(f"warning: {label} not configured: {reason}")
        else:
            retried = " (retried in the background)" if state.obj is not None else ""
            lines.append(f"warning: {label} {state.status}: {reason}{retried}")
    if unconfigured:
        lines.append(
            f"plugbay: not configured: {', '.join(unconfigured)} "
            "(run `plugbay init` to write a plugbay.toml for them)"
        )
    return lines


def echo_banner(
    assembly: Assembly, where: str, *, started: bool = True, note: Sequence[str] = ()
) -> None:
    """Write :func:`banner_lines` to standard error (see :func:`plugbay.logs.echo_lines`)."""
    # In --log-format json, as log records: stderr then holds JSON only.
    echo_lines(banner_lines(assembly, where, started=started, note=note), "plugbay.banner")
