"""The Prometheus endpoint: the OpenTelemetry metrics and the process figures, as text.

One set of instruments feeds both ways out: OpenTelemetry's Prometheus reader
(``opentelemetry-exporter-prometheus``) collects the same meter provider that OTLP
exports, into a ``prometheus_client`` registry of this process's own; the library
renders it (text or OpenMetrics, as the scraper asks) and adds the process figures
(CPU seconds, resident memory, open files; on Linux, from ``/proc``).

Names follow OpenTelemetry's Prometheus compatibility rules: dots become
underscores, the unit is appended and counters end in ``_total``
(``plugbay.call.duration`` in seconds is ``plugbay_call_duration_seconds``).

Each process has its own registry: with several workers a scrape is answered by the
worker that took the connection, so scrape each worker (or read the OTLP metrics,
which every worker exports).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]
"""A starlette endpoint: ``async (request) -> response``."""


def prometheus_registry() -> CollectorRegistry:
    """A registry of this process's own, with the process and Python figures in it.

    Not ``prometheus_client.REGISTRY``: what another library registered there globally
    is not ours to publish.
    """
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def prometheus_reader(registry: CollectorRegistry) -> PrometheusMetricReader:
    """The metric reader that puts a meter provider's metrics into ``registry`` at each scrape.

    ``target_info`` carries the resource (``service.name``...) once, rather than as
    labels on every series.
    """
    return PrometheusMetricReader(registry=registry)


def metrics_endpoint(
    registry_of: Callable[[], CollectorRegistry | None],
) -> Endpoint:
    """The ``/metrics`` route: ``registry_of()`` rendered as the scraper asks.

    Args:
        registry_of: Gives the registry to serve; it is asked at each scrape because
            the registry is made when serving starts, after the route is registered.
            ``None`` (telemetry not installed in this process) answers ``503``.
    """

    async def metrics(request: Request) -> Response:
        registry = registry_of()
        if registry is None:
            return PlainTextResponse("telemetry is not running in this process\n", 503)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    return metrics
