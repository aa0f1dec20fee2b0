"""The HTTP surface in process: session ownership, body limits, per-instance timeouts,
draining. (Authentication backends are plugbay-auth's, tested in plugins/auth.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.testclient import TestClient

from plugbay import Connector, Context, NoSettings, tool
from plugbay.auth import HttpRequestInfo, Principal
from plugbay.hosting.shutdown import GracefulShutdown
from plugbay.transports import http_app

BASE = "http://127.0.0.1:8000"
RESOURCE = f"{BASE}/mcp"
METADATA = f"{BASE}/.well-known/oauth-protected-resource/mcp"
JSON_RPC = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
KEY = "pbk_" + "q" * 43


async def whoami(ctx: Context) -> dict[str, Any]:
    """Who is calling."""
    return {"name": ctx.principal.name, "scopes": sorted(ctx.principal.scopes)}


class KeyBackend:
    """Knows callers by the ``x-api-key`` header: enough to bind sessions to a principal."""

    name = "keys"

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        holder = self.keys.get(request.headers.get("x-api-key", ""))
        return None if holder is None else Principal(name=holder)

    def challenge(self) -> str | None:
        return 'Bearer realm="test"'


@asynccontextmanager
async def client_for(
    app: Any, headers: dict[str, str], mode: str = "auto"
) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url=BASE, headers=headers
    )
    async with (
        http,
        Client(streamable_http_client(RESOURCE, http_client=http), mode=mode) as client,
    ):
        yield client


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Any]:
    async with app.router.lifespan_context(app):
        yield app


async def test_a_session_belongs_to_the_credential_that_opened_it(build, bundle) -> None:
    other = "pbk_" + "z" * 43
    backend = KeyBackend({KEY: "alice", other: "mallory"})
    app = http_app(build(bundle(tools=[whoami], auth=[backend])), stateless=False)
    async with serving(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
            initialize = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
            opened = await http.post(
                "/mcp", json=initialize, headers={**JSON_RPC, "x-api-key": KEY}
            )
            session = opened.headers["mcp-session-id"]
            headers = {**JSON_RPC, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
            stolen = await http.post(
                "/mcp", json=LIST_TOOLS, headers={**headers, "x-api-key": other}
            )
            assert stolen.status_code == 404
            await http.delete("/mcp", headers={**headers, "x-api-key": KEY})


def test_request_bodies_over_the_limit_are_refused(build, bundle) -> None:
    app = http_app(
        build(bundle(tools=[whoami]), toml="[server]\nmax_request_body_bytes = 2048\n"),
        stateless=True,
    )
    big = {**LIST_TOOLS, "params": {"_meta": {"padding": "x" * 4096}}}
    with TestClient(app, base_url=BASE) as http:
        assert http.post("/mcp", json=big, headers=JSON_RPC).status_code == 413
        assert http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC).status_code == 200


class Sleeper(Connector[NoSettings]):
    name = "sleeper"

    @tool
    async def nap(self, seconds: float) -> str:
        """Sleep a while."""
        await anyio.sleep(seconds)
        return "rested"

    @tool(timeout=5)
    async def long_nap(self, seconds: float) -> str:
        """Sleep a while, with a timeout of its own."""
        await anyio.sleep(seconds)
        return "rested"


async def test_an_instance_may_set_its_own_call_timeout(build, bundle) -> None:
    toml = (
        '[server]\ncall_timeout = 60\n[connectors.quick]\nplugin = "sleeper"\ncall_timeout = 0.05\n'
    )
    assembly = build(bundle(connectors=[Sleeper], tools=[whoami]), toml=toml)
    assert assembly.catalog.tools["quick_nap"].timeout == 0.05
    assert assembly.catalog.tools["quick_long_nap"].timeout == 5
    assert assembly.catalog.tools["whoami"].timeout == 60
    from plugbay.server import PlugbayServer

    async with Client(PlugbayServer(assembly).sdk, mode="legacy") as client:
        result = await client.call_tool("quick_nap", {"seconds": 1})
    assert result.is_error
    assert "did not finish within 0.05 seconds" in result.content[0].text  # type: ignore[union-attr]


def test_a_bad_instance_call_timeout_is_a_configuration_error(build, bundle) -> None:
    from plugbay.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[connectors.quick\]: 'call_timeout' must be a number"):
        build(
            bundle(connectors=[Sleeper]),
            toml='[connectors.quick]\nplugin = "sleeper"\ncall_timeout = "soon"\n',
        )


async def test_draining_waits_for_calls_in_flight_up_to_the_grace() -> None:
    shutdown = GracefulShutdown(grace=2)

    class Ctx:
        method = "tools/call"

    finished: list[str] = []

    async def call_next(ctx: Any) -> str:
        await anyio.sleep(0.2)
        finished.append("call")
        return "done"

    async with anyio.create_task_group() as group:
        group.start_soon(shutdown.track, Ctx(), call_next)
        await anyio.sleep(0.05)
        assert shutdown.in_flight == 1
        assert await shutdown.drain() == 0
        assert finished == ["call"]
    impatient = GracefulShutdown(grace=0.05)
    async with anyio.create_task_group() as group:
        group.start_soon(impatient.track, Ctx(), call_next)
        await anyio.sleep(0.01)
        assert await impatient.drain() == 1
    listen = GracefulShutdown(grace=1)

    class Listen:
        method = "subscriptions/listen"

    async def stream(ctx: Any) -> None:
        assert listen.in_flight == 0  # long-lived streams are not waited for

    await listen.track(Listen(), stream)
