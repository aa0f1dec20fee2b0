"""The host's own behaviour, registered through the same hooks as any plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from plugboard.errors import ToolError
from plugboard.hookspecs import hookimpl
from plugboard.middleware import Call, CallNext, Middleware


async def enforce_timeout(call: Call, call_next: CallNext) -> Any:
    """Cancel a call that runs past its timeout and say so in a way the caller can act on."""
    if call.timeout is None:
        return await call_next(call)
    with anyio.move_on_after(call.timeout) as scope:
        return await call_next(call)
    # Only reached when the scope cancelled the call: a return above leaves the function.
    assert scope.cancelled_caught
    raise ToolError(
        f"{call.name} did not finish within {call.timeout:g} seconds and was cancelled; "
        "try a smaller request or raise the timeout"
    )


@hookimpl
def register_middleware(register: Callable[[Middleware], None]) -> None:
    """Per-call timeouts (the tool's own, else ``[server] call_timeout``)."""
    register(enforce_timeout)
