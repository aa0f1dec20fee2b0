"""Spans and metrics for every tool call, resource read and prompt get.

:class:`CallTelemetry` is plugbay middleware in the ``observe`` stage (outermost), so it
sees every outcome, refusals by ``admit`` middleware and timeouts included, however the
call arrives (MCP or ``plugbay call``): an ``INTERNAL`` span (``execute_tool <tool>``
for tools, as in the GenAI conventions), the ``plugbay.calls`` counter, the
``plugbay.call.duration`` histogram and the ``plugbay.calls.active`` gauge.

Only the OpenTelemetry API is used here: the spans and metrics go wherever the
process's providers send them (nowhere until :func:`plugbay_telemetry.setup.install`).
"""

from __future__ import annotations

import time
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, StatusCode

from plugbay import Call, CallNext, CallRefused, ToolError
from plugbay.middleware import TIMED_OUT
from plugbay_telemetry.semconv import (
    DURATION_BUCKETS,
    INSTRUMENTATION_NAME,
    VERSION,
    session_id,
)

_METHOD_OF_KIND = {"tool": "tools/call", "resource": "resources/read", "prompt": "prompts/get"}


class CallTelemetry:
    """Plugbay middleware: a span, a count, a duration and an in-flight gauge per call.

    Register it in the ``observe`` stage, so that it also sees what later middleware
    does (a refusal, a timeout).

    Args:
        tracer_provider: Where spans go (default: the global provider).
        meter_provider: Where metrics go (default: the global provider).
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(INSTRUMENTATION_NAME, VERSION, tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION_NAME, VERSION, meter_provider)
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
        self._active = meter.create_up_down_counter(
            "plugbay.calls.active",
            unit="{call}",
            description="Tool calls, resource reads and prompt gets in flight.",
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

        active = {"plugbay.call.kind": call.kind}
        self._active.add(1, active)
        started = time.perf_counter()
        outcome: str = "ok"
        error_type: str | None = None
        with self._tracer.start_as_current_span(
            span_name,
            kind=SpanKind.INTERNAL,
            attributes=span_attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = await call_next(call)
            except CallRefused as error:
                # Refused before it ran (policy, rate limit, concurrency cap).
                outcome = error_type = error.outcome
                span.set_status(StatusCode.ERROR, str(error))
                raise
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
                self._active.add(-1, active)
                metric_attributes["plugbay.call.outcome"] = outcome
                if error_type is not None:
                    metric_attributes["error.type"] = error_type
                    span.set_attribute("error.type", error_type)
                self._calls.add(1, metric_attributes)
                self._duration.record(time.perf_counter() - started, metric_attributes)
