"""plugbay-telemetry: OpenTelemetry traces and metrics, trace ids in logs, Prometheus ``/metrics``.

Install it next to ``plugbay`` and add a ``[telemetry]`` table to ``plugbay.toml``::

    [telemetry]
    service_name = "plugbay"
    otlp_endpoint = "http://otel-collector:4318"

Without the table nothing is installed and nothing costs anything per call. This module
imports only the OpenTelemetry API (which the MCP SDK depends on); the SDK and the
exporters are imported when serving starts.
"""

from __future__ import annotations

from plugbay_telemetry.config import TELEMETRY_OFF, TelemetryConfig
from plugbay_telemetry.plugin import (
    register_config_tables,
    register_lifespan,
    register_message_middleware,
    register_middleware,
    register_routes,
)

__all__ = [
    "TELEMETRY_OFF",
    "TelemetryConfig",
    "register_config_tables",
    "register_lifespan",
    "register_message_middleware",
    "register_middleware",
    "register_routes",
]
