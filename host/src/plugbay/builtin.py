"""The host's own behaviour, registered through the same hooks as any plugin.

Each piece is on only when its table is configured (``[telemetry]``, ``[auth]``,
``[policy]``, ``[limits]``, ``[audit]``), so a server without them pays nothing for
them per call; see :mod:`plugbay.hosting`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio

from plugbay.auth import AuthBackend
from plugbay.config import Config
from plugbay.errors import ToolError
from plugbay.hookspecs import hookimpl
from plugbay.middleware import TIMED_OUT, Call, CallNext, Middleware

logger = logging.getLogger(__name__)


def may_repeat(call: Call) -> bool:
    """Whether sending ``call`` again after it was cut short can do nothing twice.

    True for tools declared read-only or idempotent. An undeclared hint counts as a
    write that is not idempotent, as the MCP specification's defaults have it.
    """
    annotations = call.annotations
    return bool(annotations.get("read_only")) or bool(annotations.get("idempotent"))


async def enforce_timeout(call: Call, call_next: CallNext) -> Any:
    """Cancel a call that runs past its timeout and say so in a way the caller can act on.

    A tool that writes and is not idempotent may have done its work before the cut
    (or, in a worker thread, may still do it): its error says so, rather than
    inviting a retry that could do it twice.
    """
    if call.timeout is None:
        return await call_next(call)
    with anyio.move_on_after(call.timeout) as scope:
        return await call_next(call)
    # Only reached when the scope cancelled the call: a return above leaves the function.
    assert scope.cancelled_caught
    call.state[TIMED_OUT] = True
    cut = f"{call.name} did not finish within {call.timeout:g} seconds and was cancelled"
    if call.kind == "tool" and not may_repeat(call):
        raise ToolError(
            f"{cut}. Its outcome is unknown: it may have made its changes before it was "
            "cancelled (or may still make them), so check whether it did before calling "
            "it again, so as not to do it twice."
        )
    raise ToolError(f"{cut}; try a smaller request or raise the timeout")


@hookimpl(tryfirst=True)
def register_middleware(register: Callable[[Middleware], None], config: Config) -> None:
    """Telemetry, the hosting middleware (see :func:`hosting_middleware`), per-call timeouts.

    ``tryfirst``, so these wrap other plugins' middleware: a plugin's layer runs only
    for calls the policy and limits admitted, and inside the timeout. Telemetry (when
    ``[telemetry]`` is on) comes first, outermost, so that it sees every outcome; the
    timeout is the tool's own, else the connector instance's ``call_timeout``, else
    ``[server] call_timeout``.
    """
    if config.telemetry.enabled:
        from plugbay.telemetry.middleware import CallTelemetry

        register(CallTelemetry())
    for layer in hosting_middleware(config):
        register(layer)
    register(enforce_timeout)


def hosting_middleware(config: Config) -> list[Middleware]:
    """The audit log, policy, rate limits and concurrency cap, in this order.

    The audit log is outermost so it records every refusal; the policy refuses before
    a call counts against a rate; the concurrency cap holds a slot only for calls
    that will run; the timeout (registered last) times the call alone.
    """
    layers: list[Middleware] = []
    if config.audit.enabled:
        from plugbay.hosting.audit import AuditLog

        layers.append(AuditLog(config.audit))
    if config.policy.enabled:
        from plugbay.hosting.policy import Policy

        layers.append(Policy(config.policy))
    if config.limits.rate_limited:
        from plugbay.hosting.rate_limits import RateLimits

        if config.limits.storage == "memory" and config.server.workers > 1:
            logger.warning(
                "[limits] storage is 'memory': each of the %d workers counts on its own; "
                "set it to a redis:// URL to share the limits",
                config.server.workers,
            )
        layers.append(RateLimits(config.limits))
    if config.limits.max_concurrent_calls is not None:
        from plugbay.hosting.concurrency import ConcurrencyCap

        layers.append(
            ConcurrencyCap(config.limits.max_concurrent_calls, config.limits.queue_timeout)
        )
    return layers


@hookimpl(tryfirst=True)
def register_auth(register: Callable[[AuthBackend], None], config: Config) -> None:
    """The ``[auth]`` backends: JWT bearer tokens, API keys, token introspection.

    ``tryfirst``, so they are asked before other plugins' backends.
    """
    from plugbay.hosting.authentication import auth_backends

    for backend in auth_backends(config.auth):
        register(backend)
