"""Exceptions that plugins raise and that the host reports."""

from __future__ import annotations

import logging
import uuid
from typing import Literal

logger = logging.getLogger("plugbay")


class ToolError(Exception):
    """A failure the caller should see and can act on.

    Raise it from a tool, resource or prompt (or from middleware) with a message
    written for a person: what went wrong and what to do about it. The host turns it
    into a tool result with ``isError`` set (or a JSON-RPC error for resources and
    prompts). Any other exception is logged and reported to the caller without its
    traceback.
    """


class CallCancelled(Exception):
    """Raised by :meth:`Context.raise_if_cancelled` once a call was cancelled or timed out.

    The caller has had its answer already, so the message goes nowhere; raising it
    only ends the tool's work. It is not a :class:`ToolError`, so an ``except
    ToolError`` that reports one item's failure and goes on does not swallow it.
    """


Outcome = Literal["denied", "rate_limited", "busy"]
"""Why a call was refused: not allowed, over a rate limit, or no capacity left."""


class CallRefused(ToolError):
    """A call the server refused before running it; raise it from middleware.

    The caller sees the message, as with any :class:`ToolError`; the audit log
    records ``outcome`` instead of a plain ``error``.

    Args:
        message: What happened and what to do about it; names no secret.
        outcome: Why the call was refused.
        retry_after: Seconds after which the same call may succeed, when known.
    """

    def __init__(self, message: str, *, outcome: Outcome, retry_after: float | None = None):
        super().__init__(message)
        self.outcome: Outcome = outcome
        self.retry_after = retry_after


class AssemblyError(Exception):
    """The installed plugins cannot be assembled into one server.

    Raised for problems that are the author's, such as two tools with one name or a
    name that clients would reject. The message names the plugin and the name.
    """


class ConfigError(Exception):
    """The configuration has problems; ``problems`` lists every one with its location."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def log_unexpected(what: str, error: BaseException) -> str:
    """Log an unexpected failure with its traceback under a fresh reference; return it.

    The caller sends the reference instead of the error's text, which may hold secrets.
    """
    reference = uuid.uuid4().hex[:12]
    logger.error("%s failed (reference %s)", what, reference, exc_info=error)
    return reference


def internal_error_text(reference: str) -> str:
    """What a caller is told about a failure inside the server itself (not a component's)."""
    return f"Internal error; the server log has the details under reference {reference}"


def unexpected_failure_text(name: str, error: BaseException, reference: str) -> str:
    """What a caller is told about an unexpected failure of ``name``."""
    return (
        f"{name} failed unexpectedly ({type(error).__name__}); "
        f"the server log has the details under reference {reference}"
    )
