"""The relay lane: pass-through tools answered over real HTTP without the SDK's session path.

Which path answered shows on the wire: the server below answers with SSE streams, and
the lane answers a call with a plain JSON body unless the call streams something first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import Client

from plugbay import (
    Call,
    CallNext,
    Components,
    Connector,
    Context,
    DynamicTool,
    HttpRequestInfo,
    Principal,
    Settings,
    ToolError,
    hookimpl,
)
from plugbay.assembly import Assembly, assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.relay import SessionGate, lane
from plugbay.relay.wire import RelayedRequest
from plugbay.transports import http_app
from plugbay_testing import RawSession, answer_of, events_of
from plugbay_testing.fakes import LocalServer

pytestmark = pytest.mark.anyio

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}}
WAIT_LIMIT = 10.0
"""Seconds a test waits for something that should happen at once (a hang guard)."""


class Upstream(Connector[Settings]):
    """Stands in for a gateway: dynamic tools marked as relays, and one that is not."""

    name = "upstream"

    def __init__(self, instance: str, settings: Settings) -> None:
        super().__init__(instance, settings)
        self.waiting = threading.Event()
        self.cancelled = threading.Event()
        self.contexts: list[Context] = []
        self.release = threading.Event()
        self.holding = 0
        self.two_holding = threading.Event()

    async def components(self) -> Components:
        return Components(
            tools=[
                self._tool("echo", self._echo, relay=True),
                self._tool("chatty", self._chatty, relay=True),
                self._tool("wait", self._wait, relay=True),
                self._tool("refuse", self._refuse, relay=True),
                self._tool("hold", self._hold, relay=True),
                self._tool("local", self._echo, relay=False),
            ]
        )

    @staticmethod
    def _tool(name: str, call: Any, *, relay: bool) -> DynamicTool:
        definition = types.Tool(name=name, description=f"{name}.", input_schema=SCHEMA)
        return DynamicTool(definition=definition, call=call, relay=relay)

    async def _echo(self, arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
        self.contexts.append(context)
        text = str(arguments.get("text", ""))
        return types.CallToolResult(
            content=[types.TextContent(text=text)], structured_content={"text": text}
        )

    async def _chatty(self, arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
        await context.report_progress(1, 2, "half way")
        await context.log("warning", {"said": "careful"}, logger="upstream")
        await context.report_progress(2, 2)
        return types.CallToolResult(content=[types.TextContent(text="done")])

    async def _wait(self, arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
        self.waiting.set()
        try:
            await anyio.sleep(WAIT_LIMIT)
        except anyio.get_cancelled_exc_class():
            self.cancelled.set()
            raise
        return types.CallToolResult(content=[types.TextContent(text="waited")])

    async def _hold(self, arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
        self.holding += 1
        if self.holding >= 2:
            self.two_holding.set()
        await anyio.to_thread.run_sync(self.release.wait, WAIT_LIMIT, abandon_on_cancel=True)
        return types.CallToolResult(content=[types.TextContent(text="released")])

    async def _refuse(self, arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
        raise ToolError("the upstream refused: try another text")


class Plugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(Upstream)


class Keys:
    """``X-Key: <name>`` authenticates as principal ``<name>``."""

    name = "keys"

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        key = request.headers.get("x-key")
        return Principal(name=key) if key else None

    def challenge(self) -> str | None:
        return None


class Recorder:
    """Middleware that records each call and refuses ``echo`` for principal ``mallory``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    async def __call__(self, call: Call, call_next: CallNext) -> Any:
        self.calls.append(call)
        if call.principal.name == "mallory" and call.name == "up_echo":
            raise ToolError("mallory may not use up_echo")
        return await call_next(call)


def assembly_of(*, auth: bool = False, middleware: Any = None, **server: Any) -> Assembly:
    plugins: dict[str, object] = {"upstream": Plugin()}

    class Extras:
        @hookimpl
        def register_middleware(self, register: Any) -> None:
            if middleware is not None:
                register(middleware)

        @hookimpl
        def register_auth(self, register: Any) -> None:
            if auth:
                register(Keys())

    plugins["extras"] = Extras()
    registry = load_plugins({}, extra=plugins, entry_points=False)
    table: dict[str, Any] = {"connectors": {"up": {"plugin": "upstream"}}, "server": server}
    return assemble(registry, parse_config(table, environ={}))


@contextmanager
def serving(
    assembly: Assembly, *, stateless: bool = False, json_response: bool = False
) -> Iterator[str]:
    """The assembly over real HTTP (uvicorn on loopback); yields the MCP endpoint."""
    app = http_app(assembly, stateless=stateless, json_response=json_response)
    with LocalServer(app, lifespan="on") as server:
        yield f"{server.url}/mcp"


def upstream_of(assembly: Assembly) -> Upstream:
    connector = assembly.instances["up"].obj
    assert isinstance(connector, Upstream)
    return connector


# --- which path answers -------------------------------------------------------------------


def test_a_relayed_call_is_answered_on_the_lane_and_others_by_the_sdk() -> None:
    with serving(assembly_of()) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        session = RawSession(http, url).open()
        relayed = session.call("up_echo", arguments={"text": "hi"})
        local = session.call("up_local", arguments={"text": "hi"})
    assert relayed.status_code == 200
    assert relayed.headers["content-type"] == "application/json"
    assert relayed.headers["mcp-session-id"] == session.headers["mcp-session-id"]
    assert relayed.json()["result"] == {
        "content": [{"type": "text", "text": "hi"}],
        "structuredContent": {"text": "hi"},
        "isError": False,
    }
    # A tool that is not a relay takes the SDK's path: this server answers with SSE there.
    assert local.headers["content-type"].startswith("text/event-stream")
    assert answer_of(local)["result"] == relayed.json()["result"]


def test_relay_lane_false_sends_every_call_through_the_sdk() -> None:
    with (
        serving(assembly_of(relay_lane=False)) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        response = RawSession(http, url).open().call("up_echo", arguments={"text": "hi"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert answer_of(response)["result"]["content"] == [{"type": "text", "text": "hi"}]


def test_resumable_streams_keep_every_call_on_the_sdks_path(redis_url: str) -> None:
    recorder = Recorder()
    with (
        serving(assembly_of(middleware=recorder, event_store=redis_url)) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        response = RawSession(http, url).open().call("up_echo", arguments={"text": "hi"})
    # Each SSE event is stored for a client that resumes: the SDK's path does that.
    assert response.headers["content-type"].startswith("text/event-stream")
    assert answer_of(response)["result"]["structuredContent"] == {"text": "hi"}
    assert not isinstance(recorder.calls[0].request, RelayedRequest)


@pytest.mark.parametrize("relay_lane", [True, False])
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_real_client_gets_the_same_answers_on_either_path(
    relay_lane: bool, mode: str
) -> None:
    with serving(assembly_of(relay_lane=relay_lane)) as url:
        async with Client(url, mode=mode) as client:
            echoed = await client.call_tool("up_echo", {"text": "same"})
            refused = await client.call_tool("up_refuse", {})
    assert echoed.structured_content == {"text": "same"}
    assert not echoed.is_error
    assert refused.is_error
    assert refused.content == [types.TextContent(text="the upstream refused: try another text")]


def test_a_session_takes_the_lane_once_its_handshake_is_done() -> None:
    with serving(assembly_of()) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        session = RawSession(http, url).open(initialized=False)
        first = session.call("up_echo", arguments={"text": "1"})
        second = session.call("up_echo", arguments={"text": "2"})
    # Until a message after `initialize` has passed the SDK's gate, the SDK answers.
    assert first.headers["content-type"].startswith("text/event-stream")
    assert answer_of(first)["result"]["structuredContent"] == {"text": "1"}
    assert second.headers["content-type"] == "application/json"
    assert second.json()["result"]["structuredContent"] == {"text": "2"}


def test_stateless_servers_relay_too() -> None:
    with (
        serving(assembly_of(), stateless=True) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        session = RawSession(http, url)
        session.headers["mcp-protocol-version"] = "2025-11-25"
        response = session.call("up_echo", arguments={"text": "no session"})
    assert response.headers["content-type"] == "application/json"
    assert "mcp-session-id" not in response.headers
    assert response.json()["result"]["structuredContent"] == {"text": "no session"}


# --- progress, logs, cancellation -----------------------------------------------------------


async def test_progress_and_log_messages_reach_a_real_client() -> None:
    progress: list[tuple[float, float | None, str | None]] = []
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    with serving(assembly_of()) as url:
        async with Client(url, mode="legacy", logging_callback=on_log) as client:
            result = await client.call_tool("up_chatty", {}, progress_callback=on_progress)
    assert result.content == [types.TextContent(text="done")]
    assert progress == [(1, 2, "half way"), (2, 2, None)]
    assert [(log.level, log.data, log.logger) for log in logs] == [
        ("warning", {"said": "careful"}, "upstream")
    ]


def test_a_call_that_reports_streams_its_answer_as_events() -> None:
    with serving(assembly_of()) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        session = RawSession(http, url).open()
        response = session.call("up_chatty", arguments={}, _meta={"progressToken": "t-1"})
        quiet = session.call("up_chatty", arguments={})
    events = events_of(response)
    assert [event.get("method") for event in events] == [
        "notifications/progress",
        "notifications/message",
        "notifications/progress",
        None,
    ]
    assert events[0]["params"] == {
        "progressToken": "t-1",
        "progress": 1,
        "total": 2,
        "message": "half way",
    }
    assert events[-1]["result"]["content"] == [{"type": "text", "text": "done"}]
    # Without a progress token only the log message precedes the answer.
    assert [event.get("method") for event in events_of(quiet)] == ["notifications/message", None]


def test_json_response_servers_answer_with_json_and_drop_notifications() -> None:
    with (
        serving(assembly_of(), json_response=True) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        session = RawSession(http, url).open()
        response = session.call("up_chatty", arguments={}, _meta={"progressToken": 7})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["result"]["content"] == [{"type": "text", "text": "done"}]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_real_client_cancelling_a_call_cancels_it_on_the_lane(mode: str) -> None:
    # A 2025-11-25 client sends notifications/cancelled; a 2026-07-28 one hangs up.
    recorder = Recorder()
    assembly = assembly_of(middleware=recorder)
    with serving(assembly) as url:
        upstream = upstream_of(assembly)
        async with Client(url, mode=mode) as client:
            await client.call_tool("up_echo", {"text": "settle the handshake"})
            with anyio.fail_after(WAIT_LIMIT):
                async with anyio.create_task_group() as group:
                    group.start_soon(client.call_tool, "up_wait", {})
                    await anyio.to_thread.run_sync(upstream.waiting.wait, WAIT_LIMIT)
                    group.cancel_scope.cancel()
                cancelled = await anyio.to_thread.run_sync(upstream.cancelled.wait, WAIT_LIMIT)
            # The session still serves after the cancellation.
            after = await client.call_tool("up_echo", {"text": "still here"})
    assert cancelled
    assert after.structured_content == {"text": "still here"}
    (waited,) = [call for call in recorder.calls if call.name == "up_wait"]
    assert isinstance(waited.request, RelayedRequest)


def test_a_cancelled_call_is_answered_with_request_cancelled() -> None:
    assembly = assembly_of()
    with serving(assembly) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        upstream = upstream_of(assembly)
        session = RawSession(http, url).open()
        answers: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: answers.append(session.call("up_wait", request_id="w-1", arguments={}))
        )
        caller.start()
        assert upstream.waiting.wait(WAIT_LIMIT)
        cancel = session.cancel("w-1", reason="changed my mind")
        caller.join(WAIT_LIMIT)
    assert cancel.status_code == 202
    assert upstream.cancelled.is_set()
    assert answers[0].json() == {
        "jsonrpc": "2.0",
        "id": "w-1",
        "error": {"code": -32800, "message": "Request cancelled"},
    }


def test_a_quiet_call_gets_keep_alive_pings_on_an_event_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lane, "PING_INTERVAL", 0.05)
    assembly = assembly_of()
    with serving(assembly) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        upstream = upstream_of(assembly)
        session = RawSession(http, url).open()
        message = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "up_hold"}}
        lines: list[str] = []
        with http.stream("POST", url, json=message, headers=session.headers) as response:
            content_type = response.headers["content-type"]
            for line in response.iter_lines():
                lines.append(line)
                if line.startswith(": ping"):
                    upstream.release.set()  # the call answers only once a ping has come
    assert content_type == "text/event-stream"
    assert lines.index(": ping") < len(lines) - 1
    (answer,) = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert answer["result"]["content"] == [{"type": "text", "text": "released"}]


def test_the_graceful_stop_counts_calls_on_the_lane() -> None:
    assembly = assembly_of()
    app = http_app(assembly)
    with LocalServer(app, lifespan="on") as server, httpx.Client(timeout=WAIT_LIMIT) as http:
        upstream = upstream_of(assembly)
        session = RawSession(http, f"{server.url}/mcp").open()
        caller = threading.Thread(
            target=lambda: session.call("up_wait", request_id="w", arguments={})
        )
        caller.start()
        assert upstream.waiting.wait(WAIT_LIMIT)
        in_flight = app.state.shutdown.in_flight
        session.cancel("w")
        caller.join(WAIT_LIMIT)
        after = app.state.shutdown.in_flight
    assert (in_flight, after) == (1, 0)


# --- the same guard rails as the SDK's path -------------------------------------------------


def test_middleware_sees_lane_calls_with_their_principal() -> None:
    recorder = Recorder()
    with (
        serving(assembly_of(auth=True, middleware=recorder)) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        alice = RawSession(http, url, **{"x-key": "alice"}).open()
        mallory = RawSession(http, url, **{"x-key": "mallory"}).open()
        allowed = alice.call("up_echo", arguments={"text": "a"})
        refused = mallory.call("up_echo", arguments={"text": "m"})
    assert allowed.json()["result"]["structuredContent"] == {"text": "a"}
    assert refused.headers["content-type"] == "application/json"
    assert refused.json()["result"] == {
        "content": [{"type": "text", "text": "mallory may not use up_echo"}],
        "isError": True,
    }
    lane_calls = [call for call in recorder.calls if call.name == "up_echo"]
    assert [(call.principal.name, call.instance, call.plugin) for call in lane_calls] == [
        ("alice", "up", "upstream"),
        ("mallory", "up", "upstream"),
    ]
    assert lane_calls[0].request.request_id == 3  # after initialize and ping


def test_a_session_answers_only_the_credential_that_opened_it() -> None:
    with (
        serving(assembly_of(auth=True)) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        alice = RawSession(http, url, **{"x-key": "alice"}).open()
        stolen = alice.call("up_echo", arguments={"text": "x"})
        alice.headers["x-key"] = "mallory"
        foreign = alice.call("up_echo", arguments={"text": "x"})
    assert stolen.status_code == 200
    assert foreign.status_code == 404
    assert foreign.json()["error"]["message"] == "Session not found"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"mcp-session-id": "no-such-session"}, 404),
        ({"accept": "application/json"}, 406),
        ({"host": "evil.example"}, 421),
        ({"content-type": "text/plain"}, 400),
    ],
)
def test_requests_the_sdk_would_refuse_are_refused_the_same_way(
    change: dict[str, str], status: int
) -> None:
    with serving(assembly_of()) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        session = RawSession(http, url).open()
        session.headers.update(change)
        response = session.call("up_echo", arguments={"text": "x"})
    assert response.status_code == status


def test_malformed_and_oversized_bodies_get_the_sdks_answers() -> None:
    with (
        serving(assembly_of(max_request_body_bytes=2048)) as url,
        httpx.Client(timeout=WAIT_LIMIT) as http,
    ):
        session = RawSession(http, url).open()
        truncated = b'{"jsonrpc": "2.0", "method": "tools/ca'
        broken = session.post(truncated)
        huge = session.call("up_echo", arguments={"text": "x" * 4096})
        bad_arguments = session.call("up_echo", arguments=["not", "an", "object"])
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == types.PARSE_ERROR
    assert huge.status_code == 413
    # Left to the SDK, which validates the parameters against the protocol.
    assert answer_of(bad_arguments)["error"]["code"] == types.INVALID_PARAMS


def test_a_deleted_session_is_gone_for_the_lane_too() -> None:
    with serving(assembly_of()) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        session = RawSession(http, url).open()
        deleted = http.delete(url, headers=session.headers)
        after = session.call("up_echo", arguments={"text": "x"})
    assert deleted.status_code == 200
    assert after.status_code == 404


ECHO = {"name": "up_echo"}
ODD_SHAPES = [
    {"jsonrpc": "2.0", "id": 5, "method": "tools/call"},
    {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {**ECHO, "_meta": []}},
    {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {**ECHO, "arguments": "x"}},
    {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {**ECHO, "name": 7}},
    {"jsonrpc": "2.0", "id": True, "method": "tools/call", "params": ECHO},
    {"jsonrpc": "2.0", "id": 1.5, "method": "tools/call", "params": ECHO},
    {"jsonrpc": "1.0", "id": 5, "method": "tools/call", "params": ECHO},
    {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": [ECHO]},
    [{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ECHO}],
    {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {**ECHO, "_meta": {"progressToken": True}},
    },
]


def wire_view(response: httpx.Response) -> tuple[int, str, Any]:
    """What a client can tell apart: status, content type, and the message(s) answered."""
    content_type = response.headers.get("content-type", "").split(";")[0]
    if content_type == "text/event-stream":
        return response.status_code, content_type, events_of(response)
    return response.status_code, content_type, response.content and response.json()


def test_odd_shapes_are_answered_exactly_as_the_sdk_answers_them() -> None:
    answers: dict[bool, list[tuple[int, str, Any]]] = {}
    for enabled in (True, False):
        with (
            serving(assembly_of(relay_lane=enabled)) as url,
            httpx.Client(timeout=WAIT_LIMIT) as http,
        ):
            session = RawSession(http, url).open()
            answers[enabled] = [wire_view(session.post(message)) for message in ODD_SHAPES]
    assert answers[True] == answers[False]
    assert len({status for status, _, _ in answers[True]}) > 1  # the cases differ


def test_a_cancellation_for_no_call_on_the_lane_goes_to_the_sdk() -> None:
    with serving(assembly_of()) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        session = RawSession(http, url).open()
        unknown = session.cancel("never-sent")
        after = session.call("up_echo", arguments={"text": "fine"})
    assert unknown.status_code == 202
    assert after.json()["result"]["structuredContent"] == {"text": "fine"}


# --- 2026-07-28 requests --------------------------------------------------------------------

MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
}


def modern_call(tool: str, *, meta: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": tool, "_meta": {**ENVELOPE, **(meta or {})}, **params},
    }


def modern_headers(tool: str, **changes: str) -> list[tuple[str, str]]:
    headers = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": MODERN,
        "mcp-method": "tools/call",
        "mcp-name": tool,
        **changes,
    }
    return list(headers.items())


LOG_LEVEL = "io.modelcontextprotocol/logLevel"
MODERN_CASES = [
    (modern_call("up_echo", arguments={"text": "hi"}), modern_headers("up_echo")),
    (modern_call("up_refuse"), modern_headers("up_refuse")),
    (
        modern_call("up_chatty", meta={"progressToken": 1, LOG_LEVEL: "info"}),
        modern_headers("up_chatty"),
    ),
    (modern_call("up_chatty", meta={"progressToken": 1}), modern_headers("up_chatty")),
    (modern_call("up_echo"), modern_headers("up_other")),
    (modern_call("up_echo"), [*modern_headers("up_echo"), ("mcp-name", "up_echo")]),
    (modern_call("up_echo"), modern_headers("up_echo", **{"mcp-param-text": "x"})),
    (modern_call("up_echo", meta={LOG_LEVEL: "loud"}), modern_headers("up_echo")),
    ({**modern_call("up_echo"), "params": {"name": "up_echo"}}, modern_headers("up_echo")),
    (modern_call("up_echo"), modern_headers("up_echo", **{"mcp-protocol-version": "2099-01-01"})),
]  # fmt: skip


def test_modern_requests_are_answered_exactly_as_the_sdk_answers_them() -> None:
    answers: dict[bool, list[tuple[int, str, Any]]] = {}
    for enabled in (True, False):
        with (
            serving(assembly_of(relay_lane=enabled)) as url,
            httpx.Client(timeout=WAIT_LIMIT) as http,
        ):
            answers[enabled] = [
                wire_view(http.post(url, json=message, headers=headers))
                for message, headers in MODERN_CASES
            ]
    assert answers[True] == answers[False]
    echoed = answers[True][0]
    assert echoed[:2] == (200, "application/json")
    assert echoed[2]["result"]["resultType"] == "complete"
    assert echoed[2]["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "plugbay"
    chatty = [message.get("method") for message in answers[True][2][2]]
    assert chatty == [
        "notifications/progress",
        "notifications/message",
        "notifications/progress",
        None,
    ]
    # Without a log level opted in, no log message is sent.
    assert [message.get("method") for message in answers[True][3][2]] == [
        "notifications/progress",
        "notifications/progress",
        None,
    ]
    assert len({status for status, _, _ in answers[True]}) > 1  # the cases differ


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_real_client_in_either_era_is_served_on_the_lane(mode: str) -> None:
    recorder = Recorder()
    with serving(assembly_of(middleware=recorder)) as url:
        async with Client(url, mode=mode) as client:
            await client.call_tool("up_echo", {"text": "one"})  # may race the handshake
            await client.call_tool("up_echo", {"text": "two"})
            await client.call_tool("up_local", {"text": "three"})
    paths = {call.arguments["text"]: type(call.request) for call in recorder.calls}
    assert paths["two"] is RelayedRequest
    assert paths["three"] is not RelayedRequest  # not a relay: the SDK's path


def test_a_repeated_session_header_is_read_as_the_sdk_reads_it() -> None:
    statuses: dict[bool, list[int]] = {}
    for enabled in (True, False):
        with (
            serving(assembly_of(relay_lane=enabled)) as url,
            httpx.Client(timeout=WAIT_LIMIT) as http,
        ):
            session = RawSession(http, url).open()
            own = session.headers.pop("mcp-session-id")
            message = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ECHO}
            statuses[enabled] = [
                http.post(
                    url,
                    json=message,
                    headers=[*session.headers.items(), *[("mcp-session-id", v) for v in order]],
                ).status_code
                for order in ((own, "forged"), ("forged", own))
            ]
    assert statuses[True] == statuses[False] == [200, 404]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_concurrent_calls_each_get_their_own_progress_and_answer(mode: str) -> None:
    calls_per_client, clients = 10, 3
    received: dict[tuple[int, int], list[tuple[float, float | None, str | None]]] = {}
    answers: dict[tuple[int, int], types.CallToolResult] = {}

    async def one(client: Client, key: tuple[int, int]) -> None:
        progress = received.setdefault(key, [])

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        answers[key] = await client.call_tool("up_chatty", {}, progress_callback=on_progress)

    with serving(assembly_of()) as url:

        async def client_session(number: int) -> None:
            async with Client(url, mode=mode) as client, anyio.create_task_group() as group:
                for call in range(calls_per_client):
                    group.start_soon(one, client, (number, call))

        with anyio.fail_after(WAIT_LIMIT * 3):
            async with anyio.create_task_group() as group:
                for number in range(clients):
                    group.start_soon(client_session, number)
    assert len(answers) == clients * calls_per_client
    assert all(answer.content == [types.TextContent(text="done")] for answer in answers.values())
    assert all(p == [(1, 2, "half way"), (2, 2, None)] for p in received.values())


def test_a_cancellation_reaches_only_its_own_sessions_call() -> None:
    assembly = assembly_of()
    with serving(assembly) as url, httpx.Client(timeout=WAIT_LIMIT) as http:
        upstream = upstream_of(assembly)
        first, second = RawSession(http, url).open(), RawSession(http, url).open()
        answers: dict[str, httpx.Response] = {}

        def hold(name: str, session: RawSession) -> threading.Thread:
            def run() -> None:
                answers[name] = session.call("up_hold", request_id="same", arguments={})

            thread = threading.Thread(target=run)
            thread.start()
            return thread

        threads = [hold("first", first), hold("second", second)]
        # Both calls run before the first session cancels its request "same".
        assert upstream.two_holding.wait(WAIT_LIMIT)
        assert first.cancel("same").status_code == 202
        threads[0].join(WAIT_LIMIT)
        upstream.release.set()
        threads[1].join(WAIT_LIMIT)
    assert answers["first"].json()["error"]["code"] == -32800
    assert answers["second"].json()["result"]["content"] == [{"type": "text", "text": "released"}]


def test_an_sdk_without_the_session_bookkeeping_the_lane_reads_gets_no_lane() -> None:
    # The lane reads a few of the SDK's private attributes; if an SDK release renames
    # them, requests go down the SDK's own path instead of failing.
    gate = SessionGate(object())  # type: ignore[arg-type]
    gate._ready["a-session"] = object()
    assert gate.session("a-session", {"type": "http"}) is None
    assert gate.session("unknown", {"type": "http"}) is None
