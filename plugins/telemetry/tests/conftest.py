"""Fixtures for plugbay-telemetry's tests: in-memory OpenTelemetry, plugins, assemblies."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import plugbay_telemetry
from plugbay import hookimpl
from plugbay.assembly import Assembly
from plugbay_telemetry.logs import install_log_correlation
from plugbay_testing.harness import build_assembly

SPANS = InMemorySpanExporter()
METRICS = InMemoryMetricReader()


@pytest.fixture(scope="session")
def otel() -> type[Otel]:
    """Global SDK providers with in-memory exporters (OpenTelemetry globals are set once).

    Tests that install telemetry themselves (``install``, the lifespan) then find these
    providers in place and keep them, as they would keep ``opentelemetry-instrument``'s.
    """
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    if isinstance(metrics.get_meter_provider(), MeterProvider):
        pytest.fail("a global meter provider was installed before these tests could install theirs")
    metrics.set_meter_provider(MeterProvider(metric_readers=[METRICS]))
    install_log_correlation()
    return Otel


@pytest.fixture
def spans(otel: type[Otel]) -> Iterator[InMemorySpanExporter]:
    """The finished spans of one test."""
    SPANS.clear()
    yield SPANS
    SPANS.clear()


def named_span(
    finished: tuple[ReadableSpan, ...], name: str, kind: SpanKind | None = None
) -> ReadableSpan:
    """The one finished span called ``name`` (of ``kind``, when given)."""
    matching = [s for s in finished if s.name == name and kind in (None, s.kind)]
    assert len(matching) == 1, [span.name for span in finished]
    return matching[0]


def metric_points(name: str, reader: InMemoryMetricReader = METRICS) -> list[Any]:
    """Every data point of the metric ``name`` that ``reader`` collects now."""
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


def metric_point(name: str, reader: InMemoryMetricReader = METRICS, **attributes: Any) -> Any:
    """The one data point of ``name`` whose attributes include ``attributes``."""
    points = metric_points(name, reader)
    found = [p for p in points if all(p.attributes.get(k) == v for k, v in attributes.items())]
    assert len(found) == 1, (name, attributes, [dict(p.attributes) for p in points])
    return found[0]


class Otel:
    """The helpers above as one namespace (``--import-mode=importlib`` cannot import conftest)."""

    named_span = staticmethod(named_span)
    metric_point = staticmethod(metric_point)
    metric_points = staticmethod(metric_points)


class Tools:
    """A plugin object that registers freestanding tools (and call middleware, if given)."""

    __name__ = "test"

    def __init__(self, *tools: Any, middleware: Iterable[tuple[Any, str]] = ()) -> None:
        self.tools = list(tools)
        self.middleware = list(middleware)

    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        for function in self.tools:
            register(function)

    @hookimpl
    def register_middleware(self, register: Callable[..., None]) -> None:
        for layer, stage in self.middleware:
            register(layer, stage=stage)


Build = Callable[..., Assembly]


@pytest.fixture
def tools() -> type[Tools]:
    """The :class:`Tools` plugin class."""
    return Tools


@pytest.fixture
def build() -> Build:
    """Assemble plugbay-telemetry with other plugins in-process, from TOML text.

    ``build(Tools(...), connector_class, toml="...", environ={...})``.
    """

    def make(
        *plugins: object, toml: str = "", environ: Mapping[str, str] | None = None
    ) -> Assembly:
        return build_assembly(
            plugbay_telemetry, *plugins, config=tomllib.loads(toml), environ=environ
        )

    return make
