"""The "how it runs" hooks through the real host: routes, ASGI wrappers, lifespan, stages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client
from mcp.server.streamable_http import EventStore
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.testclient import TestClient

from plugbay import AssemblyError, Call, CallNext, CallRefused, Principal, hookimpl
from plugbay.server import PlugbayServer
from plugbay.transports import http_app, serve_stdio

BASE = "http://127.0.0.1:8000"
LOCAL = ("127.0.0.1", 50000)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream"}


class TokenBackend:
    """Accepts ``Authorization: Bearer ok`` only."""

    name = "token"

    async def authenticate(self, request: Any) -> Principal | None:
        if request.headers.get("authorization") == "Bearer ok":
            return Principal(name="ok")
        return None

    def challenge(self) -> str | None:
        return 'Bearer realm="test"'


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello")


async def whoami(request: Request) -> Response:
    return JSONResponse({"path": request.url.path})


def test_routes_are_served_public_or_behind_authentication(build: Any, bundle: Any) -> None:
    routes = [
        (hello, {"path": "/hello", "public": True}),
        (whoami, {"path": "/private", "methods": ["GET", "POST"]}),
    ]
    app = http_app(build(bundle(routes=routes, auth=[TokenBackend()])))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        assert http.get("/hello").text == "hello"
        assert http.get("/private").status_code == 401
        allowed = http.post("/private", headers={"authorization": "Bearer ok"})
        assert allowed.json() == {"path": "/private"}
        # The Host check applies to every non-public route, as to the MCP endpoint.
        rebound = http.get(
            "/private", headers={"authorization": "Bearer ok", "host": "evil.example"}
        )
        assert rebound.status_code in (403, 421)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"path": "/mcp"}, "the path /mcp is served already"),
        ({"path": "/readyz"}, "the path /readyz is served already"),
        ({"path": "metrics"}, "path='metrics'"),
        ({"path": "/x", "methods": "GET"}, "methods='GET' must be a list"),
    ],
)
def test_a_route_that_cannot_be_served_fails_its_plugin(
    build: Any, bundle: Any, options: dict[str, Any], reason: str
) -> None:
    assembly = build(bundle(routes=[(hello, options)]))
    (error,) = assembly.registry.plugins["test"].errors
    assert error.startswith("register_routes: ")
    assert reason in error
    assert assembly.extensions.routes == []


def test_a_path_taken_by_an_earlier_plugin_fails_the_later_one(build: Any, bundle: Any) -> None:
    first = bundle(routes=[(hello, {"path": "/status"})])
    second = bundle(routes=[(whoami, {"path": "/status"})])
    # pluggy calls the plugin registered last first: "second" claims the path.
    assembly = build({"first": first, "second": second})
    assert [route.plugin for route in assembly.extensions.routes] == ["second"]
    assert "the path /status is served already" in assembly.registry.plugins["first"].errors[0]


def test_asgi_wrappers_run_outermost_first_and_before_authentication(
    build: Any, bundle: Any
) -> None:
    seen: list[str] = []

    def wrapper(label: str, refuse: bool = False) -> Callable[[Any], Any]:
        def wrap(app: Any) -> Any:
            async def wrapped(scope: Any, receive: Any, send: Any) -> None:
                seen.append(f"{label}: {dict(scope['headers']).get(b'authorization')}")
                if refuse and scope["client"][0] == "10.9.9.9":
                    await PlainTextResponse("not from there", status_code=403)(scope, receive, send)
                    return
                await app(scope, receive, send)

            return wrapped

        return wrap

    plugin = bundle(
        wrappers=[wrapper("outer"), wrapper("inner", refuse=True)],
        auth=[TokenBackend()],
        routes=[(hello, {"path": "/private"}), (whoami, {"path": "/open", "public": True})],
    )
    with TestClient(http_app(build(plugin)), base_url=BASE, client=("10.9.9.9", 4000)) as http:
        # Refused by the wrapper before any backend saw the (wrong) credential.
        refused = http.post("/mcp", json=INITIALIZE, headers={"authorization": "Bearer no"})
        assert (refused.status_code, refused.text) == (403, "not from there")
        assert http.get("/open").status_code == 200  # public routes are not wrapped
    assert seen == ["outer: b'Bearer no'", "inner: b'Bearer no'"]
    seen.clear()
    with TestClient(http_app(build(plugin)), base_url=BASE, client=LOCAL) as http:
        assert http.get("/private", headers={"authorization": "Bearer no"}).status_code == 401
        assert http.get("/healthz").status_code == 200
    assert seen == ["outer: b'Bearer no'", "inner: b'Bearer no'"]


def _lifespan(label: str, events: list[str], fail: bool = False) -> Callable[[], Any]:
    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        if fail:
            raise ConnectionError("the collector is unreachable")
        events.append(f"{label} in")
        try:
            yield
        finally:
            events.append(f"{label} out")

    return lifespan


def test_lifespans_wrap_the_instances_in_order(build: Any, bundle: Any) -> None:
    from plugbay import Connector, NoSettings, tool

    events: list[str] = []

    class Tracked(Connector[NoSettings]):
        name = "tracked"

        async def start(self) -> None:
            events.append("start")

        async def stop(self) -> None:
            events.append("stop")

        @tool
        def ping(self) -> str:
            """Answer pong."""
            return "pong"

    plugin = bundle(
        connectors=[Tracked],
        lifespans=[_lifespan("first", events), _lifespan("second", events)],
    )
    app = http_app(build(plugin))
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        assert http.get("/healthz").status_code == 200
        assert events == ["first in", "second in", "start"]
    assert events == ["first in", "second in", "start", "stop", "second out", "first out"]


async def test_a_failing_lifespan_stops_the_server_naming_its_plugin(
    build: Any, bundle: Any
) -> None:
    events: list[str] = []
    # pluggy calls the plugin registered last first: "ok" is entered, then "otel" fails.
    assembly = build(
        {
            "otel": bundle(lifespans=[_lifespan("otel", events, fail=True)]),
            "ok": bundle(lifespans=[_lifespan("ok", events)]),
        }
    )
    with pytest.raises(AssemblyError) as failed:
        async with assembly.extensions.lifespan():
            pass
    assert str(failed.value).startswith("plugin 'otel': its lifespan failed to start: ")
    assert "ConnectionError: the collector is unreachable" in str(failed.value)
    # What was entered before the failure is exited again.
    assert events == ["ok in", "ok out"]


async def test_stdio_enters_the_lifespans(build: Any, bundle: Any, monkeypatch: Any) -> None:
    events: list[str] = []
    assembly = build(bundle(lifespans=[_lifespan("stdio", events)]))

    @asynccontextmanager
    async def closed_streams() -> AsyncIterator[Any]:
        import anyio

        send_in, receive_in = anyio.create_memory_object_stream[Any](1)
        send_out, receive_out = anyio.create_memory_object_stream[Any](10)
        await send_in.aclose()  # the client went away at once
        async with receive_out:
            yield receive_in, send_out

    monkeypatch.setattr("plugbay.transports.stdio_server", closed_streams)
    await serve_stdio(assembly)
    assert events == ["stdio in", "stdio out"]


class RecordingStore(EventStore):
    """An event store that keeps events in memory (enough to see that it is used)."""

    def __init__(self) -> None:
        self.stored: list[Any] = []

    async def store_event(self, stream_id: Any, message: Any) -> Any:
        self.stored.append(message)
        return str(len(self.stored))

    async def replay_events_after(self, last_event_id: Any, send_callback: Any) -> Any:
        return None


def test_the_first_event_store_is_used_when_stateful(build: Any, bundle: Any) -> None:
    first, second = RecordingStore(), RecordingStore()
    # pluggy calls the last registered plugin first: "b" provides the store.
    assembly = build({"a": bundle(event_store=second), "b": bundle(event_store=first)})
    assert assembly.extensions.event_store is first
    app = http_app(assembly, stateless=False)
    with TestClient(app, base_url=BASE, client=LOCAL) as http:
        answer = http.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        assert answer.status_code == 200
    assert first.stored
    assert not second.stored
    stateless = http_app(build({"b": bundle(event_store=RecordingStore())}), stateless=True)
    with TestClient(stateless, base_url=BASE, client=LOCAL) as http:
        assert http.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 200


def test_a_raising_event_store_hook_is_isolated(build: Any, bundle: Any) -> None:
    def provide_event_store() -> Any:
        raise RuntimeError("no redis")

    assembly = build({"store": SimpleNamespace(provide_event_store=hookimpl(provide_event_store))})
    assert assembly.extensions.event_store is None
    assert assembly.registry.plugins["store"].errors == [
        "provide_event_store: RuntimeError: no redis"
    ]


def _layer(label: str, events: list[str], refuse: bool = False) -> Any:
    async def middleware(call: Call, call_next: CallNext) -> Any:
        events.append(f"{label} in")
        try:
            if refuse:
                raise CallRefused("not now", outcome="denied")
            return await call_next(call)
        finally:
            events.append(f"{label} out")

    return middleware


async def test_stages_nest_observe_admit_run_whatever_the_plugin_order(
    build: Any, bundle: Any
) -> None:
    events: list[str] = []

    def record() -> str:
        events.append("tool")
        return "ok"

    plugins = {
        # Registered innermost-first on purpose, and "run" marked tryfirst.
        "runner": SimpleNamespace(
            register_middleware=hookimpl(tryfirst=True)(
                lambda register: register(_layer("run", events), stage="run")
            )
        ),
        "admitter": bundle(middleware=[(_layer("admit", events), {"stage": "admit"})]),
        "observer": SimpleNamespace(
            register_middleware=hookimpl(trylast=True)(
                lambda register: register(_layer("observe", events), stage="observe")
            )
        ),
        "tools": bundle(tools=[record]),
    }
    assembly = build(plugins)
    server = PlugbayServer(assembly)
    async with Client(server.sdk, mode="legacy") as client:
        result = await client.call_tool("record", {})
    assert not result.is_error
    assert events == [
        "observe in",
        "admit in",
        "run in",
        "tool",
        "run out",
        "admit out",
        "observe out",
    ]


async def test_a_refusal_in_admit_is_seen_by_observe_and_stops_run(build: Any, bundle: Any) -> None:
    events: list[str] = []

    def record() -> str:
        events.append("tool")
        return "ok"

    plugin = bundle(
        tools=[record],
        middleware=[
            (_layer("run", events), {}),
            (_layer("admit", events, refuse=True), {"stage": "admit"}),
            (_layer("observe", events), {"stage": "observe"}),
        ],
    )
    server = PlugbayServer(build(plugin))
    async with Client(server.sdk, mode="legacy") as client:
        result = await client.call_tool("record", {})
    assert result.is_error
    assert events == ["observe in", "admit in", "admit out", "observe out"]


def test_an_unknown_stage_is_a_security_failure(build: Any, bundle: Any) -> None:
    assembly = build(bundle(middleware=[(_layer("x", []), {"stage": "before"})]))
    (failure,) = assembly.registry.security_failures
    assert "stage='before' is not one of observe, admit, run" in failure


async def test_visibility_checks_hide_from_lists(build: Any, bundle: Any) -> None:
    def public() -> str:
        return "p"

    def secret() -> str:
        return "s"

    def hide_secrets(principal: Any, kind: str, name: str, instance: str | None) -> bool:
        return name != "secret"

    server = PlugbayServer(build(bundle(tools=[public, secret], visibility=[hide_secrets])))
    async with Client(server.sdk, mode="legacy") as client:
        listed = await client.list_tools()
    assert [tool.name for tool in listed.tools] == ["public"]
