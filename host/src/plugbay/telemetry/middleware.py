"""Spans and metrics for MCP requests and for the calls they make.

Two layers, both following the OpenTelemetry semantic conventions for MCP:

- :class:`ServerTelemetry` is SDK middleware. The SDK already opens a ``SERVER`` span
  per inbound message; this adds what the SDK cannot know (``mcp.session.id``, the
  network attributes, ``mcp.resource.uri``) and records the
  ``mcp.server.operation.duration`` histogram.
- :class:`CallTelemetry` is plugbay middleware around every tool call, resource read
  and prompt get, however it arrives (MCP or ``plugbay call``): an ``INTERNAL`` span
  (``execute_tool <tool>`` for tools, as in the GenAI conventions) and the
  ``plugbay.calls`` counter and ``plugbay.call.duration`` histogram.

Neither is installed when telemetry is off. Only the OpenTelemetry API is used here:
the spans go wherever the process's tracer provider sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext as SdkCallNext
from mcp.server.context import HandlerResult
from mcp.shared.exceptions import MCPError
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError

from plugbay import __version__
from plugbay.errors import ToolError
from plugbay.middleware import TIMED_OUT, Call, CallNext

INSTRUMENTATION_NAME = "plugbay"
DURATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
"""Bucket boundaries the MCP conventions give for operation durations, in seconds."""
OTHER = "_OTHER"
"""Stands in for names the catalog does not know, to keep metric cardinality bounded."""
SESSION_HEADER = "mcp-session-id"

_METHOD_OF_KIND = {"tool": "tools/call", "resource": "resources/read", "prompt": "prompts/get"}


def session_id(http_request: Any) -> str | None:
    """The MCP session of an HTTP request: its header, or the legacy SSE query parameter."""
    if http_request is None:
        return None
    value = http_request.headers.get(SESSION_HEADER)
    if value is None:
        value = http_request.query_params.get("session_id")
    return str(value) if value is not None else None


def _transport_attributes(http_request: Any) -> dict[str, Any]:
    if http_request is None:
        # stdio, or the SDK's in-process memory transport: both are pipes.
        return {"network.transport": "pipe"}
    attributes: dict[str, Any] = {"network.transport": "tcp", "network.protocol.name": "http"}
    version = http_request.scope.get("http_version")
    if version:
        attributes["network.protocol.version"] = version
    return attributes


class ServerTelemetry:
    """SDK middleware completing the SDK's span and timing every inbound MCP message.

    Args:
        known: Tells whether a tool or prompt name is in the catalog (``("tool",
            name)``); unknown names are recorded as ``_OTHER`` in metrics.
        meter_provider: Where the histogram goes (default: the global provider).
    """

    def __init__(
        self,
        known: Callable[[str, str], bool],
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._known = known
        meter = metrics.get_meter(INSTRUMENTATION_NAME, __version__, meter_provider)
        self._duration = meter.create_histogram(
            "mcp.server.operation.duration",
            unit="s",
            description="Duration of MCP requests and notifications, as the server saw them.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: SdkCallNext
    ) -> HandlerResult:
        """Add the missing span attributes, run the request and record its duration."""
        started = time.perf_counter()
        http_request = ctx.request
        method = ctx.method
        attributes: dict[str, Any] = {
            "mcp.method.name": method,
            **_transport_attributes(http_request),
        }
        if ctx.protocol_version:
            attributes["mcp.protocol.version"] = ctx.protocol_version
        params: Mapping[str, Any] = ctx.params or {}
        name = params.get("name")
        if method == "tools/call":
            attributes["gen_ai.operation.name"] = "execute_tool"
            attributes["gen_ai.tool.name"] = (
                name if isinstance(name, str) and self._known("tool", name) else OTHER
            )
        elif method == "prompts/get":
            attributes["gen_ai.prompt.name"] = (
                name if isinstance(name, str) and self._known("prompt", name) else OTHER
            )

        span = trace.get_current_span()
        if span.is_recording():
            extra = dict(attributes)
            if (session := session_id(http_request)) is not None:
                extra["mcp.session.id"] = session
            client = http_request.client if http_request is not None else None
            if client is not None:
                extra["client.address"] = client.host
                extra["client.port"] = client.port
            uri = params.get("uri")
            if method == "resources/read" and isinstance(uri, str):
                extra["mcp.resource.uri"] = uri
            # The SDK set the tool and prompt names as the client sent them; keep those.
            extra.pop("gen_ai.tool.name", None)
            extra.pop("gen_ai.prompt.name", None)
            span.set_attributes(extra)

        try:
            result = await call_next(ctx)
        except MCPError as error:
            code = str(error.error.code)
            attributes["error.type"] = code
            attributes["rpc.response.status_code"] = code
            raise
        except ValidationError:
            attributes["error.type"] = attributes["rpc.response.status_code"] = str(
                types.INVALID_PARAMS
            )
            raise
        except BaseException as error:
            attributes["error.type"] = type(error).__qualname__
            raise
        else:
            if method == "tools/call" and _is_tool_error(result):
                attributes["error.type"] = "tool_error"
            return result
        finally:
            self._duration.record(time.perf_counter() - started, attributes)


def _is_tool_error(result: HandlerResult) -> bool:
    if isinstance(result, types.CallToolResult):
        return bool(result.is_error)
    return isinstance(result, dict) and result.get("isError") is True


class CallTelemetry:
    """Plugbay middleware: a span, a count and a duration for every call.

    Register it first, so that it also sees what later middleware does (a refusal,
    a timeout).

    Args:
        tracer_provider: Where spans go (default: the global provider).
        meter_provider: Where metrics go (default: the global provider).
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(INSTRUMENTATION_NAME, __version__, tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION_NAME, __version__, meter_provider)
        self._calls = meter.create_counter(
            "plugbay.calls",
            unit="{call}",
            description="Tool calls, resource reads and prompt gets, by outcome.",
        )
        self._duration = meter.create_histogram(
            "plugbay.call.duration",
            unit="s",
            description="Time a tool, resource or prompt took, middleware included.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    async def __call__(self, call: Call, call_next: CallNext) -> Any:
        """Run the call inside its span and count it."""
        method = _METHOD_OF_KIND[call.kind]
        metric_attributes: dict[str, Any] = {
            "mcp.method.name": method,
            "plugbay.call.kind": call.kind,
        }
        if call.instance is not None:
            metric_attributes["plugbay.instance"] = call.instance
        if call.plugin is not None:
            metric_attributes["plugbay.plugin"] = call.plugin
        span_attributes = dict(metric_attributes)
        if call.kind == "tool":
            span_name = f"execute_tool {call.name}"
            metric_attributes["gen_ai.operation.name"] = "execute_tool"
            metric_attributes["gen_ai.tool.name"] = call.name
            span_attributes.update(metric_attributes)
        elif call.kind == "prompt":
            span_name = f"{method} {call.name}"
            metric_attributes["gen_ai.prompt.name"] = call.name
            span_attributes.update(metric_attributes)
        else:
            # Resource URIs are unbounded: on the span, never in a span name or a metric.
            span_name = method
            span_attributes["mcp.resource.uri"] = call.name
        sdk_context = call.request
        if sdk_context is not None:
            http_request = getattr(sdk_context, "request", None)
            if (session := session_id(http_request)) is not None:
                span_attributes["mcp.session.id"] = session
            request_id = getattr(sdk_context, "request_id", None)
            if request_id is not None:
                span_attributes["jsonrpc.request.id"] = str(request_id)

        started = time.perf_counter()
        outcome, error_type = "ok", None
        with self._tracer.start_as_current_span(
            span_name,
            kind=SpanKind.INTERNAL,
            attributes=span_attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = await call_next(call)
            except ToolError as error:
                outcome = error_type = "timeout" if call.state.get(TIMED_OUT) else "tool_error"
                span.set_status(StatusCode.ERROR, str(error))
                raise
            except MCPError as error:
                outcome, error_type = "error", str(error.error.code)
                span.set_status(StatusCode.ERROR, error.error.message)
                raise
            except BaseException as error:
                outcome, error_type = "error", type(error).__qualname__
                span.record_exception(error)
                span.set_status(StatusCode.ERROR, type(error).__qualname__)
                raise
            else:
                if isinstance(result, types.CallToolResult) and result.is_error:
                    outcome = error_type = "tool_error"
                    span.set_status(StatusCode.ERROR)
                return result
            finally:
                metric_attributes["plugbay.call.outcome"] = outcome
                if error_type is not None:
                    metric_attributes["error.type"] = error_type
                    span.set_attribute("error.type", error_type)
                self._calls.add(1, metric_attributes)
                self._duration.record(time.perf_counter() - started, metric_attributes)
