"""The lean HTTP path for tool calls, against a scripted server and edge cases of the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from plugbay_proxy.fastpath import (
    FastPathUnsupported,
    HttpTarget,
    HttpToolCaller,
    UpstreamGone,
    tool_needs_sdk,
)

pytestmark = pytest.mark.anyio

Reply = Callable[[dict[str, Any]], bytes | None]
"""Makes the raw HTTP response to one parsed request (``None``: close without answering)."""


@dataclass
class Scripted:
    """A tiny HTTP/1.1 server that answers each request with the next scripted reply."""

    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = json.loads(await reader.readexactly(length)) if length else None
                request = {"line": request_line.decode().strip(), "headers": headers, "body": body}
                self.requests.append(request)
                make = self.replies.pop(0)
                reply = make(request)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
                if getattr(make, "closes", False):
                    return
        finally:
            writer.close()


@asynccontextmanager
async def scripted(*replies: Reply) -> AsyncIterator[Scripted]:
    script = Scripted(list(replies))
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    script.port = server.sockets[0].getsockname()[1]
    try:
        yield script
    finally:
        server.close()
        await server.wait_closed()


def caller(
    port: int, *, protocol: str = "2026-07-28", session: str | None = None
) -> HttpToolCaller:
    target = HttpTarget.parse(f"http://127.0.0.1:{port}/mcp")
    assert target is not None
    return HttpToolCaller(
        target,
        {"Authorization": "Bearer t0ken"},
        protocol_version=protocol,
        session_id=session,
        client_info={"name": "plugbay-proxy", "version": "0"},
        log_level="info",
        connect_timeout=5,
    )


def json_reply(payload: Callable[[dict[str, Any]], Any], status: str = "200 OK") -> Reply:
    def reply(request: dict[str, Any]) -> bytes:
        body = json.dumps(payload(request)).encode()
        head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        return head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body

    return reply


def result_of(text: str) -> Callable[[dict[str, Any]], Any]:
    return lambda request: {
        "jsonrpc": "2.0",
        "id": request["body"]["id"],
        "result": {"content": [{"type": "text", "text": text}], "resultType": "complete"},
    }


def sse_reply(request: dict[str, Any]) -> bytes:
    token = request["body"]["params"]["_meta"]["progressToken"]
    events = [
        {
            "jsonrpc": "2.0",
            "method": "notifications/message",
            "params": {"level": "info", "data": "working", "logger": "up"},
        },
        {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": token, "progress": 1, "total": 2},
        },
        {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": "someone else", "progress": 9},
        },
        {
            "jsonrpc": "2.0",
            "id": request["body"]["id"],
            "result": {"content": [{"type": "text", "text": "done"}]},
        },
    ]
    stream = b": priming\n\nevent: message\nid: 1\ndata:\n\n" + b"".join(
        b"event: message\r\ndata: " + json.dumps(event).encode() + b"\r\n\r\n" for event in events
    )
    chunks = [stream[i : i + 37] for i in range(0, len(stream), 37)]  # split mid-line
    body = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks)
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + body + b"0\r\n\r\n"


async def ignore(method: str, params: Mapping[str, Any]) -> None:
    return None


async def test_modern_request_shape_and_json_answer() -> None:
    async with scripted(json_reply(result_of("hello"))) as server:
        fast = caller(server.port)
        result = await fast.call_tool(fast.request_id(), "grüße", {"x": 1}, ignore)
        await fast.aclose()
    assert result["content"][0]["text"] == "hello"
    (request,) = server.requests
    assert request["line"] == "POST /mcp HTTP/1.1"
    headers = request["headers"]
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["mcp-protocol-version"] == "2026-07-28"
    assert headers["mcp-method"] == "tools/call"
    assert headers["mcp-name"].startswith("=?base64?")  # a non-ASCII name is encoded
    assert headers["host"] == f"127.0.0.1:{server.port}"
    body = request["body"]
    assert body["method"] == "tools/call"
    assert body["params"]["arguments"] == {"x": 1}
    meta = body["params"]["_meta"]
    assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert meta["io.modelcontextprotocol/logLevel"] == "info"
    assert meta["progressToken"] == body["id"]


async def test_legacy_requests_name_the_session() -> None:
    async with scripted(json_reply(result_of("ok"))) as server:
        fast = caller(server.port, protocol="2025-11-25", session="abc123")
        await fast.call_tool(fast.request_id(), "t", {}, ignore)
        await fast.aclose()
    headers = server.requests[0]["headers"]
    assert headers["mcp-session-id"] == "abc123"
    assert "mcp-method" not in headers
    assert (
        "io.modelcontextprotocol/protocolVersion"
        not in server.requests[0]["body"]["params"]["_meta"]
    )


async def test_event_stream_delivers_notifications_then_the_result() -> None:
    heard: list[tuple[str, Any]] = []

    async def on_notification(method: str, params: Mapping[str, Any]) -> None:
        heard.append((method, params.get("progress", params.get("data"))))

    async with scripted(sse_reply, json_reply(result_of("again"))) as server:
        fast = caller(server.port)
        result = await fast.call_tool(fast.request_id(), "t", {}, on_notification)
        assert result["content"][0]["text"] == "done"
        # The connection was kept alive and is reused.
        again = await fast.call_tool(fast.request_id(), "t", {}, ignore)
        assert again["content"][0]["text"] == "again"
        await fast.aclose()
    assert heard == [
        ("notifications/message", "working"),
        ("notifications/progress", 1),
        ("notifications/progress", 9),
    ]
    assert server.connections == 1


async def test_a_kept_alive_connection_closed_by_the_server_is_retried_once() -> None:
    async with scripted(json_reply(result_of("one")), lambda request: None) as server:
        fast = caller(server.port)
        await fast.call_tool(fast.request_id(), "t", {}, ignore)
        server.replies.append(json_reply(result_of("two")))
        result = await fast.call_tool(fast.request_id(), "t", {}, ignore)
        await fast.aclose()
    assert result["content"][0]["text"] == "two"
    assert server.connections == 2


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        ("307 Temporary Redirect", None, FastPathUnsupported),
        ("404 Not Found", None, UpstreamGone),
        ("401 Unauthorized", None, UpstreamGone),
        ("500 Internal Server Error", None, MCPError),
        (
            "400 Bad Request",
            {"jsonrpc": "2.0", "id": None, "error": {"code": -32602, "message": "bad"}},
            MCPError,
        ),
    ],
)
async def test_refusals(status: str, body: Any, expected: type[Exception]) -> None:
    def reply(request: dict[str, Any]) -> bytes:
        payload = json.dumps(body).encode() if body is not None else b"no"
        kind = "application/json" if body is not None else "text/plain"
        return (
            f"HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {len(payload)}\r\n\r\n"
        ).encode() + payload

    async with scripted(reply) as server:
        fast = caller(server.port, protocol="2025-11-25", session="s")
        with pytest.raises(expected) as raised:
            await fast.call_tool(fast.request_id(), "t", {}, ignore)
        await fast.aclose()
    if body is not None:
        assert isinstance(raised.value, MCPError)
        assert raised.value.error.code == -32602


async def test_json_rpc_errors_and_broken_streams() -> None:
    def error(request: dict[str, Any]) -> Any:
        return {
            "jsonrpc": "2.0",
            "id": request["body"]["id"],
            "error": {"code": -32602, "message": "Unknown tool: t"},
        }

    def cut(request: dict[str, Any]) -> bytes:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        return head + b"transfer-encoding: chunked\r\n\r\n5\r\n: hi\n\r\n"

    cut.closes = True  # type: ignore[attr-defined]  # the connection drops mid-stream

    async with scripted(json_reply(error), cut) as server:
        fast = caller(server.port)
        with pytest.raises(MCPError, match="Unknown tool"):
            await fast.call_tool(fast.request_id(), "t", {}, ignore)
        with pytest.raises(UpstreamGone):
            await fast.call_tool(fast.request_id(), "t", {}, ignore)
        await fast.aclose()


def event_stream(*events: bytes, end: bool = True) -> bytes:
    """A chunked ``text/event-stream`` response of these raw events (left open: ``end``)."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    body = b"".join(f"{len(event):x}\r\n".encode() + event + b"\r\n" for event in events)
    return head + body + (b"0\r\n\r\n" if end else b"")


def message_event(message: dict[str, Any], event_id: str) -> bytes:
    return f"event: message\nid: {event_id}\ndata: {json.dumps(message)}\n\n".encode()


async def test_a_stream_cut_after_an_event_id_is_resumed_with_last_event_id() -> None:
    heard: list[Any] = []

    async def on_notification(method: str, params: Mapping[str, Any]) -> None:
        heard.append(params.get("progress"))

    def progress_of(request: dict[str, Any], value: int) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": "pb-1", "progress": value},
        }

    def cut(request: dict[str, Any]) -> bytes:
        progress = progress_of(request, 1)
        # A priming event with the wait, then the connection drops in the middle of the
        # next event: after its id, before the blank line that completes it.
        unfinished = message_event(progress, "e2")[:-1]
        return event_stream(b"id: e1\nretry: 10\ndata:\n\n", unfinished, end=False)

    cut.closes = True  # type: ignore[attr-defined]

    def resumed(request: dict[str, Any]) -> bytes:
        answer = result_of("resumed")({"body": {"id": "pb-1"}})
        replayed = message_event(progress_of(request, 1), "e2")
        return event_stream(replayed, message_event(answer, "e4"), end=False)

    async with scripted(cut, resumed) as server:
        fast = caller(server.port, protocol="2025-11-25", session="s1")
        result = await fast.call_tool(fast.request_id(), "t", {}, on_notification)
        await fast.aclose()
    assert result["content"][0]["text"] == "resumed"
    post, get = server.requests
    assert post["line"] == "POST /mcp HTTP/1.1"
    assert get["line"] == "GET /mcp HTTP/1.1"
    assert get["body"] is None
    headers = get["headers"]
    # The last id that arrived whole: the message cut in the middle never counted.
    assert headers["last-event-id"] == "e1"
    assert headers["accept"] == "text/event-stream"
    assert headers["mcp-session-id"] == "s1"
    assert headers["mcp-protocol-version"] == "2025-11-25"
    assert headers["authorization"] == "Bearer t0ken"
    assert "content-type" not in headers
    assert heard == [1]  # the event cut off came again, and once only


async def test_a_stream_ended_by_the_server_is_resumed_until_the_answer() -> None:
    def ended(request: dict[str, Any]) -> bytes:
        return event_stream(b"id: 1\nretry: 10\ndata:\n\n")

    log = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": "x"}}

    def polled(request: dict[str, Any]) -> bytes:
        return event_stream(b"id: 2\ndata:\n\n", message_event(log, "3"))

    def answered(request: dict[str, Any]) -> bytes:
        answer = result_of("polled")({"body": {"id": "pb-1"}})
        return event_stream(message_event(answer, "4"), end=False)

    heard: list[str] = []

    async def on_notification(method: str, params: Mapping[str, Any]) -> None:
        heard.append(method)

    async with scripted(ended, polled, answered) as server:
        fast = caller(server.port, protocol="2025-11-25", session="s1")
        result = await fast.call_tool(fast.request_id(), "t", {}, on_notification)
        await fast.aclose()
    assert result["content"][0]["text"] == "polled"
    assert [r["headers"].get("last-event-id") for r in server.requests] == [None, "1", "3"]
    assert heard == ["notifications/message"]


async def test_a_resumption_refused_by_the_server_ends_the_call_at_once() -> None:
    def ended(request: dict[str, Any]) -> bytes:
        return event_stream(b"id: 1\nretry: 10\ndata:\n\n")

    async with scripted(ended, json_reply(lambda request: {}, "404 Not Found")) as server:
        fast = caller(server.port, protocol="2025-11-25", session="s1")
        with pytest.raises(UpstreamGone, match=r"refused to resume it \(HTTP 404\)"):
            await fast.call_tool(fast.request_id(), "t", {}, ignore)
        await fast.aclose()
    assert len(server.requests) == 2


async def test_resumptions_that_bring_nothing_new_give_up() -> None:
    def ended(request: dict[str, Any]) -> bytes:
        return event_stream(b"id: 1\nretry: 10\ndata:\n\n")

    def empty(request: dict[str, Any]) -> bytes:
        return event_stream()

    async with scripted(ended, empty, empty, empty) as server:
        fast = caller(server.port, protocol="2025-11-25", session="s1")
        with pytest.raises(UpstreamGone, match="3 attempts to resume it failed"):
            await fast.call_tool(fast.request_id(), "t", {}, ignore)
        await fast.aclose()
    assert len(server.requests) == 4


async def test_streams_without_an_id_or_of_the_2026_era_are_not_resumed() -> None:
    def ended(request: dict[str, Any]) -> bytes:
        return event_stream(b"id: 1\nretry: 10\ndata:\n\n")

    def anonymous(request: dict[str, Any]) -> bytes:
        return event_stream(b"retry: 10\ndata:\n\n")

    async with scripted(ended, anonymous) as server:
        modern = caller(server.port)
        with pytest.raises(UpstreamGone, match="ended without an answer"):
            await modern.call_tool(modern.request_id(), "t", {}, ignore)
        legacy = caller(server.port, protocol="2025-11-25", session="s1")
        with pytest.raises(UpstreamGone, match="ended without an answer"):
            await legacy.call_tool(legacy.request_id(), "t", {}, ignore)
        await modern.aclose()
        await legacy.aclose()
    assert [request["line"].split()[0] for request in server.requests] == ["POST", "POST"]


async def test_nothing_listens() -> None:
    async with scripted() as server:
        port = server.port
    fast = caller(port)
    with pytest.raises(UpstreamGone, match="ConnectionRefusedError"):
        await fast.call_tool(fast.request_id(), "t", {}, ignore)


def test_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    target = HttpTarget.parse("https://example.com/mcp?x=1")
    assert target == HttpTarget("example.com", 443, "/mcp?x=1", secure=True)
    assert target.authority == "example.com"
    assert HttpTarget.parse("http://[::1]:8000/").authority == "[::1]:8000"  # type: ignore[union-attr]
    assert HttpTarget.parse("http://user:pw@example.com/mcp") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert HttpTarget.parse("https://example.com/mcp") is None


def test_tools_with_header_mirrored_arguments_need_the_sdk() -> None:
    import mcp_types as types

    plain = types.Tool(name="t", input_schema={"type": "object"})
    mirrored = types.Tool(
        name="m",
        input_schema={
            "type": "object",
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
        },
    )
    assert not tool_needs_sdk(plain)
    assert tool_needs_sdk(mirrored)
