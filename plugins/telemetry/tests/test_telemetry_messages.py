"""ServerTelemetry and CallTelemetry on their own, with providers of the test's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import mcp_types as types
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from plugbay import Call, IncomingMessage, MessageRefused
from plugbay_telemetry import messages
from plugbay_telemetry.calls import CallTelemetry
from plugbay_telemetry.messages import OpenSessions, ServerTelemetry

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Providers:
    """A tracer and a meter provider with in-memory exporters, for one test."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def providers() -> Iterator[Providers]:
    made = Providers()
    yield made
    made.tracer_provider.shutdown()
    made.meter_provider.shutdown()


def _server_telemetry(providers: Providers) -> ServerTelemetry:
    return ServerTelemetry(
        tracer_provider=providers.tracer_provider, meter_provider=providers.meter_provider
    )


async def test_a_message_continues_the_clients_trace_and_names_its_session(
    providers: Providers,
) -> None:
    layer = _server_telemetry(providers)
    message = IncomingMessage(
        method="tools/call",
        params={
            "name": "crm_search",
            "arguments": {},
            "_meta": {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        },
        request_id=7,
        session_id="s-1",
        protocol_version="2025-11-25",
        client=("127.0.0.1", 50123),
    )

    async def answer(received: IncomingMessage) -> Any:
        assert received is message
        return {"content": [], "isError": True}

    assert await layer(message, answer) == {"content": [], "isError": True}
    (span,) = providers.spans.get_finished_spans()
    assert span.name == "tools/call crm_search"
    assert span.kind is SpanKind.SERVER
    assert span.context is not None
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert dict(span.attributes or {}) == {
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2025-11-25",
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "crm_search",
        "jsonrpc.request.id": "7",
        "mcp.session.id": "s-1",
        "client.address": "127.0.0.1",
        "client.port": 50123,
        "error.type": "tool_error",
    }
    assert span.status.status_code is StatusCode.ERROR
    (point,) = providers.points("mcp.server.operation.duration")
    assert point.attributes["gen_ai.tool.name"] == "crm_search"
    assert point.attributes["error.type"] == "tool_error"
    assert "mcp.session.id" not in point.attributes  # unbounded: spans only
    (sessions,) = providers.points("plugbay.sessions.active")
    assert sessions.value == 1


async def test_refusals_are_typed_and_unanswered_names_are_not_metric_labels(
    providers: Providers,
) -> None:
    layer = _server_telemetry(providers)

    async def refuse(message: IncomingMessage) -> Any:
        raise MessageRefused("not during maintenance", code=-32003)

    message = IncomingMessage(method="prompts/get", params={"name": "made-up-prompt"})
    with pytest.raises(MessageRefused):
        await layer(message, refuse)
    (span,) = providers.spans.get_finished_spans()
    assert span.name == "prompts/get made-up-prompt"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "-32003"
    assert span.attributes["rpc.response.status_code"] == "-32003"
    assert span.attributes["network.transport"] == "pipe"
    assert span.status.description == "not during maintenance"
    (point,) = providers.points("mcp.server.operation.duration")
    assert point.attributes["gen_ai.prompt.name"] == "_OTHER"
    assert point.attributes["error.type"] == "-32003"


async def test_an_unexpected_failure_is_recorded_on_the_span(providers: Providers) -> None:
    layer = _server_telemetry(providers)

    async def crash(message: IncomingMessage) -> Any:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await layer(IncomingMessage(method="resources/read", params={"uri": "notes://a"}), crash)
    (span,) = providers.spans.get_finished_spans()
    assert span.name == "resources/read"
    assert span.attributes is not None
    assert span.attributes["mcp.resource.uri"] == "notes://a"
    assert span.attributes["error.type"] == "RuntimeError"
    assert [event.name for event in span.events] == ["exception"]


def test_open_sessions_are_those_used_within_the_idle_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    sessions = OpenSessions(idle_timeout=60, clock=lambda: now[0])
    sessions.seen("a")
    now[0] += 30
    sessions.seen("b")
    sessions.seen("a")  # used again: counts from now
    assert sessions.count() == 2
    now[0] += 45
    assert sessions.count() == 2
    now[0] += 20  # b's last message was 65 s ago, a's 65 s too
    assert sessions.count() == 0
    # Memory stays bounded whatever clients send.
    monkeypatch.setattr(messages, "MAX_TRACKED_SESSIONS", 3)
    for name in "cdefg":
        sessions.seen(name)
    assert sessions.count() == 3


async def test_calls_in_flight_are_counted_while_they_run(providers: Providers) -> None:
    layer = CallTelemetry(
        tracer_provider=providers.tracer_provider, meter_provider=providers.meter_provider
    )
    started, release = anyio.Event(), anyio.Event()

    async def run(call: Call) -> Any:
        started.set()
        await release.wait()
        return types.CallToolResult(content=[])

    def in_flight() -> float:
        (point,) = providers.points("plugbay.calls.active")
        return float(point.value)

    async with anyio.create_task_group() as group:
        group.start_soon(layer, Call(kind="tool", name="wait", arguments={}), run)
        await started.wait()
        assert in_flight() == 1
        release.set()
    assert in_flight() == 0
    (span,) = providers.spans.get_finished_spans()
    assert span.name == "execute_tool wait"
