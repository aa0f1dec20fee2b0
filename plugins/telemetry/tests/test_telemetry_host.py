"""Telemetry through the real host: spans for MCP messages and calls, metrics, trace ids
in logs, OTLP export (moved from the host's tests with the code)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from opentelemetry import trace
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from plugbay import (
    Call,
    CallNext,
    CallRefused,
    Components,
    ConfigError,
    Connector,
    Context,
    DynamicTool,
    Settings,
    ToolError,
    prompt,
    resource,
    tool,
)
from plugbay.server import PlugbayServer
from plugbay.transports import http_app
from plugbay_telemetry import TelemetryConfig
from plugbay_telemetry.calls import CallTelemetry
from plugbay_telemetry.logs import NO_TRACE_ID, JsonLogFormatter, log_formatter
from plugbay_telemetry.messages import ServerTelemetry
from plugbay_telemetry.semconv import DURATION_BUCKETS
from plugbay_telemetry.setup import build_meter_provider, build_tracer_provider, check_installed
from plugbay_testing import RawSession, answer_of
from plugbay_testing.fakes import LocalServer, OtlpCollector

pytestmark = pytest.mark.anyio

TELEMETRY = "[telemetry]\nservice_name = 'plugbay-test'\n"
BASE = "http://127.0.0.1:8000"


class CalcSettings(Settings):
    offset: int = 1


class CalcConnector(Connector[CalcSettings]):
    """Adds numbers."""

    name = "calc"
    TOML = '[connectors.calc]\nplugin = "calc"\n'

    @tool(read_only=True, idempotent=True)
    async def add(self, a: int) -> int:
        """Add the offset to a."""
        return a + self.settings.offset

    @resource("numbers/{n}", mime_type="text/plain")
    def number(self, n: str) -> str:
        """One number."""
        return f"{self.instance}:{n}"

    @prompt
    def explain(self, topic: str) -> str:
        """Explain a topic."""
        return f"Explain {topic}"


async def span_add(a: int, b: int) -> int:
    """Add two numbers."""
    logging.getLogger("plugbay.tests.telemetry").warning("adding %s and %s", a, b)
    return a + b


def span_refuse() -> str:
    """Refuse, as a tool may."""
    raise ToolError("no, and here is what to do instead")


def span_crash() -> str:
    """Fail unexpectedly."""
    return str(1 // 0)


@tool(timeout=0.05)
async def span_slow() -> str:
    """Take too long."""
    await anyio.sleep(5)
    return "late"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_tool_call_makes_a_server_span_and_a_tool_span(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter, mode: str
) -> None:
    assembly = build(tools(span_add), CalcConnector, toml=TELEMETRY + CalcConnector.TOML)
    await assembly.start()
    try:
        async with Client(PlugbayServer(assembly).sdk, mode=mode) as client:
            result = await client.call_tool("span_add", {"a": 1, "b": 2})
            await client.read_resource("calc://calc/numbers/7")
            await client.get_prompt("calc_explain", {"topic": "otel"})
    finally:
        await assembly.stop()
    assert result.structured_content == {"result": 3}
    finished = spans.get_finished_spans()

    server = otel.named_span(finished, "tools/call span_add")
    assert server.kind is SpanKind.SERVER
    assert server.attributes is not None
    assert server.attributes["mcp.method.name"] == "tools/call"
    assert server.attributes["gen_ai.tool.name"] == "span_add"
    assert server.attributes["network.transport"] == "pipe"
    assert "error.type" not in server.attributes

    call = otel.named_span(finished, "execute_tool span_add")
    assert call.kind is SpanKind.INTERNAL
    assert call.parent is not None
    assert server.context is not None
    assert call.context is not None
    assert call.parent.span_id == server.context.span_id
    assert call.context.trace_id == server.context.trace_id
    assert call.attributes is not None
    assert dict(call.attributes) | {"jsonrpc.request.id": "?"} == {
        "mcp.method.name": "tools/call",
        "plugbay.call.kind": "tool",
        "plugbay.plugin": "test",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "span_add",
        "jsonrpc.request.id": "?",
    }
    assert call.status.status_code is StatusCode.UNSET

    read_server = otel.named_span(finished, "resources/read", SpanKind.SERVER)
    assert read_server.attributes is not None
    assert read_server.attributes["mcp.resource.uri"] == "calc://calc/numbers/7"
    reads = [s for s in finished if s.name == "resources/read" and s.kind is SpanKind.INTERNAL]
    assert [s.attributes["mcp.resource.uri"] for s in reads if s.attributes] == [
        "calc://calc/numbers/7"
    ]
    prompt = [s for s in finished if s.name == "prompts/get calc_explain"]
    assert {s.kind for s in prompt} == {SpanKind.SERVER, SpanKind.INTERNAL}
    internal = next(s for s in prompt if s.kind is SpanKind.INTERNAL)
    assert internal.attributes is not None
    assert internal.attributes["gen_ai.prompt.name"] == "calc_explain"
    assert internal.attributes["plugbay.instance"] == "calc"


async def test_failures_are_typed_on_the_spans(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    assembly = build(tools(span_refuse, span_crash, span_slow), toml=TELEMETRY)
    async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
        refused = await client.call_tool("span_refuse", {})
        crashed = await client.call_tool("span_crash", {})
        slow = await client.call_tool("span_slow", {})
        with pytest.raises(MCPError):
            await client.call_tool("no_such_tool", {})
    assert refused.is_error
    assert crashed.is_error
    assert slow.is_error
    finished = spans.get_finished_spans()

    expected = {
        "span_refuse": "tool_error",
        "span_crash": "ZeroDivisionError",
        "span_slow": "timeout",
    }
    for name, error_type in expected.items():
        call = otel.named_span(finished, f"execute_tool {name}")
        assert call.attributes is not None
        assert call.attributes["error.type"] == error_type
        assert call.status.status_code is StatusCode.ERROR
        server = otel.named_span(finished, f"tools/call {name}")
        assert server.attributes is not None
        assert server.attributes["error.type"] == "tool_error"  # an isError result on the wire
    refusal = otel.named_span(finished, "execute_tool span_refuse")
    assert refusal.status.description == "no, and here is what to do instead"
    crash = otel.named_span(finished, "execute_tool span_crash")
    assert [event.name for event in crash.events] == ["exception"]
    unknown = otel.named_span(finished, "tools/call no_such_tool")
    assert unknown.attributes is not None
    assert unknown.attributes["error.type"] == "-32602"


async def test_metrics_count_calls_by_outcome_and_time_every_request(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    async def metered_ok() -> str:
        """Succeed."""
        return "fine"

    def metered_refuse() -> str:
        """Refuse."""
        raise ToolError("not today")

    assembly = build(tools(metered_ok, metered_refuse), toml=TELEMETRY)
    async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
        for _ in range(3):
            await client.call_tool("metered_ok", {})
        await client.call_tool("metered_refuse", {})
        with pytest.raises(MCPError):
            await client.call_tool("metered_missing", {})

    ok = otel.metric_point("plugbay.calls", **{"gen_ai.tool.name": "metered_ok"})
    assert ok.value == 3
    assert ok.attributes["plugbay.call.outcome"] == "ok"
    assert "error.type" not in ok.attributes
    refused = otel.metric_point("plugbay.calls", **{"gen_ai.tool.name": "metered_refuse"})
    assert refused.value == 1
    assert refused.attributes["plugbay.call.outcome"] == "tool_error"
    assert refused.attributes["error.type"] == "tool_error"
    duration = otel.metric_point("plugbay.call.duration", **{"gen_ai.tool.name": "metered_ok"})
    assert duration.count == 3

    server_ok = otel.metric_point(
        "mcp.server.operation.duration",
        **{"gen_ai.tool.name": "metered_ok", "mcp.method.name": "tools/call"},
    )
    assert server_ok.count == 3
    assert tuple(server_ok.explicit_bounds) == DURATION_BUCKETS
    assert server_ok.attributes["gen_ai.operation.name"] == "execute_tool"
    assert server_ok.attributes["network.transport"] == "pipe"
    server_refused = otel.metric_point(
        "mcp.server.operation.duration", **{"gen_ai.tool.name": "metered_refuse"}
    )
    assert server_refused.attributes["error.type"] == "tool_error"
    # A name the catalog does not know must not grow the metric's cardinality.
    unknown = [
        p
        for p in otel.metric_points("mcp.server.operation.duration")
        if p.attributes.get("gen_ai.tool.name") == "_OTHER"
    ]
    assert unknown
    assert all(p.attributes["error.type"] == "-32602" for p in unknown)
    assert not any(
        p.attributes.get("gen_ai.tool.name") == "metered_missing"
        for p in otel.metric_points("mcp.server.operation.duration")
    )


async def test_log_records_carry_the_trace_id(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    assembly = build(tools(span_add), toml=TELEMETRY)
    with caplog.at_level(logging.WARNING, logger="plugbay.tests.telemetry"):
        async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
            await client.call_tool("span_add", {"a": 20, "b": 22})
    call = otel.named_span(spans.get_finished_spans(), "execute_tool span_add")
    assert call.context is not None
    records = [r for r in caplog.records if r.name == "plugbay.tests.telemetry"]
    assert [r.getMessage() for r in records] == ["adding 20 and 22"]
    assert records[0].trace_id == format(call.context.trace_id, "032x")  # type: ignore[attr-defined]
    assert records[0].span_id == format(call.context.span_id, "016x")  # type: ignore[attr-defined]
    outside = logging.getLogger("plugbay.tests.telemetry").makeRecord(
        "x", logging.INFO, __file__, 1, "outside", (), None
    )
    assert outside.trace_id == NO_TRACE_ID  # type: ignore[attr-defined]


def test_log_formats_show_the_trace_id(otel: Any) -> None:
    tracer = trace.get_tracer("tests")
    logger = logging.getLogger("plugbay.tests.formats")
    with tracer.start_as_current_span("work") as span:
        record = logger.makeRecord(
            "plugbay.tests.formats", logging.INFO, __file__, 1, "hi %s", ("there",), None
        )
    trace_id = format(span.get_span_context().trace_id, "032x")
    text = log_formatter("text").format(record)
    assert f"[trace_id={trace_id} span_id=" in text
    assert text.endswith(": hi there")
    document = json.loads(JsonLogFormatter().format(record))
    assert document["trace_id"] == trace_id
    assert document["message"] == "hi there"
    assert document["logger"] == "plugbay.tests.formats"
    assert document["level"] == "INFO"
    plain = logger.makeRecord(
        "plugbay.tests.formats", logging.INFO, __file__, 1, "no span", (), None
    )
    assert "trace_id" not in json.loads(log_formatter("json").format(plain))


async def test_over_http_the_spans_name_the_session(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    app = http_app(build(tools(span_add), toml=TELEMETRY))
    async with app.router.lifespan_context(app):
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE)
        client = Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode="legacy")
        async with http, client:
            await client.call_tool("span_add", {"a": 1, "b": 1})
    finished = spans.get_finished_spans()
    server = otel.named_span(finished, "tools/call span_add")
    call = otel.named_span(finished, "execute_tool span_add")
    assert server.attributes is not None
    assert call.attributes is not None
    session = server.attributes["mcp.session.id"]
    assert isinstance(session, str)
    assert len(session) == 32
    assert call.attributes["mcp.session.id"] == session
    assert server.attributes["network.transport"] == "tcp"
    assert server.attributes["network.protocol.name"] == "http"
    assert server.attributes["client.address"] == "127.0.0.1"


async def test_over_http_without_sessions_the_spans_still_name_the_transport(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    app = http_app(build(tools(span_add), toml=TELEMETRY), stateless=True)
    async with app.router.lifespan_context(app):
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE)
        client = Client(streamable_http_client(f"{BASE}/mcp", http_client=http))
        async with http, client:
            await client.call_tool("span_add", {"a": 1, "b": 1})
    finished = spans.get_finished_spans()
    server = otel.named_span(finished, "tools/call span_add", SpanKind.SERVER)
    call = otel.named_span(finished, "execute_tool span_add")
    assert server.attributes is not None
    assert call.attributes is not None
    assert server.attributes["mcp.protocol.version"] == "2026-07-28"
    assert server.attributes["network.transport"] == "tcp"
    assert "mcp.session.id" not in server.attributes
    assert "mcp.session.id" not in call.attributes
    assert call.parent is not None
    assert server.context is not None
    assert call.parent.span_id == server.context.span_id


class Hop(Connector[Settings]):
    """A gateway-like connector: one run-time tool, ``hop``."""

    name = "hop"

    async def components(self) -> Components:
        async def hop(arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
            return types.CallToolResult(content=[types.TextContent(text="hopped")])

        definition = types.Tool(name="hop", input_schema={"type": "object"})
        return Components(tools=[DynamicTool(definition=definition, call=hop)])


def test_gateway_tool_calls_over_http_carry_the_clients_trace(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    toml = TELEMETRY + '[connectors.up]\nplugin = "hop"\n'
    app = http_app(build(Hop, toml=toml))
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with LocalServer(app, lifespan="on") as server, httpx.Client(timeout=10) as http:
        session = RawSession(http, f"{server.url}/mcp").open()
        meta = {"traceparent": f"00-{trace_id}-{parent_id}-01"}
        answer = session.call("up_hop", arguments={}, _meta=meta)
    assert answer_of(answer)["result"]["content"] == [{"type": "text", "text": "hopped"}]
    finished = spans.get_finished_spans()
    served = otel.named_span(finished, "tools/call up_hop", SpanKind.SERVER)
    call = otel.named_span(finished, "execute_tool up_hop")
    assert served.attributes is not None
    assert served.context is not None
    assert format(served.context.trace_id, "032x") == trace_id  # the client's trace
    assert served.parent is not None
    assert format(served.parent.span_id, "016x") == parent_id
    assert served.attributes["mcp.session.id"] == session.headers["mcp-session-id"]
    assert served.attributes["network.transport"] == "tcp"
    assert call.parent is not None
    assert call.parent.span_id == served.context.span_id
    assert (
        otel.metric_point("mcp.server.operation.duration", **{"gen_ai.tool.name": "up_hop"}).count
        == 1
    )


async def test_without_telemetry_nothing_is_added_and_nothing_is_recorded(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    assembly = build(tools(span_add))
    assert assembly.config.table("telemetry") is None
    assert not [layer for layer in assembly.middleware if isinstance(layer, CallTelemetry)]
    assert not [m for m in assembly.message_middleware if isinstance(m, ServerTelemetry)]
    async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
        await client.call_tool("span_add", {"a": 1, "b": 1})
    # Not even the SDK's own per-message span: the host leaves spans to this plugin.
    assert [s for s in spans.get_finished_spans() if s.kind is not SpanKind.CLIENT] == []


async def refuse_everything(call: Call, call_next: CallNext) -> Any:
    """An admit-stage policy that refuses every call."""
    raise CallRefused("not for you", outcome="denied")


async def test_call_telemetry_is_outermost_and_sees_refusals(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    policy = tools(span_add, middleware=[(refuse_everything, "admit")])
    assembly = build(policy, toml=TELEMETRY)
    # Outermost, so that it sees every refusal and timeout of the layers inside it.
    assert isinstance(assembly.middleware[0], CallTelemetry)
    assert [type(layer) for layer in assembly.message_middleware] == [ServerTelemetry]
    async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
        refused = await client.call_tool("span_add", {"a": 1, "b": 1})
    assert refused.is_error
    call = otel.named_span(spans.get_finished_spans(), "execute_tool span_add")
    assert call.attributes is not None
    assert call.attributes["error.type"] == "denied"
    assert call.status.description == "not for you"
    counted = otel.metric_point(
        "plugbay.calls", **{"gen_ai.tool.name": "span_add", "plugbay.call.outcome": "denied"}
    )
    assert counted.value == 1
    disabled = build(tools(span_add), toml="[telemetry]\nenabled = false\n")
    assert not [layer for layer in disabled.middleware if isinstance(layer, CallTelemetry)]
    assert not disabled.message_middleware


def test_the_telemetry_table_is_validated(build: Any, tools: Any) -> None:
    settings = build(
        toml="""
[telemetry]
service_name = "mcp-gateway"
otlp_endpoint = "http://collector:4318/"
otlp_headers = { "x-api-key" = "${OTLP_KEY}" }
sample_ratio = 0.25
resource_attributes = { "deployment.environment" = "staging" }
prometheus_public = true
""",
        environ={"OTLP_KEY": "sekret"},
    ).config.table("telemetry")
    assert isinstance(settings, TelemetryConfig)
    assert settings.enabled
    assert settings.otlp_endpoint == "http://collector:4318"
    assert settings.otlp_headers["x-api-key"].get_secret_value() == "sekret"
    assert "sekret" not in repr(settings)
    assert settings.sample_ratio == 0.25
    assert settings.prometheus_public
    with pytest.raises(ConfigError) as caught:
        build(
            toml="[telemetry]\nsample_ratio = 2\notlp_endpoint = 'collector:4318'\nexport = 1\n"
            "prometheus_path = 'metrics'\n",
        )
    problems = "\n".join(caught.value.problems)
    assert "[telemetry] sample_ratio" in problems
    assert "[telemetry] otlp_endpoint: must be an http:// or https:// URL" in problems
    assert "[telemetry] export: Extra inputs are not permitted" in problems
    assert "[telemetry] prometheus_path" in problems


def test_grpc_export_needs_its_exporter() -> None:
    settings = TelemetryConfig(otlp_endpoint="http://collector:4317", otlp_protocol="grpc")
    try:
        import opentelemetry.exporter.otlp.proto.grpc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the gRPC exporter is installed here")
    for attempt in (lambda: check_installed(settings, {}), lambda: build_tracer_provider(settings)):
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert caught.value.problems == [
            "[telemetry] otlp_protocol = 'grpc' needs opentelemetry-exporter-otlp-proto-grpc"
        ]


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as running:
        yield running


def test_spans_and_metrics_are_exported_over_otlp_http(collector: OtlpCollector) -> None:
    settings = TelemetryConfig(
        service_name="plugbay-otlp-test",
        otlp_endpoint=collector.endpoint,
        otlp_headers={"x-api-key": "collector-key"},  # type: ignore[dict-item]
        resource_attributes={"deployment.environment": "test"},
    )
    tracer_provider = build_tracer_provider(settings, environ={})
    meter_provider = build_meter_provider(settings, environ={})
    try:
        with tracer_provider.get_tracer("tests").start_as_current_span("exported work"):
            pass
        meter_provider.get_meter("tests").create_counter("exported.count").add(2)
        assert tracer_provider.force_flush()
        assert meter_provider.force_flush()
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()

    (trace_body,) = collector.bodies("/v1/traces")
    request = ExportTraceServiceRequest.FromString(trace_body)
    (resource_spans,) = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "plugbay-otlp-test"
    assert resource["deployment.environment"] == "test"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == [
        "exported work"
    ]
    headers = next(h for path, h, _ in collector.received if path == "/v1/traces")
    assert headers["x-api-key"] == "collector-key"
    assert headers["content-type"] == "application/x-protobuf"

    metric_requests = [
        ExportMetricsServiceRequest.FromString(b) for b in collector.bodies("/v1/metrics")
    ]
    names = {
        metric.name
        for request in metric_requests
        for resource_metrics in request.resource_metrics
        for scope in resource_metrics.scope_metrics
        for metric in scope.metrics
    }
    assert "exported.count" in names


async def test_outgoing_httpx_requests_are_traced_under_the_tool_span(
    build: Any, tools: Any, otel: Any, spans: InMemorySpanExporter
) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    seen: list[str | None] = []

    class Backend(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("traceparent"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{backend.server_address[1]}/status"

    async def fetch_status() -> int:
        """Ask the backend how it is."""
        async with httpx.AsyncClient() as http:
            return (await http.get(url)).status_code

    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument()
    try:
        assembly = build(tools(fetch_status), toml=TELEMETRY)
        async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
            result = await client.call_tool("fetch_status", {})
    finally:
        instrumentor.uninstrument()
        backend.shutdown()
        backend.server_close()
    assert result.structured_content == {"result": 204}
    finished = spans.get_finished_spans()
    call = otel.named_span(finished, "execute_tool fetch_status")
    outgoing = [s for s in finished if s.kind is SpanKind.CLIENT and s.name == "GET"]
    assert len(outgoing) == 1
    assert outgoing[0].parent is not None
    assert call.context is not None
    assert outgoing[0].parent.span_id == call.context.span_id
    assert seen
    assert seen[0] is not None
    assert seen[0].split("-")[1] == format(call.context.trace_id, "032x")


def test_span_export_waits_for_nothing_when_no_exporter_is_configured() -> None:
    provider = build_tracer_provider(TelemetryConfig(), environ={})
    try:
        started = time.perf_counter()
        with provider.get_tracer("tests").start_as_current_span("dropped") as span:
            assert span.get_span_context().is_valid  # ids for the logs even with no exporter
        assert provider.force_flush(timeout_millis=1000)
        assert time.perf_counter() - started < 0.5
    finally:
        provider.shutdown()
