"""What ``plugbay serve`` checks before it serves, and why it would refuse.

- **Strict mode** (``--strict`` or ``[server] strict = true``): a plugin that failed to
  load, an instance with an unknown or invalid setting, one that is not configured, or
  one whose ``start()`` fails stops the server, every problem listed. The default is
  lenient: the rest serves and failed starts are retried (see :mod:`plugbay.retrying`).
- **Exposure**: HTTP on an address other than loopback with no authentication backend
  is refused unless ``--allow-unauthenticated`` (``[server] allow_unauthenticated``).
- **The port**: it is bound here, before any connector starts, so a port in use is one
  line naming it, not uvicorn's error after "Application startup complete".
- **Workers with in-memory limits**: each worker counts on its own, so the warning says
  how to share them.
"""

from __future__ import annotations

import errno
import socket
from typing import NoReturn

import anyio
import click

from plugbay.assembly import Assembly
from plugbay.network import is_loopback
from plugbay.redaction import redact_text

strict_option = click.option(
    "--strict",
    is_flag=True,
    default=None,
    help="Refuse to start on an unknown setting, an unconfigured instance or a failed start.",
)
allow_unauthenticated_option = click.option(
    "--allow-unauthenticated",
    is_flag=True,
    default=None,
    help="Serve a non-loopback --host with no authentication (a proxy or network guards it).",
)


class StartupRefused(Exception):
    """``plugbay serve`` will not start; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def strict_problems(assembly: Assembly) -> list[str]:
    """What strict mode refuses before anything starts: failed plugins, unusable instances."""
    problems = [
        f"plugin {info.name} failed: {error}"
        for info in assembly.registry.plugins.values()
        if info.status == "failed"
        for error in info.errors
    ]
    for state in assembly.instances.values():
        if state.status not in ("configured", "ready"):
            reason = redact_text("; ".join(state.problems))
            problems.append(f"{state.name} ({state.connector}) {state.status}: {reason}")
    return problems


def start_failures(assembly: Assembly) -> list[str]:
    """Start every configured instance, stop them again, and say which failed to start.

    Strict mode runs this before serving; the instances are started again, as usual,
    by the transport.
    """

    async def attempt() -> list[str]:
        await assembly.start()
        try:
            return [
                f"{state.name} ({state.connector}) failed: "
                + redact_text("; ".join(state.problems))
                for state in assembly.instances.values()
                if state.status == "failed"
            ]
        finally:
            await assembly.stop()

    return anyio.run(attempt)


def exposure_problem(assembly: Assembly, host: str, *, allowed: bool = False) -> str | None:
    """Why serving HTTP on ``host`` is refused, or ``None``.

    A loopback address is reachable from this machine only; anything else is reachable
    from a network, where a server with no authentication would let anyone call every
    tool. ``allowed`` (``--allow-unauthenticated`` or ``[server] allow_unauthenticated``)
    accepts it, for a network that is private or a proxy in front that authenticates.
    """
    if allowed or is_loopback(host) or assembly.auth_backends:
        return None
    return (
        f"refusing to serve on {host} without authentication: anyone who can reach it could "
        "call every tool. Configure an [auth] backend (see docs/hosting.md), serve on "
        "127.0.0.1, or pass --allow-unauthenticated ([server] allow_unauthenticated = true) "
        "if the network or a proxy in front already authenticates"
    )


def port_in_use(port: int) -> str:
    """The line that says ``port`` is taken."""
    return f"port {port} is already in use: stop what listens there or choose another with --port"


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` the way uvicorn would, for uvicorn to serve on.

    Raises:
        StartupRefused: The port is in use, or the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a restarted server may bind while old connections are in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupRefused([port_in_use(port)]) from None
        raise StartupRefused([f"cannot listen on {host}:{port}: {error.strerror}"]) from None
    sock.set_inheritable(True)
    return sock


def check_port(host: str, port: int) -> None:
    """Fail early, with :func:`port_in_use`, when ``host:port`` cannot be bound.

    For ``--workers``, where uvicorn binds the shared socket itself: the probe is
    closed before uvicorn binds (it never listens), so nothing is bound twice.

    Raises:
        StartupRefused: The port is in use, or the address cannot be bound.
    """
    bind_socket(host, port).close()


def preflight(
    assembly: Assembly,
    *,
    host: str | None,
    port: int,
    workers: int = 1,
    strict: bool = False,
    allow_unauthenticated: bool = False,
) -> socket.socket | None:
    """Every check ``plugbay serve`` makes before serving, in the order a person fixes them.

    Args:
        assembly: What will be served; under ``strict`` its instances are started and
            stopped again (assemble afresh to serve).
        host: The HTTP address, or ``None`` for stdio.
        port: The HTTP port.
        workers: HTTP worker processes.
        strict: Refuse on any plugin or instance problem, and on a failed start.
        allow_unauthenticated: Serve a non-loopback address with no authentication.

    Returns:
        For one HTTP process, the socket bound to ``host:port`` to serve on; else ``None``.

    Raises:
        StartupRefused: With every problem found; the port is bound only when there is none.
    """
    problems = []
    if host is not None and (
        exposed := exposure_problem(assembly, host, allowed=allow_unauthenticated)
    ):
        problems.append(exposed)
    if strict:
        problems.extend([*strict_problems(assembly), *start_failures(assembly)])
    if problems:
        raise StartupRefused(problems)
    if host is None:
        return None
    if workers > 1:
        check_port(host, port)
        return None
    return bind_socket(host, port)


def checked_start(
    assembly: Assembly,
    host: str | None,
    port: int,
    workers: int,
    strict: bool,
    allow_unauthenticated: bool,
) -> socket.socket | None:
    """:func:`preflight` for ``plugbay serve``: warn of per-worker limits, exit 1 on a refusal."""
    try:
        sock = preflight(
            assembly,
            host=host,
            port=port,
            workers=workers,
            strict=strict,
            allow_unauthenticated=allow_unauthenticated,
        )
    except StartupRefused as refused:
        _refuse(refused, strict=strict)
    return sock


def _refuse(refused: StartupRefused, *, strict: bool) -> NoReturn:
    if strict:
        click.echo("error: refusing to serve (--strict):", err=True)
    for problem in refused.problems:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(1) from None
