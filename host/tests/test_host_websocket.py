"""MCP over WebSocket in process: the session, the guards on the handshake, bad frames."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.types import ASGIApp
from starlette.websockets import WebSocketDisconnect

from plugbay import Context
from plugbay.assembly import Assembly
from plugbay.auth import AuthenticationFailed, HttpRequestInfo, Principal
from plugbay.hosting.host_check import HostCheck, HostCheckMiddleware
from plugbay.hosting.http_auth import AuthenticationMiddleware
from plugbay.server import PlugbayServer
from plugbay.transports import http_app, transport_security
from plugbay.websocket import (
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED_DATA,
    WEBSOCKET_PATH,
    websocket_route,
)

BASE = "http://127.0.0.1:8000"
URL = "ws://127.0.0.1:8000/ws"
KEY = "pbk_" + "w" * 43
AUTHORIZED = {"authorization": f"Bearer {KEY}"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "ws-test", "version": "1"},
    },
}


class OneKey:
    """An auth backend that knows one bearer key, as ``ws-bot``."""

    name = "one-key"

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        value = request.headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return None
        if value.removeprefix("Bearer ") != KEY:
            raise AuthenticationFailed("unknown key")
        return Principal(name="ws-bot")

    def challenge(self) -> str | None:
        return 'Bearer realm="plugbay"'


async def whoami(ctx: Context) -> dict[str, Any]:
    """Who is calling."""
    return {"name": ctx.principal.name}


def serving_websocket(assembly: Assembly, host: str = "127.0.0.1") -> Starlette:
    """``http_app`` with ``/ws``, guarded as its MCP endpoints are.

    Until ``plugbay.transports.http_app`` serves ``/ws`` itself, the route is added here
    with the same guards it builds (Host check, then authentication).
    """
    app = http_app(assembly, host=host)
    if any(getattr(route, "path", None) == WEBSOCKET_PATH for route in app.routes):
        return app
    security = transport_security(assembly, host)
    check = HostCheck.from_settings(security) if security is not None else None

    def guarded(inner: ASGIApp) -> ASGIApp:
        checked: ASGIApp = AuthenticationMiddleware(inner, list(assembly.auth_backends))
        return checked if check is None else HostCheckMiddleware(checked, check)

    limit = assembly.config.server.max_request_body_bytes
    route = websocket_route(PlugbayServer(assembly), guard=guarded, max_message_bytes=limit)
    app.router.routes.append(route)
    return app


def ask(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Send a request and return its answer (skipping notifications)."""
    ws.send_text(json.dumps(message))
    while True:
        answer: dict[str, Any] = json.loads(ws.receive_text())
        if "id" in answer:
            return answer


def initialize(ws: Any) -> dict[str, Any]:
    answer = ask(ws, INITIALIZE)
    ws.send_text(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    return answer


def test_a_session_lists_and_calls_as_the_authenticated_principal(build, bundle) -> None:
    app = serving_websocket(build(bundle(tools=[whoami], auth=[OneKey()])))
    with (
        TestClient(app, base_url=BASE) as http,
        http.websocket_connect(URL, subprotocols=["mcp"], headers=AUTHORIZED) as ws,
    ):
        assert ws.accepted_subprotocol == "mcp"
        assert initialize(ws)["result"]["serverInfo"]["name"]
        listed = ask(ws, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        assert [tool["name"] for tool in listed["result"]["tools"]] == ["whoami"]
        called = ask(
            ws,
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "whoami", "arguments": {}},
            },
        )
        assert called["result"]["structuredContent"] == {"name": "ws-bot"}


def test_without_a_credential_the_handshake_gets_the_401_and_its_challenge(build, bundle) -> None:
    app = serving_websocket(build(bundle(tools=[whoami], auth=[OneKey()])))
    with TestClient(app, base_url=BASE) as http:
        with (
            pytest.raises(WebSocketDenialResponse) as denied,
            http.websocket_connect(URL, subprotocols=["mcp"]),
        ):
            pytest.fail("the handshake was accepted")
        assert denied.value.status_code == 401
        assert denied.value.json()["error"] == "unauthorized"
        assert denied.value.headers["www-authenticate"].lower().startswith("bearer")
        with (
            pytest.raises(WebSocketDenialResponse) as wrong,
            http.websocket_connect(
                URL,
                subprotocols=["mcp"],
                headers={"authorization": "Bearer pbk_" + "x" * 43},
            ),
        ):
            pytest.fail("the handshake was accepted")
        assert wrong.value.status_code == 401


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "evil.example:8000"}, 421),
        ({"host": "127.0.0.1:8000.evil.example"}, 421),
        ({"origin": "http://evil.example"}, 403),
    ],
)
def test_a_foreign_host_or_origin_is_refused_before_authentication(
    build, bundle, headers: dict[str, str], status: int
) -> None:
    app = serving_websocket(build(bundle(tools=[whoami], auth=[OneKey()])))
    with (
        TestClient(app, base_url=BASE) as http,
        pytest.raises(WebSocketDenialResponse) as denied,
        http.websocket_connect(URL, subprotocols=["mcp"], headers={**AUTHORIZED, **headers}),
    ):
        pytest.fail("the handshake was accepted")
    assert denied.value.status_code == status


def test_a_client_that_does_not_offer_the_mcp_subprotocol_is_told_to(build, bundle) -> None:
    app = serving_websocket(build(bundle(tools=[whoami])))
    with (
        TestClient(app, base_url=BASE) as http,
        pytest.raises(WebSocketDenialResponse) as denied,
        http.websocket_connect(URL, subprotocols=["graphql-ws"]),
    ):
        pytest.fail("the handshake was accepted")
    assert denied.value.status_code == 400
    assert "'mcp'" in denied.value.text


def test_unreadable_frames_are_answered_and_the_session_goes_on(build, bundle) -> None:
    app = serving_websocket(build(bundle(tools=[whoami])))
    with (
        TestClient(app, base_url=BASE) as http,
        http.websocket_connect(URL, subprotocols=["mcp"]) as ws,
    ):
        initialize(ws)
        ws.send_text("{not json")
        parse_error = json.loads(ws.receive_text())
        assert parse_error["id"] is None
        assert parse_error["error"]["code"] == -32700
        ws.send_text(json.dumps({"jsonrpc": "2.0", "id": 7, "nonsense": True}))
        invalid = json.loads(ws.receive_text())
        assert invalid["id"] == 7
        assert invalid["error"]["code"] == -32600
        assert ask(ws, {"jsonrpc": "2.0", "id": 8, "method": "ping"})["result"] == {}


def test_a_frame_over_the_body_limit_closes_with_1009(build, bundle) -> None:
    assembly = build(bundle(tools=[whoami]), toml="[server]\nmax_request_body_bytes = 1024\n")
    app = serving_websocket(assembly)
    with (
        TestClient(app, base_url=BASE) as http,
        http.websocket_connect(URL, subprotocols=["mcp"]) as ws,
    ):
        initialize(ws)
        padding = "é" * 600  # 600 characters, 1,200 bytes
        ws.send_text(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping", "x": padding}))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CLOSE_TOO_BIG


def test_a_binary_frame_closes_with_1003(build, bundle) -> None:
    app = serving_websocket(build(bundle(tools=[whoami])))
    with (
        TestClient(app, base_url=BASE) as http,
        http.websocket_connect(URL, subprotocols=["mcp"]) as ws,
    ):
        initialize(ws)
        ws.send_bytes(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"}).encode())
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CLOSE_UNSUPPORTED_DATA


async def test_without_the_denial_extension_a_refused_handshake_is_closed_with_1008(
    build, bundle
) -> None:
    # An ASGI server that cannot send an HTTP response to a handshake gets a close,
    # which it turns into its own refusal (uvicorn: 403).
    assembly = build(bundle(tools=[whoami], auth=[OneKey()]))

    def guarded(inner: ASGIApp) -> ASGIApp:
        return AuthenticationMiddleware(inner, list(assembly.auth_backends))

    route = websocket_route(PlugbayServer(assembly), guard=guarded, max_message_bytes=1024)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": WEBSOCKET_PATH,
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "subprotocols": ["mcp"],
        "extensions": {},
    }
    await route.app(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def ask_the_model(ctx: Context) -> str:
    """Ask the client's model."""
    sampled = await ctx.sample("Say hello", max_tokens=10)
    return f"the model said {sampled.text}"


def test_the_server_asks_the_client_over_the_same_connection(build, bundle) -> None:
    app = serving_websocket(build(bundle(tools=[ask_the_model])))
    sampling = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": {"sampling": {}}}}
    call = {"name": "ask_the_model", "arguments": {}}
    with (
        TestClient(app, base_url=BASE) as http,
        http.websocket_connect(URL, subprotocols=["mcp"]) as ws,
    ):
        initialize_with = ask(ws, sampling)
        assert initialize_with["result"]
        ws.send_text(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        ws.send_text(
            json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
        )
        question = json.loads(ws.receive_text())
        assert question["method"] == "sampling/createMessage"
        answer = {"role": "assistant", "content": {"type": "text", "text": "hello"}, "model": "m"}
        ws.send_text(json.dumps({"jsonrpc": "2.0", "id": question["id"], "result": answer}))
        result = json.loads(ws.receive_text())
        assert result["id"] == 2
        assert result["result"]["content"] == [{"type": "text", "text": "the model said hello"}]
