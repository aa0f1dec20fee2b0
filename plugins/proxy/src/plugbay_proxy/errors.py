"""How an upstream's failures reach callers: the call error, and a one-line reason."""

from __future__ import annotations

from mcp.shared.exceptions import MCPError

from plugbay import ToolError
from plugbay.redaction import redact_text


class UpstreamUnavailable(ToolError):
    """The upstream cannot take calls now; the message names it and says what happens next."""


def describe_error(error: BaseException) -> str:
    """A one-line reason from an exception, unwrapping exception groups.

    It reaches clients (tool results, ``/readyz``) as well as the log, and HTTP errors
    quote the URL, so credentials in it are taken out (:func:`plugbay.redaction.redact_text`).
    """
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, MCPError):
        return redact_text(f"{error.error.message} (MCP error {error.error.code})")
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return redact_text(f"{name}: {text}") if text else name
