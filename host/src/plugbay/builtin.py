"""The host's own behaviour, registered through the same hooks as any plugin.

Only what every server needs is here: the per-call timeout and the one log line per
call (:mod:`plugbay.call_log`). Authentication, access
policy, limits, the audit log, telemetry and the Redis event store are plugins of their
own (plugbay-auth, plugbay-guard, plugbay-telemetry, plugbay-redis) on public hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio

from plugbay.call_log import log_call
from plugbay.errors import ToolError
from plugbay.hookspecs import hookimpl
from plugbay.middleware import TIMED_OUT, Call, CallNext

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
def register_middleware(register: Callable[..., None]) -> None:
    """The call log (``observe``) and the per-call timeout (outermost in ``run``).

    ``tryfirst``, so the log line is the outermost ``observe`` layer (it sees every
    outcome, refusals included) and other plugins' ``run`` middleware runs inside the
    timeout and is timed with the call; ``admit`` layers (policy, limits) are outside
    it, so a call waiting for admission does not use up its time. The timeout is the
    tool's own, else the connector instance's ``call_timeout``, else ``[server]
    call_timeout``.
    """
    register(log_call, stage="observe")  # one INFO line per call (plugbay.call_log)
    register(enforce_timeout, stage="run")
