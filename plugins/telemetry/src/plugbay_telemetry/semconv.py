"""Names shared by the spans and metrics: the MCP semantic conventions' and ours."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    VERSION = version("plugbay-telemetry")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    VERSION = "0.0.0"

INSTRUMENTATION_NAME = "plugbay"
"""The instrumentation scope of every span and metric (``otel_scope_name`` in Prometheus)."""
DURATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
"""Bucket boundaries the MCP conventions give for operation durations, in seconds."""
OTHER = "_OTHER"
"""Stands in for names the catalog does not know, to keep metric cardinality bounded."""
SESSION_HEADER = "mcp-session-id"


def session_id(http_request: Any) -> str | None:
    """The MCP session of an HTTP request: its header, or the legacy SSE query parameter."""
    if http_request is None:
        return None
    value = http_request.headers.get(SESSION_HEADER)
    if value is None:
        value = http_request.query_params.get("session_id")
    return str(value) if value is not None else None
