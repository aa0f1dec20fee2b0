"""The hook implementations, called directly: what each registers, and when nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from starlette.applications import Starlette
from starlette.routing import Route

import plugbay_telemetry
from plugbay import ConfigError
from plugbay_telemetry import TelemetryConfig
from plugbay_telemetry.calls import CallTelemetry
from plugbay_telemetry.messages import ServerTelemetry
from plugbay_telemetry.prometheus import metrics_endpoint, prometheus_reader, prometheus_registry
from plugbay_telemetry.setup import installed
from plugbay_testing.fakes import LocalServer

pytestmark = pytest.mark.anyio


@dataclass
class FakeConfig:
    """What the hooks read of ``plugbay.config.Config``: ``table()`` and ``environ``."""

    telemetry: TelemetryConfig | None = None
    environ: Mapping[str, str] = field(default_factory=dict)

    def table(self, name: str) -> Any:
        return self.telemetry if name == "telemetry" else None


class Registered:
    """A ``register`` callback that keeps what it was given."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, item: Any, **options: Any) -> None:
        self.items.append((item, options))


def _call(hook: str, config: FakeConfig) -> list[tuple[Any, dict[str, Any]]]:
    register = Registered()
    getattr(plugbay_telemetry, hook)(register, config)
    return register.items


ON = TelemetryConfig()
HOOKS_WITH_CONFIG = (
    "register_lifespan",
    "register_middleware",
    "register_message_middleware",
    "register_routes",
)


def test_the_telemetry_table_is_claimed_with_its_model() -> None:
    register = Registered()
    plugbay_telemetry.register_config_tables(register)
    assert register.items == [(TelemetryConfig, {"table": "telemetry"})]


@pytest.mark.parametrize("hook", HOOKS_WITH_CONFIG)
@pytest.mark.parametrize("settings", [None, TelemetryConfig(enabled=False)])
def test_without_telemetry_nothing_is_registered(hook: str, settings: Any) -> None:
    assert _call(hook, FakeConfig(settings)) == []


def test_call_telemetry_is_outermost() -> None:
    ((layer, options),) = _call("register_middleware", FakeConfig(ON))
    assert isinstance(layer, CallTelemetry)
    assert options == {"stage": "observe"}


def test_server_telemetry_wraps_every_message() -> None:
    ((layer, options),) = _call("register_message_middleware", FakeConfig(ON))
    assert isinstance(layer, ServerTelemetry)
    assert options == {}


def test_metrics_route_is_authenticated_unless_made_public() -> None:
    ((endpoint, options),) = _call("register_routes", FakeConfig(ON))
    assert callable(endpoint)
    assert options == {"path": "/metrics", "methods": ["GET"], "public": False}
    public = TelemetryConfig(prometheus_public=True, prometheus_path="/-/prometheus")
    ((_, options),) = _call("register_routes", FakeConfig(public))
    assert options == {"path": "/-/prometheus", "methods": ["GET"], "public": True}
    assert _call("register_routes", FakeConfig(TelemetryConfig(prometheus=False))) == []


def test_a_setup_workers_could_not_install_is_refused_at_assembly() -> None:
    try:
        import opentelemetry.exporter.otlp.proto.grpc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the gRPC exporter is installed here")
    grpc = TelemetryConfig(otlp_endpoint="http://collector:4317", otlp_protocol="grpc")
    with pytest.raises(ConfigError) as caught:
        _call("register_lifespan", FakeConfig(grpc))
    assert caught.value.problems == [
        "[telemetry] otlp_protocol = 'grpc' needs opentelemetry-exporter-otlp-proto-grpc"
    ]
    # Through the environment's endpoint too: the workers would export there.
    by_environment = TelemetryConfig(otlp_protocol="grpc")
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}
    with pytest.raises(ConfigError):
        _call("register_lifespan", FakeConfig(by_environment, environ))
    # Without any endpoint nothing is exported, so nothing is missing.
    assert len(_call("register_lifespan", FakeConfig(by_environment))) == 1


async def test_the_lifespan_installs_telemetry_and_shuts_it_down(otel: None) -> None:
    ((factory, options),) = _call("register_lifespan", FakeConfig(ON, {}))
    assert options == {}
    assert installed() is None
    async with factory():
        running = installed()
        assert running is not None
        # The test's providers were in place first, so they were kept, not replaced.
        assert running.tracer_provider is None
        assert running.meter_provider is None
        assert running.prometheus is not None
        ((endpoint, _),) = _call("register_routes", FakeConfig(ON))
        app = Starlette(routes=[Route("/metrics", endpoint)])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert "process_cpu_seconds_total" in scraped.text
    assert installed() is None
    # Not running in this process (any more): the route says so rather than lying.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        after = await client.get("/metrics")
    assert after.status_code == 503


def test_metrics_are_scraped_over_http_in_both_formats() -> None:
    registry = prometheus_registry()
    provider = MeterProvider(metric_readers=[prometheus_reader(registry)])
    try:
        layer = CallTelemetry(meter_provider=provider)
        assert layer is not None
        provider.get_meter("tests").create_counter("scraped.things", unit="{thing}").add(4)
        app = Starlette(routes=[Route("/metrics", metrics_endpoint(lambda: registry))])
        with LocalServer(app) as server, httpx.Client(timeout=10) as http:
            text = http.get(f"{server.url}/metrics")
            open_metrics = http.get(
                f"{server.url}/metrics", headers={"accept": "application/openmetrics-text"}
            )
    finally:
        provider.shutdown()
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "scraped_things_total" in text.text
    assert "process_resident_memory_bytes" in text.text
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.rstrip().endswith("# EOF")
