"""The ``SERVER`` span and the ``mcp.server.*`` metrics of every inbound MCP message.

:class:`ServerTelemetry` is plugbay message middleware (``register_message_middleware``):
it sees ``initialize``, ``tools/list`` and every other method. Per the OpenTelemetry
semantic conventions for MCP it opens one ``SERVER`` span per message (``tools/call
<tool>``, ``resources/read``, ``initialize``...), continuing the client's trace when the
request's ``_meta`` carries ``traceparent``, and records the
``mcp.server.operation.duration`` histogram. It also keeps the number of open sessions
(``plugbay.sessions.active``, see :class:`OpenSessions`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError

from plugbay import IncomingMessage, MessageRefused
from plugbay.messages import MessageNext
from plugbay_telemetry.semconv import (
    DURATION_BUCKETS,
    INSTRUMENTATION_NAME,
    OTHER,
    VERSION,
)

SESSION_IDLE_TIMEOUT = 1800.0
"""Seconds after which the MCP SDK ends a stateful HTTP session nobody used (its default)."""
MAX_TRACKED_SESSIONS = 10_000
"""Sessions the gauge remembers at most (the SDK's default cap on open sessions)."""


class ServerTelemetry:
    """Message middleware: a ``SERVER`` span and a duration for every inbound message.

    Tool and prompt names go into metrics only when the server answered the request
    (a result, even an ``isError`` one): a name the server does not know gets a
    protocol error and is recorded as ``_OTHER``, so made-up names cannot grow the
    metrics without bound. Spans carry the name as the client sent it.

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
        self._duration = meter.create_histogram(
            "mcp.server.operation.duration",
            unit="s",
            description="Duration of MCP requests and notifications, as the server saw them.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.sessions = OpenSessions()
        meter.create_observable_up_down_counter(
            "plugbay.sessions.active",
            callbacks=[self.sessions.observe],
            unit="{session}",
            description="MCP sessions in use in this process (a message in the last 30 minutes).",
        )

    async def __call__(self, message: IncomingMessage, call_next: MessageNext) -> Any:
        """Run the message inside its ``SERVER`` span and record its duration."""
        started = time.perf_counter()
        method = message.method
        params = message.params
        attributes: dict[str, Any] = {"mcp.method.name": method}
        if message.client is None:
            # stdio, or the SDK's in-process memory transport: both are pipes.
            attributes["network.transport"] = "pipe"
        else:
            attributes["network.transport"] = "tcp"
            attributes["network.protocol.name"] = "http"
        if message.protocol_version:
            attributes["mcp.protocol.version"] = message.protocol_version
        name = params.get("name")
        target = name if isinstance(name, str) and method in _NAMED else None
        if method == "tools/call":
            attributes["gen_ai.operation.name"] = "execute_tool"
        span_attributes = dict(attributes)
        if target is not None:
            span_attributes[_NAMED[method]] = target
        if message.request_id is not None:
            span_attributes["jsonrpc.request.id"] = str(message.request_id)
        if message.session_id is not None:
            span_attributes["mcp.session.id"] = message.session_id
            self.sessions.seen(message.session_id)
        if message.client is not None:
            span_attributes["client.address"], span_attributes["client.port"] = message.client
        uri = params.get("uri")
        if method == "resources/read" and isinstance(uri, str):
            span_attributes["mcp.resource.uri"] = uri
        meta = params.get("_meta")
        parent = propagate.extract(meta) if isinstance(meta, Mapping) else None

        answered = False
        with self._tracer.start_as_current_span(
            f"{method} {target}" if target else method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=span_attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = await call_next(message)
            except MessageRefused as refused:
                # Refused by message middleware inside this one: the client gets this code.
                code = str(refused.code)
                attributes["error.type"] = attributes["rpc.response.status_code"] = code
                span.set_status(StatusCode.ERROR, refused.message)
                raise
            except MCPError as error:
                code = str(error.error.code)
                attributes["error.type"] = attributes["rpc.response.status_code"] = code
                span.set_status(StatusCode.ERROR, error.error.message)
                raise
            except ValidationError:
                # As the SDK answers: the parameters were invalid (pydantic's text
                # carries client input, so it stays off the span).
                code = str(types.INVALID_PARAMS)
                attributes["error.type"] = attributes["rpc.response.status_code"] = code
                span.set_status(StatusCode.ERROR, "Invalid request parameters")
                raise
            except BaseException as error:
                attributes["error.type"] = type(error).__qualname__
                span.record_exception(error)
                span.set_status(StatusCode.ERROR, type(error).__qualname__)
                raise
            else:
                answered = True
                if method == "tools/call" and _is_tool_error(result):
                    attributes["error.type"] = "tool_error"
                    span.set_status(StatusCode.ERROR)
                return result
            finally:
                if "error.type" in attributes:
                    span.set_attribute("error.type", attributes["error.type"])
                if "rpc.response.status_code" in attributes:
                    span.set_attribute(
                        "rpc.response.status_code", attributes["rpc.response.status_code"]
                    )
                if method in _NAMED and isinstance(name, str):
                    attributes[_NAMED[method]] = name if answered else OTHER
                self._duration.record(time.perf_counter() - started, attributes)


_NAMED = {"tools/call": "gen_ai.tool.name", "prompts/get": "gen_ai.prompt.name"}
"""Methods whose ``name`` parameter goes into span names and metrics, and the attribute."""


def _is_tool_error(result: Any) -> bool:
    if isinstance(result, types.CallToolResult):
        return bool(result.is_error)
    return isinstance(result, Mapping) and result.get("isError") is True


class OpenSessions:
    """The MCP sessions in use: those that sent a message within the SDK's idle timeout.

    Message middleware sees session ids but not when a session ends (a ``DELETE`` or
    the SDK's idle timeout are not messages), so a session counts from its first
    message after ``initialize`` until :data:`SESSION_IDLE_TIMEOUT` seconds after its
    last one, when the SDK would have ended it anyway. A session the client deleted
    counts until then too. stdio and stateless HTTP have no sessions.

    Args:
        idle_timeout: Seconds after its last message a session stops counting.
        clock: Monotonic seconds (for tests).
    """

    def __init__(
        self,
        idle_timeout: float = SESSION_IDLE_TIMEOUT,
        clock: Any = time.monotonic,
    ) -> None:
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._last_seen: dict[str, float] = {}

    def seen(self, session_id: str) -> None:
        """Note a message of ``session_id`` now."""
        last_seen = self._last_seen
        # Re-inserted at the end, so the dict stays ordered oldest first.
        last_seen.pop(session_id, None)
        last_seen[session_id] = self._clock()
        if len(last_seen) > MAX_TRACKED_SESSIONS:
            self._forget_idle()
            while len(last_seen) > MAX_TRACKED_SESSIONS:
                del last_seen[next(iter(last_seen))]

    def count(self) -> int:
        """How many sessions are in use now."""
        self._forget_idle()
        return len(self._last_seen)

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        """The gauge's callback, asked at each export or scrape."""
        return [Observation(self.count())]

    def _forget_idle(self) -> None:
        oldest_kept = self._clock() - self.idle_timeout
        last_seen = self._last_seen
        while last_seen:
            session_id = next(iter(last_seen))
            if last_seen[session_id] >= oldest_kept:
                break
            del last_seen[session_id]
