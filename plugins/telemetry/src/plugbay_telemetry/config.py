"""The ``[telemetry]`` table of ``plugbay.toml``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

TABLE = "telemetry"
"""The top-level table this plugin claims."""


class TelemetryConfig(BaseModel):
    """OpenTelemetry traces, metrics, trace ids in logs and the Prometheus endpoint.

    Telemetry is on when the ``[telemetry]`` table exists (unless ``enabled = false``)
    and off, at no cost per call, when it does not.

    Attributes:
        enabled: Switch telemetry off without deleting the table.
        service_name: The ``service.name`` resource attribute.
        otlp_endpoint: The collector's base URL (``http://collector:4318``); the signal
            paths (``/v1/traces``, ``/v1/metrics``) are appended. Without it, the
            standard ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variables are honoured, and with
            neither nothing is exported.
        otlp_protocol: ``http/protobuf`` (built in) or ``grpc`` (needs
            ``opentelemetry-exporter-otlp-proto-grpc``).
        otlp_headers: Headers sent to the collector (vendor API keys); kept secret.
        sample_ratio: The share of new traces to record, 0 to 1. A client's own
            sampling decision (``traceparent`` in ``_meta``) is followed.
        console: Also print spans and metrics to standard error, for debugging.
        metrics: Export metrics (OTLP, console) as well as traces.
        metric_interval: Seconds between metric exports.
        instrument_httpx: Trace outgoing ``httpx`` requests (connectors' backends).
        log_format: ``text`` (trace ids added to each line) or ``json`` (one object
            per line).
        resource_attributes: More resource attributes (``deployment.environment``...).
        prometheus: Serve the metrics in the Prometheus text format over HTTP.
        prometheus_path: Where (``/metrics``).
        prometheus_public: Serve it without authentication (a scraper on a private
            network); by default it is authenticated like the MCP endpoint.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    service_name: str = Field(default="plugbay", min_length=1)
    otlp_endpoint: str | None = None
    otlp_protocol: Literal["http/protobuf", "grpc"] = "http/protobuf"
    otlp_headers: dict[str, SecretStr] = Field(default_factory=dict)
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    console: bool = False
    metrics: bool = True
    metric_interval: float = Field(default=60.0, gt=0)
    instrument_httpx: bool = True
    log_format: Literal["text", "json"] = "text"
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    prometheus: bool = True
    prometheus_path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9._~/-]*$")
    prometheus_public: bool = False

    @field_validator("otlp_endpoint")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


TELEMETRY_OFF = TelemetryConfig(enabled=False)
"""What applies when the configuration has no ``[telemetry]`` table."""
