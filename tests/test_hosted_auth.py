"""``plugbay serve`` behind OAuth bearer tokens: a real server process, a real local issuer
(JWKS over HTTP, key rotation), a real MCP client over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from plugbay_testing.fakes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RESOURCE = "https://mcp.example.test/mcp"
METADATA = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "hosted-e2e", "version": "0"},
    },
}


def config(issuer: Any) -> str:
    return f"""
[connectors.desk]
plugin = "desk"

[auth]
resource = "{RESOURCE}"
scopes_supported = ["desk"]

[auth.jwt]
jwks_url = "{issuer.jwks_url}"
issuer = "{issuer.issuer}"
required_scopes = ["desk"]
jwks_cache_seconds = 1
jwks_min_refresh_seconds = 0
"""


@contextmanager
def serving(e2e: Any, site: Path, issuer: Any, workdir: Path) -> Iterator[Any]:
    issuer.resource = RESOURCE  # the audience of the tokens it signs
    (workdir / "plugbay.toml").write_text(config(issuer))
    with e2e.http_server(workdir, e2e.child_env(["hosted_desk", "auth"], [site])) as running:
        yield running


@pytest.fixture(scope="module")
def issuer(oauth: Any) -> Iterator[Any]:
    """One issuer for the module's read-only tests."""
    running = oauth.Issuer()
    running.add_key("RS256")
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server(
    e2e: Any, hosted_site: Path, issuer: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One server for the module's read-only tests."""
    with serving(e2e, hosted_site, issuer, tmp_path_factory.mktemp("hosted-auth")) as running:
        yield running


def post(server: Any, token: str | None) -> httpx.Response:
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.url, json=INITIALIZE, headers=headers, timeout=10)


async def call_as(server: Any, token: str, mode: str = "auto") -> Any:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10)
    async with (
        http,
        Client(streamable_http_client(server.url, http_client=http), mode=mode) as client,
    ):
        tools = await client.list_tools()
        result = await client.call_tool("desk_search", {"query": "stapler"})
    return [tool.name for tool in tools.tools], result


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_valid_token_gets_a_working_session(server: Any, issuer: Any, mode: str) -> None:
    names, result = await call_as(server, issuer.token(scope="desk"), mode)
    assert "desk_search" in names
    assert not result.is_error
    assert result.content[0].text == "found stapler on desk"


def test_no_token_gets_the_challenge_and_the_metadata_explains_it(server: Any, issuer: Any) -> None:
    response = post(server, None)
    assert response.status_code == 401
    assert (
        response.headers["www-authenticate"]
        == f'Bearer resource_metadata="{METADATA}", scope="desk"'
    )
    document = httpx.get(
        f"{server.base}/.well-known/oauth-protected-resource/mcp", timeout=5
    ).json()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == [issuer.issuer]
    assert document["scopes_supported"] == ["desk"]
    # Public routes of plugbay-auth: the bare path too, and browsers' CORS preflight.
    bare = httpx.get(f"{server.base}/.well-known/oauth-protected-resource", timeout=5)
    assert bare.json() == document
    preflight = httpx.options(
        f"{server.base}/.well-known/oauth-protected-resource/mcp",
        headers={"Origin": "http://localhost:6274", "Access-Control-Request-Method": "GET"},
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda i: i.token(scope="desk", expires_in=-3600), "the token has expired"),
        (
            lambda i: i.token(
                i.add_key(publish=False), scope="desk", headers={"kid": i.keys[0].kid}
            ),
            "the token's signature does not verify",
        ),
        (lambda i: i.unsigned_token(scope="desk"), "the token's signing algorithm is not accepted"),
        (
            lambda i: i.token(scope="desk", audience="https://other.example/mcp"),
            "the token was not issued for this server (wrong audience)",
        ),
        (
            lambda i: i.token(scope="desk", issuer="https://evil.example"),
            "the token's issuer is not accepted here",
        ),
    ],
    ids=["expired", "forged", "alg-none", "wrong-audience", "wrong-issuer"],
)
def test_bad_tokens_are_refused(server: Any, issuer: Any, make: Any, reason: str) -> None:
    token = make(issuer)
    response = post(server, token)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": reason}
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert token not in server.output()


def test_a_token_without_the_required_scope_gets_403(server: Any, issuer: Any) -> None:
    response = post(server, issuer.token(scope="profile"))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_key_rotation_is_picked_up_and_withdrawn_keys_stop_working(
    e2e: Any, hosted_site: Path, oauth_issuer: Any, tmp_path: Path
) -> None:
    with serving(e2e, hosted_site, oauth_issuer, tmp_path) as server:
        await _rotate(server, oauth_issuer)


async def _rotate(server: Any, oauth_issuer: Any) -> None:
    old_token = oauth_issuer.token(scope="desk")
    assert post(server, old_token).status_code == 200
    new_key = oauth_issuer.add_key("ES256")
    # A token signed with a key published after the server fetched the set.
    _, result = await call_as(server, oauth_issuer.token(new_key, sub="bob", scope="desk"))
    assert not result.is_error
    oauth_issuer.retire(oauth_issuer.keys[0])
    time.sleep(1.2)  # past jwks_cache_seconds: the server refreshes the set
    response = post(server, old_token)
    assert response.status_code == 401
    assert "does not publish" in response.json()["error_description"]
    assert post(server, oauth_issuer.token(new_key, scope="desk")).status_code == 200


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_the_auth_table_with_plugbay_auth_blocked_refuses_to_start(
    e2e: Any, hosted_site: Path, issuer: Any, tmp_path: Path, transport: str
) -> None:
    """Fail closed: without the plugin the table is not read as "no authentication"."""
    (tmp_path / "plugbay.toml").write_text(config(issuer))
    env = e2e.child_env(["hosted_desk", "auth"], [hosted_site], PLUGBAY_BLOCK_PLUGINS="auth")
    args = ["--stdio"] if transport == "stdio" else ["--port", str(free_port())]
    done = e2e.run_plugbay(["serve", *args], cwd=tmp_path, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "[auth] belongs to plugbay-auth, which is blocked" in done.stderr
    assert "Uvicorn running" not in output
    assert "Traceback" not in output


def test_the_auth_table_with_plugbay_auth_broken_refuses_to_start(
    e2e: Any, hosted_site: Path, issuer: Any, tmp_path: Path
) -> None:
    """A plugbay-auth that fails to import (shadowed on PYTHONPATH) stops the server too."""
    broken = tmp_path / "broken-site" / "plugbay_auth"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise RuntimeError("a half-upgraded install")\n')
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "plugbay.toml").write_text(config(issuer))
    env = e2e.child_env(["hosted_desk", "auth"], [broken.parent, hosted_site])
    done = e2e.run_plugbay(["serve", "--port", str(free_port())], cwd=workdir, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "[auth] belongs to plugbay-auth, which failed to load" in done.stderr
    assert "Uvicorn running" not in output
