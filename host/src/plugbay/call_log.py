"""One INFO line per tool call, resource read and prompt get: the call log.

The line names what was called, the instance, the principal, how long it took and
the outcome; never the arguments (they may hold personal data or secrets) nor the
result. It is an ``observe`` middleware, outermost, so refusals by the policy or a
rate limit are logged too, with their outcome (``denied``, ``rate_limited``, ``busy``).

Outcomes: ``ok``, ``tool_error`` (the tool answered with an error), ``timeout``,
``denied``, ``rate_limited``, ``busy``, ``cancelled``, ``error`` (anything else).

With INFO off (``--log-level warning``) a call costs one ``isEnabledFor`` check.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio

from plugbay.errors import CallRefused, ToolError
from plugbay.logs import FIELDS
from plugbay.middleware import TIMED_OUT, Call, CallNext

logger = logging.getLogger("plugbay.calls")


def _outcome(call: Call, error: BaseException) -> str:
    if isinstance(error, CallRefused):
        return error.outcome
    if isinstance(error, ToolError):
        return "timeout" if call.state.get(TIMED_OUT) else "tool_error"
    if isinstance(error, anyio.get_cancelled_exc_class()):
        return "cancelled"
    return "error"


async def log_call(call: Call, call_next: CallNext) -> Any:
    """Run ``call`` and log one line about it; see the module's docstring."""
    if not logger.isEnabledFor(logging.INFO):
        return await call_next(call)
    started = time.perf_counter()
    outcome = "ok"
    try:
        result = await call_next(call)
    except BaseException as error:
        outcome = _outcome(call, error)
        raise
    else:
        if getattr(result, "is_error", False):  # a tool result with isError set
            outcome = "timeout" if call.state.get(TIMED_OUT) else "tool_error"
        return result
    finally:
        milliseconds = (time.perf_counter() - started) * 1000
        logger.info(
            "%s %s instance=%s principal=%s %.1fms %s",
            call.kind,
            call.name,
            call.instance or "-",
            call.principal.name,
            milliseconds,
            outcome,
            extra={
                FIELDS: {
                    "kind": call.kind,
                    "name": call.name,
                    "instance": call.instance,
                    "principal": call.principal.name,
                    "duration_ms": round(milliseconds, 1),
                    "outcome": outcome,
                }
            },
        )
