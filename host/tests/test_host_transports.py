"""The HTTP application, in process: authentication, /healthz, lifecycle, host checks."""

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.testclient import TestClient

from plugbay import AuthenticationFailed, Connector, Context, HttpRequestInfo, Principal, tool
from plugbay.auth import AuthBackend
from plugbay.hosting.connections import GuardedHttpProtocol
from plugbay.transports import STATELESS_ENV, create_app, http_app, transport_security

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:8000"
JSON_RPC = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


class ApiKeys:
    """Accepts ``X-Api-Key: good`` and refuses ``X-Api-Key: revoked`` outright."""

    name = "api-keys"

    def __init__(self) -> None:
        self.seen: list[HttpRequestInfo] = []

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        self.seen.append(request)
        key = request.headers.get("x-api-key")
        if key == "good":
            return Principal(
                name="alice", scopes=frozenset({"notes:read"}), claims={"team": "blue"}
            )
        if key == "revoked":
            raise AuthenticationFailed("this API key was revoked; ask for a new one")
        if key == "blank":
            raise AuthenticationFailed()
        return None

    def challenge(self) -> str | None:
        return 'ApiKey realm="plugbay"'


class Silent:
    """A backend that never recognises anything and has no challenge."""

    name = "silent"

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        return None

    def challenge(self) -> str | None:
        return None


async def whoami(ctx: Context) -> dict[str, Any]:
    """Who is calling."""
    principal = ctx.principal
    return {
        "name": principal.name,
        "scopes": sorted(principal.scopes),
        "claims": dict(principal.claims),
    }


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        yield


def _client(
    app: Starlette, mode: str, headers: dict[str, str]
) -> tuple[httpx2.AsyncClient, Client]:
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url=BASE, headers=headers
    )
    return http, Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode)


def test_api_keys_satisfies_the_protocol() -> None:
    assert isinstance(ApiKeys(), AuthBackend)


@pytest.mark.parametrize("era", ["legacy", "auto"])
@pytest.mark.parametrize(("stateless", "json_response"), [(True, True), (False, False)])
async def test_the_principal_reaches_the_tool(
    build, bundle, era: str, stateless: bool, json_response: bool
) -> None:
    keys = ApiKeys()
    assembly = build(bundle(tools=[whoami], auth=[Silent(), keys]))
    app = http_app(assembly, stateless=stateless, json_response=json_response)
    async with running(app):
        http, client = _client(app, era, {"x-api-key": "good"})
        async with http, client:
            result = await client.call_tool("whoami", {})
    assert result.structured_content == {
        "name": "alice",
        "scopes": ["notes:read"],
        "claims": {"team": "blue"},
    }
    request = keys.seen[0]
    assert request.path == "/mcp"
    assert request.method == "POST"
    assert request.headers["x-api-key"] == "good"


async def test_without_backends_everyone_is_local(build, bundle) -> None:
    app = http_app(build(bundle(tools=[whoami])), stateless=True, json_response=True)
    async with running(app):
        http, client = _client(app, "legacy", {})
        async with http, client:
            result = await client.call_tool("whoami", {})
    assert result.structured_content["name"] == "local"


def test_unauthenticated_requests_get_401_with_a_challenge(build, bundle) -> None:
    app = http_app(build(bundle(tools=[whoami], auth=[Silent(), ApiKeys()])), stateless=True)
    with TestClient(app, base_url=BASE) as http:
        for headers in ({}, {"x-api-key": "unknown"}):
            response = http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, **headers})
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'ApiKey realm="plugbay"'
            assert response.json() == {
                "error": "unauthorized",
                "error_description": "Authentication required",
            }
        response = http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "x-api-key": "revoked"})
        assert response.status_code == 401
        assert response.json()["error_description"] == "this API key was revoked; ask for a new one"
        response = http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "x-api-key": "blank"})
        assert response.json()["error_description"] == "Invalid credentials"
        assert http.get("/sse").status_code == 401
        assert http.post("/messages/?session_id=x", json=LIST_TOOLS).status_code == 401


def test_no_challenge_no_header(build, bundle) -> None:
    app = http_app(build(bundle(auth=[Silent()])), stateless=True)
    with TestClient(app, base_url=BASE) as http:
        response = http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
    assert response.status_code == 401
    assert "www-authenticate" not in response.headers


def test_healthz_needs_no_authentication(build, bundle) -> None:
    app = http_app(build(bundle(auth=[ApiKeys()])))
    with TestClient(app, base_url=BASE) as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_json_rpc_over_plain_http(build, bundle) -> None:
    app = http_app(
        build(bundle(tools=[whoami], auth=[ApiKeys()])), stateless=True, json_response=True
    )
    headers = {**JSON_RPC, "x-api-key": "good", "mcp-protocol-version": "2025-11-25"}
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}},
    }
    with TestClient(app, base_url=BASE) as http:
        response = http.post("/mcp", json=call, headers=headers)
    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"]["name"] == "alice"


def test_connectors_start_and_stop_with_the_application(build, bundle) -> None:
    events: list[str] = []

    class Pool(Connector):
        name = "pool"

        async def start(self) -> None:
            events.append("start")

        async def stop(self) -> None:
            events.append("stop")

        @tool
        def size(self) -> int:
            return 4

    assembly = build(bundle(connectors=[Pool]))
    app = http_app(assembly)
    assert app.state.assembly is assembly
    with TestClient(app, base_url=BASE):
        assert events == ["start"]
        assert assembly.instances["pool"].status == "ready"
    assert events == ["start", "stop"]
    assert assembly.instances["pool"].status == "stopped"


def test_dns_rebinding_protection_on_loopback(build, bundle) -> None:
    app = http_app(build(bundle(tools=[whoami])), stateless=True, json_response=True)
    with TestClient(app, base_url="http://evil.example.com") as http:
        response = http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
    assert response.status_code in (400, 403, 421)


def test_transport_security_settings(build, bundle) -> None:
    plain = build(bundle())
    for host in ("127.0.0.1", "localhost", "::1"):
        settings = transport_security(plain, host)
        assert settings is not None
        assert settings.enable_dns_rebinding_protection
        assert "localhost:*" in settings.allowed_hosts
    assert transport_security(plain, "0.0.0.0") is None
    assert transport_security(plain, "mcp.example.com") is None
    extra = build(bundle(), toml='[server]\nallowed_hosts = ["mcp.example.com"]\n')
    settings = transport_security(extra, "0.0.0.0")
    assert settings.allowed_hosts == ["mcp.example.com"]
    assert "mcp.example.com" in transport_security(extra, "127.0.0.1").allowed_hosts


def test_legacy_sse_can_be_turned_off_and_the_path_moved(build, bundle) -> None:
    assembly = build(bundle(), toml='[server]\nlegacy_sse = false\npath = "/tools"\n')
    paths = {getattr(route, "path", None) for route in http_app(assembly).routes}
    assert "/tools" in paths
    assert "/healthz" in paths
    assert "/sse" not in paths
    assert "/mcp" not in paths


def test_run_http_hands_the_app_to_uvicorn(build, bundle, monkeypatch) -> None:
    import uvicorn

    from plugbay.transports import run_http

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **options: Any) -> None:
        seen["app"] = app
        seen["sigterm"] = signal.getsignal(signal.SIGTERM)
        seen.update(options)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assembly = build(bundle())
    before = signal.getsignal(signal.SIGTERM)
    run_http(assembly, host="127.0.0.1", port=8123, stateless=True, json_response=None)
    # While serving, SIGTERM ends the process quietly; afterwards the old handler is back.
    assert seen["sigterm"] is not before
    with pytest.raises(SystemExit) as caught:
        seen["sigterm"](signal.SIGTERM, None)
    assert caught.value.code == 0
    assert signal.getsignal(signal.SIGTERM) is before
    assert isinstance(seen["app"], Starlette)
    assert seen["app"].state.assembly is assembly
    assert (seen["host"], seen["port"], seen["lifespan"]) == ("127.0.0.1", 8123, "on")
    # Forwarded headers are applied by the application, from [server] trusted_proxies
    # only; uvicorn's own handling would trust 127.0.0.1. The protocol enforces deadlines.
    assert seen["proxy_headers"] is False
    assert seen["http"] is GuardedHttpProtocol


def test_the_app_factory_reads_its_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "factory.toml"
    config.write_text('[server]\nname = "from-the-factory"\nstateless = false\n')
    monkeypatch.setenv("PLUGBAY_CONFIG", str(config))
    monkeypatch.setenv("PLUGBAY_PLUGINS", "none-at-all")
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": "2025-11-25",
    }
    for flag, expected in (("1", 200), ("0", 400)):
        monkeypatch.setenv(STATELESS_ENV, flag)
        app = create_app()
        assert app.state.assembly.config.server.name == "from-the-factory"
        with TestClient(app, base_url="http://127.0.0.1:8000") as http:
            # Stateless answers a request with no session; stateful wants one first.
            assert http.post("/mcp", json=listing, headers=headers).status_code == expected
