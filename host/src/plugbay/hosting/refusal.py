"""The error hosted middleware raises when it refuses a call, with the reason as a code."""

from __future__ import annotations

from typing import Literal

from plugbay.errors import ToolError

Outcome = Literal["denied", "rate_limited", "busy"]


class CallRefused(ToolError):
    """A call the server refused before running it.

    The caller sees the message, as with any :class:`~plugbay.ToolError`; the audit
    log records ``outcome`` instead of a plain ``error``.

    Args:
        message: What happened and what to do about it; names no secret.
        outcome: Why the call was refused.
        retry_after: Seconds after which the same call may succeed, when known.
    """

    def __init__(self, message: str, *, outcome: Outcome, retry_after: float | None = None):
        super().__init__(message)
        self.outcome: Outcome = outcome
        self.retry_after = retry_after
