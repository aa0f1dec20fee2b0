"""plugbay-auth behind the real HTTP application: challenges, RFC 9728 metadata, scopes,
several backends at once, sessions bound to the credential that opened them."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.testclient import TestClient

import plugbay_auth
from plugbay import Context, hookimpl
from plugbay.assembly import Assembly, assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.transports import http_app
from plugbay_auth import hash_api_key

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


def build(toml: str) -> Assembly:
    """plugbay-auth and a ``whoami`` tool, assembled in process with ``toml``."""
    tools = SimpleNamespace(register_tools=hookimpl(lambda register: register(whoami)))
    registry = load_plugins({}, extra={"auth": plugbay_auth, "tools": tools}, entry_points=False)
    return assemble(registry, parse_config(tomllib.loads(toml), environ={}))


async def test_tokens_and_api_keys_work_side_by_side(issuer) -> None:
    app = http_app(build(jwt_toml(issuer)), stateless=True, json_response=True)
    async with serving(app):
        token = issuer.token(sub="alice", scope="tools")
        async with client_for(app, {"authorization": f"Bearer {token}"}) as client:
            by_token = await client.call_tool("whoami", {})
        async with client_for(app, {"authorization": f"Bearer {KEY}"}) as client:
            by_key = await client.call_tool("whoami", {})
    assert by_token.structured_content == {"name": "alice", "scopes": ["tools"]}
    assert by_key.structured_content == {"name": "ci-bot", "scopes": []}


def test_401s_point_at_the_metadata_and_say_what_was_wrong(
    issuer, caplog: pytest.LogCaptureFixture
) -> None:
    app = http_app(build(jwt_toml(issuer)), stateless=True)
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
    issuer,
) -> None:
    toml = jwt_toml(issuer, 'required_scopes = ["tools"]\n')
    app = http_app(build(toml), stateless=True)
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
    issuer,
) -> None:
    app = http_app(build(jwt_toml(issuer)))
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


def test_without_bearer_tokens_there_is_no_metadata() -> None:
    toml = f'[[auth.api_keys]]\nname = "a"\nhash = "{hash_api_key(KEY)}"\n'
    app = http_app(build(toml))
    with TestClient(app, base_url=BASE) as http:
        assert http.get("/.well-known/oauth-protected-resource/mcp").status_code == 404
        response = http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
    assert response.headers["www-authenticate"] == 'Bearer realm="plugbay"'


async def test_a_session_belongs_to_the_credential_that_opened_it() -> None:
    other = "pbk_" + "z" * 43
    toml = (
        f'[[auth.api_keys]]\nname = "alice"\nhash = "{hash_api_key(KEY)}"\n'
        f'[[auth.api_keys]]\nname = "mallory"\nhash = "{hash_api_key(other)}"\n'
    )
    app = http_app(build(toml), stateless=False)
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
