"""Installing the OpenTelemetry SDK for this process: providers, exporters, instrumentation.

Imported only when telemetry is configured (the SDK costs start-up time). Providers are
process-wide: the first :func:`install` wins and later calls return what it installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace

from plugbay import ConfigError, __version__
from plugbay_telemetry.config import TelemetryConfig
from plugbay_telemetry.logs import correlate_logs
from plugbay_telemetry.prometheus import prometheus_reader, prometheus_registry

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

logger = logging.getLogger(__name__)

_OTLP_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
_MISSING_SDK = (
    "[telemetry] needs the OpenTelemetry SDK, which is not installed: "
    "pip install --force-reinstall plugbay-telemetry"
)


@dataclass(slots=True)
class InstalledTelemetry:
    """The providers :func:`install` created (``None`` where it kept existing ones).

    ``prometheus`` is the registry ``/metrics`` serves (``None`` when it is off): the
    process figures, and the OpenTelemetry metrics when :func:`install` created the
    meter provider.
    """

    tracer_provider: TracerProvider | None
    meter_provider: MeterProvider | None
    prometheus: CollectorRegistry | None = None

    def flush(self) -> None:
        """Export what is buffered now (at shutdown, before the process exits)."""
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush()
        if self.meter_provider is not None:
            self.meter_provider.force_flush()

    def shutdown(self) -> None:
        """Flush and stop the exporters; a later :func:`install` starts afresh."""
        global _installed
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()
        if _installed is self:
            _installed = None


_installed: InstalledTelemetry | None = None


def installed() -> InstalledTelemetry | None:
    """What :func:`install` set up in this process, if it ran."""
    return _installed


def install(
    settings: TelemetryConfig, *, environ: Mapping[str, str] | None = None
) -> InstalledTelemetry:
    """Set up tracing, metrics, log correlation and ``httpx`` instrumentation once.

    A tracer or meter provider that is already installed globally (by
    ``opentelemetry-instrument``, or by a test) is kept, and the exporters of
    ``settings`` are not added to it.

    Args:
        settings: The ``[telemetry]`` table.
        environ: Where the ``OTEL_EXPORTER_OTLP_*`` variables are looked up
            (default ``os.environ``).

    Returns:
        The providers this call installed.

    Raises:
        ConfigError: When the SDK (or the chosen exporter) is not installed.
    """
    global _installed
    if _installed is not None:
        return _installed
    environ = os.environ if environ is None else environ
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        raise ConfigError([_MISSING_SDK]) from None
    resource = build_resource(settings)
    tracer_provider = None
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        tracer_provider = build_tracer_provider(settings, resource=resource, environ=environ)
        trace.set_tracer_provider(tracer_provider)
    registry = prometheus_registry() if settings.prometheus else None
    meter_provider = None
    if settings.metrics or registry is not None:
        if isinstance(metrics.get_meter_provider(), MeterProvider):
            if registry is not None:
                logger.warning(
                    "[telemetry] prometheus: a meter provider was installed before plugbay's "
                    "(opentelemetry-instrument?); %s shows the process figures only",
                    settings.prometheus_path,
                )
        else:
            meter_provider = build_meter_provider(
                settings, resource=resource, environ=environ, prometheus=registry
            )
            metrics.set_meter_provider(meter_provider)
    correlate_logs(settings.log_format)
    if settings.instrument_httpx:
        _instrument_httpx()
    _installed = InstalledTelemetry(tracer_provider, meter_provider, registry)
    logger.info(
        "telemetry on: service %s, exporting to %s",
        settings.service_name,
        _describe_destination(settings, environ),
    )
    return _installed


def check_installed(settings: TelemetryConfig, environ: Mapping[str, str] | None = None) -> None:
    """Raise :class:`ConfigError` unless the SDK and the exporters ``settings`` need are there.

    Lets the server refuse a configuration at assembly, before it starts workers that
    would fail to install it.
    """
    environ = os.environ if environ is None else environ
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        raise ConfigError([_MISSING_SDK])
    if _exports_otlp(settings, environ):
        package = "grpc" if settings.otlp_protocol == "grpc" else "http"
        try:
            found = importlib.util.find_spec(f"opentelemetry.exporter.otlp.proto.{package}")
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ConfigError(
                [
                    f"[telemetry] otlp_protocol = {settings.otlp_protocol!r} needs "
                    f"opentelemetry-exporter-otlp-proto-{package}"
                ]
            )


def build_resource(settings: TelemetryConfig) -> Resource:
    """The resource every span and metric carries: service name, version, process."""
    from opentelemetry.sdk.resources import Resource

    attributes: dict[str, Any] = {
        "service.version": __version__,
        **settings.resource_attributes,
        "service.name": settings.service_name,
    }
    return Resource.create(attributes)


def _exports_otlp(settings: TelemetryConfig, environ: Mapping[str, str]) -> bool:
    return settings.otlp_endpoint is not None or any(
        environ.get(name) for name in _OTLP_ENDPOINT_VARIABLES
    )


def _describe_destination(settings: TelemetryConfig, environ: Mapping[str, str]) -> str:
    places = []
    if settings.otlp_endpoint is not None:
        places.append(f"{settings.otlp_endpoint} ({settings.otlp_protocol})")
    elif _exports_otlp(settings, environ):
        places.append("the OTEL_EXPORTER_OTLP_* endpoint")
    if settings.console:
        places.append("standard error")
    return ", ".join(places) or "nowhere (no otlp_endpoint; trace ids still reach the logs)"


_SIGNAL_PATHS = {"trace_exporter": "v1/traces", "metric_exporter": "v1/metrics"}


def _otlp_exporter(settings: TelemetryConfig, module: str, name: str) -> Any:
    """The OTLP exporter of one signal, over the configured protocol."""
    package = "grpc" if settings.otlp_protocol == "grpc" else "http"
    try:
        exporter_class = getattr(
            importlib.import_module(f"opentelemetry.exporter.otlp.proto.{package}.{module}"), name
        )
    except ImportError:
        distribution = f"opentelemetry-exporter-otlp-proto-{package}"
        raise ConfigError(
            [f"[telemetry] otlp_protocol = {settings.otlp_protocol!r} needs {distribution}"]
        ) from None
    endpoint = settings.otlp_endpoint
    if endpoint is not None and package == "http":
        endpoint = f"{endpoint}/{_SIGNAL_PATHS[module]}"
    # With no endpoint the exporter reads the OTEL_EXPORTER_OTLP_* variables itself.
    return exporter_class(endpoint=endpoint, headers=_headers(settings))


def _headers(settings: TelemetryConfig) -> dict[str, str] | None:
    if not settings.otlp_headers:
        return None
    return {key: value.get_secret_value() for key, value in settings.otlp_headers.items()}


def build_tracer_provider(
    settings: TelemetryConfig,
    *,
    resource: Resource | None = None,
    environ: Mapping[str, str] | None = None,
) -> TracerProvider:
    """A tracer provider with the sampler and span exporters ``settings`` ask for."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
        SpanExporter,
    )
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    environ = os.environ if environ is None else environ
    provider = TracerProvider(
        resource=resource or build_resource(settings),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if _exports_otlp(settings, environ):
        exporter: SpanExporter = _otlp_exporter(settings, "trace_exporter", "OTLPSpanExporter")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if settings.console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    return provider


def build_meter_provider(
    settings: TelemetryConfig,
    *,
    resource: Resource | None = None,
    environ: Mapping[str, str] | None = None,
    prometheus: CollectorRegistry | None = None,
) -> MeterProvider:
    """A meter provider exporting every ``metric_interval`` seconds where ``settings`` say.

    With ``prometheus``, its metrics are also read into that registry at each scrape
    (OTLP and console export only when ``settings.metrics``).
    """
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        MetricExporter,
        MetricReader,
        PeriodicExportingMetricReader,
    )

    environ = os.environ if environ is None else environ
    interval = settings.metric_interval * 1000
    readers: list[MetricReader] = []
    if prometheus is not None:
        readers.append(prometheus_reader(prometheus))
    if settings.metrics and _exports_otlp(settings, environ):
        exporter: MetricExporter = _otlp_exporter(settings, "metric_exporter", "OTLPMetricExporter")
        readers.append(PeriodicExportingMetricReader(exporter, export_interval_millis=interval))
    if settings.metrics and settings.console:
        readers.append(
            PeriodicExportingMetricReader(
                ConsoleMetricExporter(out=sys.stderr), export_interval_millis=interval
            )
        )
    return MeterProvider(resource=resource or build_resource(settings), metric_readers=readers)


def _instrument_httpx() -> None:
    try:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    except ImportError:
        logger.warning(
            "outgoing HTTP is not traced: opentelemetry-instrumentation-httpx is not installed"
        )
        return
    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
