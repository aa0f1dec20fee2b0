"""Message middleware: plugbay's own type around every MCP message, in pluggy's order."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS
from starlette.requests import Request

from plugbay import IncomingMessage, MessageRefused, Principal, hookimpl, tool
from plugbay.messages import PRINCIPAL_SCOPE_KEY, REFUSAL_CODES, incoming_message
from plugbay.server import RESOURCE_NOT_FOUND, PlugbayServer

pytestmark = pytest.mark.anyio

ERAS = pytest.mark.parametrize("era", ["legacy", "auto"])


class MessagePlugin:
    """Registers the given message middleware, in order, and one tool."""

    def __init__(self, *middleware: Any, tools: tuple[Any, ...] = ()) -> None:
        self.middleware = middleware
        self.tools = tools

    @hookimpl
    def register_message_middleware(self, register: Callable[..., None]) -> None:
        for layer in self.middleware:
            register(layer)

    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        for function in self.tools:
            register(function)


@tool
async def echo(text: str) -> str:
    """Send the text back."""
    return text


def recorder(name: str, seen: list[tuple[str, IncomingMessage]]) -> Any:
    async def middleware(message: IncomingMessage, call_next: Any) -> Any:
        seen.append((name, message))
        return await call_next(message)

    return middleware


@ERAS
async def test_every_message_passes_through_in_pluggy_order(build, era: str) -> None:
    seen: list[tuple[str, IncomingMessage]] = []
    # pluggy calls the plugin registered last first: "outer" wraps "inner".
    assembly = build(
        {
            "inner": MessagePlugin(recorder("inner", seen), tools=(echo,)),
            "outer": MessagePlugin(recorder("outer-1", seen), recorder("outer-2", seen)),
        }
    )
    server = PlugbayServer(assembly)
    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("echo", {"text": "hi"})
    assert result.content[0].text == "hi"  # type: ignore[union-attr]

    calls = [message for name, message in seen if message.method == "tools/call"]
    assert [name for name, message in seen if message.method == "tools/call"] == [
        "outer-1",
        "outer-2",
        "inner",
    ]
    assert all(message is calls[0] for message in calls)
    call = calls[0]
    assert call.params["name"] == "echo"
    assert call.params["arguments"] == {"text": "hi"}
    assert call.request_id is not None
    assert not call.is_notification
    assert call.principal.name == "local"
    assert call.session_id is None  # in-process: a pipe, no session
    assert call.client is None
    assert call.protocol_version
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.method = "tools/list"  # type: ignore[misc]
    with pytest.raises(TypeError):
        call.params["name"] = "other"  # type: ignore[index]

    methods = {message.method for _, message in seen}
    if era == "legacy":
        # The handshake too, and the notification that ends it.
        assert {"initialize", "notifications/initialized"} <= methods
        initialized = next(m for _, m in seen if m.method == "notifications/initialized")
        assert initialized.is_notification


@ERAS
async def test_a_refusal_answers_the_request_with_its_code_and_message(build, era: str) -> None:
    ran: list[str] = []

    @tool
    async def guarded() -> str:
        """Must not run."""
        ran.append("guarded")
        return "ran"

    async def refuse_calls(message: IncomingMessage, call_next: Any) -> Any:
        if message.method == "tools/call":
            raise MessageRefused("Too many requests: slow down", code=-32029)
        return await call_next(message)

    server = PlugbayServer(build({"limits": MessagePlugin(refuse_calls, tools=(guarded,))}))
    async with Client(server.sdk, mode=era) as client:
        tools = await client.list_tools()  # other methods pass
        assert [t.name for t in tools.tools] == ["guarded"]
        with pytest.raises(MCPError) as refused:
            await client.call_tool("guarded", {})
    assert refused.value.error.code == -32029
    assert refused.value.error.message == "Too many requests: slow down"
    assert ran == []


async def test_a_refused_notification_is_dropped(build) -> None:
    refused: list[str] = []

    async def refuse_notifications(message: IncomingMessage, call_next: Any) -> Any:
        if message.is_notification and message.method != "notifications/initialized":
            refused.append(message.method)
            raise MessageRefused("no notifications here")
        return await call_next(message)

    server = PlugbayServer(build({"quiet": MessagePlugin(refuse_notifications, tools=(echo,))}))
    async with Client(server.sdk, mode="legacy") as client:
        with pytest.warns(MCPDeprecationWarning):
            await client.session.send_roots_list_changed()
        result = await client.call_tool("echo", {"text": "still here"})
    assert result.content[0].text == "still here"  # type: ignore[union-attr]
    assert refused == ["notifications/roots/list_changed"]


async def test_middleware_may_change_the_params_the_server_handles(build) -> None:
    async def shout(message: IncomingMessage, call_next: Any) -> Any:
        if message.method == "tools/call":
            arguments = {"text": message.params["arguments"]["text"].upper()}
            params = {**message.params, "arguments": arguments}
            message = dataclasses.replace(message, params=params)
        return await call_next(message)

    server = PlugbayServer(build({"shout": MessagePlugin(shout, tools=(echo,))}))
    async with Client(server.sdk, mode="legacy") as client:
        result = await client.call_tool("echo", {"text": "quiet"})
    assert result.content[0].text == "QUIET"  # type: ignore[union-attr]


async def test_middleware_sees_the_result_and_the_failures(build) -> None:
    outcomes: list[Any] = []

    async def observe(message: IncomingMessage, call_next: Any) -> Any:
        try:
            result = await call_next(message)
        except MCPError as error:
            outcomes.append((message.method, error.error.code))
            raise
        outcomes.append((message.method, result))
        return result

    server = PlugbayServer(build({"observe": MessagePlugin(observe, tools=(echo,))}))
    async with Client(server.sdk, mode="legacy") as client:
        await client.call_tool("echo", {"text": "x"})
        with pytest.raises(MCPError):
            await client.read_resource("nothing://here")
    call = next(result for method, result in outcomes if method == "tools/call")
    assert call["content"] == [{"type": "text", "text": "x"}]  # the wire form, a dict
    assert ("resources/read", RESOURCE_NOT_FOUND) in outcomes


async def test_a_middleware_that_crashes_leaks_nothing(build) -> None:
    async def crash(message: IncomingMessage, call_next: Any) -> Any:
        if message.method == "tools/call":
            raise RuntimeError("secret at /etc/plugbay/key")
        return await call_next(message)

    server = PlugbayServer(build({"crash": MessagePlugin(crash, tools=(echo,))}))
    async with Client(server.sdk, mode="legacy") as client:
        with pytest.raises(MCPError) as failed:
            await client.call_tool("echo", {"text": "x"})
    assert failed.value.error.code == INTERNAL_ERROR
    assert "secret" not in failed.value.error.message


def test_refusal_codes_are_limited_to_a_safe_set() -> None:
    assert MessageRefused("no").code == -32600
    for code in (-32600, -32601, -32602, -32603, -32003, -32099):
        assert MessageRefused("no", code=code).code == code
    for code in (-32000, -32001, -32002, -32021, -32022, -32042, -32700, -1, 0, 400, -32100):
        assert code not in REFUSAL_CODES
        with pytest.raises(ValueError, match="not allowed"):
            MessageRefused("no", code=code)
    with pytest.raises(ValueError, match="characters"):
        MessageRefused("  ")
    with pytest.raises(ValueError, match="characters"):
        MessageRefused("x" * 501)
    assert INVALID_PARAMS in REFUSAL_CODES


def test_the_message_of_an_http_request_carries_its_session_and_client() -> None:
    alice = Principal(name="alice")
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(b"mcp-session-id", b"abc123")],
        "query_string": b"",
        "client": ("10.1.2.3", 4567),
        PRINCIPAL_SCOPE_KEY: alice,
    }
    ctx: ServerRequestContext[Any, Any] = ServerRequestContext(
        session=None,  # type: ignore[arg-type]
        lifespan_context={},
        protocol_version="2025-11-25",
        method="tools/list",
        params={"cursor": "c"},
        request_id=7,
        request=Request(scope),
    )
    message = incoming_message(ctx)
    assert message == IncomingMessage(
        method="tools/list",
        params={"cursor": "c"},
        request_id=7,
        session_id="abc123",
        principal=alice,
        protocol_version="2025-11-25",
        client=("10.1.2.3", 4567),
    )
    legacy_sse = Request({**scope, "headers": [], "query_string": b"session_id=s1"})
    assert incoming_message(dataclasses.replace(ctx, request=legacy_sse)).session_id == "s1"


def test_the_server_keeps_no_sdk_default_middleware(build) -> None:
    """The SDK's span middleware is dropped; a telemetry plugin brings its own."""
    server = PlugbayServer(build({"plain": MessagePlugin(tools=(echo,))}))
    layers = server.sdk.middleware
    modules = {getattr(layer, "__module__", type(layer).__module__) for layer in layers}
    assert modules == {"plugbay.server", "plugbay.notifications"}
