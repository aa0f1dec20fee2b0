"""The hosted HTTP surface in process: challenges, RFC 9728 metadata, IP allow-lists,
session ownership, body limits, several backends at once, per-instance timeouts."""

from __future__ import annotations

import logging
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
from plugbay.hosting.api_keys import hash_api_key
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


def jwt_toml(issuer: Any, extra: str = "") -> str:
    return (
        f'[auth]\nresource = "{RESOURCE}"\nscopes_supported = ["tools", "admin"]\n'
        f'resource_name = "Team tools"\n'
        f'[[auth.api_keys]]\nname = "ci-bot"\nhash = "{hash_api_key(KEY)}"\n'
        f'[auth.jwt]\njwks_url = "{issuer.jwks_url}"\nissuer = "{issuer.issuer}"\n{extra}'
    )


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


async def test_tokens_and_api_keys_work_side_by_side(build, bundle, issuer) -> None:
    app = http_app(
        build(bundle(tools=[whoami]), toml=jwt_toml(issuer)), stateless=True, json_response=True
    )
    async with serving(app):
        token = issuer.token(sub="alice", scope="tools")
        async with client_for(app, {"authorization": f"Bearer {token}"}) as client:
            by_token = await client.call_tool("whoami", {})
        async with client_for(app, {"authorization": f"Bearer {KEY}"}) as client:
            by_key = await client.call_tool("whoami", {})
    assert by_token.structured_content == {"name": "alice", "scopes": ["tools"]}
    assert by_key.structured_content == {"name": "ci-bot", "scopes": []}


def test_401s_point_at_the_metadata_and_say_what_was_wrong(
    build, bundle, issuer, caplog: pytest.LogCaptureFixture
) -> None:
    app = http_app(build(bundle(tools=[whoami]), toml=jwt_toml(issuer)), stateless=True)
    expired = issuer.token(expires_in=-3600)
    with caplog.at_level(logging.DEBUG), TestClient(app, base_url=BASE) as http:
        anonymous = http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == f'Bearer resource_metadata="{METADATA}"'
        refused = http.post(
            "/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "authorization": f"Bearer {expired}"}
        )
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == (
            f'Bearer resource_metadata="{METADATA}", error="invalid_token", '
            'error_description="the token has expired"'
        )
        assert refused.json() == {
            "error": "invalid_token",
            "error_description": "the token has expired",
        }
        bad_key = http.post(
            "/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "x-api-key": "pbk_wrong-key-000"}
        )
        assert bad_key.status_code == 401
        assert "pbk_wrong-key-000" not in bad_key.text
    assert expired not in caplog.text
    assert "pbk_wrong-key-000" not in caplog.text


def test_a_token_without_the_required_scope_gets_403_insufficient_scope(
    build, bundle, issuer
) -> None:
    toml = jwt_toml(issuer, 'required_scopes = ["tools"]\n')
    app = http_app(build(bundle(tools=[whoami]), toml=toml), stateless=True)
    with TestClient(app, base_url=BASE) as http:
        token = issuer.token(scope="profile")
        response = http.post(
            "/mcp", json=LIST_TOOLS, headers={**JSON_RPC, "authorization": f"Bearer {token}"}
        )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(
        f'Bearer resource_metadata="{METADATA}", scope="tools", error="insufficient_scope"'
    )


def test_the_protected_resource_metadata_is_served_without_authentication(
    build, bundle, issuer
) -> None:
    app = http_app(build(bundle(tools=[whoami]), toml=jwt_toml(issuer)))
    expected = {
        "resource": RESOURCE,
        "authorization_servers": [issuer.issuer],
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": [
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "PS384",
            "PS512",
            "ES256",
            "ES384",
            "ES512",
            "EdDSA",
        ],
        "scopes_supported": ["tools", "admin"],
        "resource_name": "Team tools",
    }
    with TestClient(app, base_url=BASE) as http:
        for path in (
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ):
            response = http.get(path)
            assert response.status_code == 200
            assert response.json() == expected
            assert response.headers["access-control-allow-origin"] == "*"
        assert http.options("/.well-known/oauth-protected-resource/mcp").status_code == 204


def test_without_bearer_tokens_there_is_no_metadata(build, bundle) -> None:
    toml = f'[[auth.api_keys]]\nname = "a"\nhash = "{hash_api_key(KEY)}"\n'
    app = http_app(build(bundle(tools=[whoami]), toml=toml))
    with TestClient(app, base_url=BASE) as http:
        assert http.get("/.well-known/oauth-protected-resource/mcp").status_code == 404
        response = http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
    assert response.headers["www-authenticate"] == 'Bearer realm="plugbay"'


@pytest.mark.parametrize(
    ("networks", "status"), [(["127.0.0.0/8"], 200), (["10.0.0.0/8", "192.0.2.7"], 403)]
)
async def test_the_ip_allow_list_is_checked_before_anything_else(
    build, bundle, networks, status
) -> None:
    toml = f"[policy]\nip_allow = {networks!r}\n".replace("'", '"')
    app = http_app(build(bundle(tools=[whoami]), toml=toml), stateless=True, json_response=True)
    async with serving(app):
        transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
            response = await http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
            assert response.status_code == status
            if status == 403:
                assert (
                    response.json()["error_description"] == "This address may not use this server"
                )
            assert (await http.get("/healthz")).status_code == 200


def test_client_addresses_match_networks_and_mapped_addresses() -> None:
    from ipaddress import ip_network

    from plugbay.hosting.ip_allow import ClientAllowList

    allow = ClientAllowList([ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")])
    assert allow.allows("10.1.2.3")
    assert allow.allows("::ffff:10.1.2.3")
    assert allow.allows("2001:db8::1")
    assert not allow.allows("192.0.2.1")
    assert not allow.allows("testclient")
    assert not allow.allows(None)


async def test_a_session_belongs_to_the_credential_that_opened_it(build, bundle) -> None:
    other = "pbk_" + "z" * 43
    toml = (
        f'[[auth.api_keys]]\nname = "alice"\nhash = "{hash_api_key(KEY)}"\n'
        f'[[auth.api_keys]]\nname = "mallory"\nhash = "{hash_api_key(other)}"\n'
    )
    app = http_app(build(bundle(tools=[whoami]), toml=toml), stateless=False)
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
