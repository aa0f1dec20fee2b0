"""OpenTelemetry for plugbay: spans and metrics for MCP requests and calls, trace ids in logs.

Configured by the ``[telemetry]`` table; see ``docs/operations.md``. This package
imports only the OpenTelemetry API (which the MCP SDK depends on); the SDK and the
exporters are imported when :func:`plugbay.telemetry.setup.install` runs.
"""

from plugbay.telemetry.config import TELEMETRY_OFF, TelemetryConfig

__all__ = ["TELEMETRY_OFF", "TelemetryConfig"]
