"""No secret reaches a log line or an audit record: real ``plugbay serve`` processes.

A gateway serves a local connector and a proxy of a second plugbay over HTTP, whose
URL carries a password and an ``?api_key=``; clients authenticate with an API key and
a JWT, send credentials in query strings (``?access_token=``), in arguments under
harmless names, and twice in one request. Every line both servers wrote and every audit
record is then searched for every secret the test configured.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RESOURCE = "https://mcp.example.test/mcp"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(24)


async def _use(url: str, headers: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> None:
    http = httpx2.AsyncClient(headers=headers, timeout=30)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, result


async def test_no_configured_secret_reaches_any_log_or_audit_line(
    e2e: Any, hosted_site: Path, oauth_issuer: Any, tmp_path: Path
) -> None:
    upstream_password = _secret()
    upstream_query_key = _secret()
    upstream_token = _secret()
    upstream_header = _secret()
    client_key = _secret("pbk_")
    argument_password = _secret()
    oauth_issuer.resource = RESOURCE
    jwt = oauth_issuer.token(sub="alice", scope="desk")
    configured = {
        "upstream URL password": upstream_password,
        "upstream URL api_key": upstream_query_key,
        "upstream bearer_token": upstream_token,
        "upstream header": upstream_header,
        "client API key": client_key,
        "client JWT": jwt,
        "password argument": argument_password,
    }

    upstream_dir = tmp_path / "upstream"
    upstream_dir.mkdir()
    (upstream_dir / "plugbay.toml").write_text('[connectors.desk]\nplugin = "desk"\n')
    gateway_dir = tmp_path / "gateway"
    gateway_dir.mkdir()
    audit = gateway_dir / "audit.jsonl"
    env = e2e.child_env(
        ["hosted_desk", "proxy", "auth", "guard"],
        [hosted_site],
        UP_TOKEN=upstream_token,
        UP_HEADER=upstream_header,
        CLIENT_KEY=client_key,
    )
    with e2e.http_server(upstream_dir, e2e.child_env(["hosted_desk"], [hosted_site])) as up:
        (gateway_dir / "plugbay.toml").write_text(
            f"""
[connectors.desk]
plugin = "desk"

[connectors.up]
plugin = "proxy"
url = "http://relay:{upstream_password}@127.0.0.1:{up.port}/mcp?api_key={upstream_query_key}"
bearer_token = "${{UP_TOKEN}}"
headers = {{ "X-Upstream-Secret" = "${{UP_HEADER}}" }}

[auth]
resource = "{RESOURCE}"

[auth.jwt]
jwks_url = "{oauth_issuer.jwks_url}"
issuer = "{oauth_issuer.issuer}"

[[auth.api_keys]]
name = "ci"
key = "${{CLIENT_KEY}}"

[audit]
output = "{audit}"
"""
        )
        with e2e.http_server(gateway_dir, env) as gateway:
            embedded = f"please look up {client_key} and {jwt} for me"
            calls = [
                ("up_desk_search", {"query": embedded}),
                ("up_desk_login", {"username": "bob", "password": argument_password}),
                ("desk_search", {"query": f"x {client_key}"}),
                ("desk_login", {"username": "bob", "password": argument_password}),
            ]
            in_query = f"{gateway.url}?access_token={jwt}&api_key={client_key}"
            await _use(in_query, {"Authorization": f"Bearer {client_key}"}, calls)
            await _use(gateway.url, {"Authorization": f"Bearer {jwt}"}, calls[:1])
            twice = httpx.post(
                gateway.url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers=[
                    *MCP_HEADERS.items(),
                    ("Authorization", f"Bearer {client_key}"),
                    ("Authorization", f"Bearer {jwt}"),
                ],
                timeout=30,
            )
            probe = httpx.get(f"{gateway.base}/readyz?token={jwt}", timeout=30)
            assert gateway.stop() == 0
        assert up.stop() == 0
        gateway_log, upstream_log = gateway.output(), up.output()

    assert twice.status_code == 400
    assert probe.status_code == 200
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    # The lines that would have carried the secrets were written, cleaned.
    assert "HTTP Request: POST http://[redacted]@127.0.0.1" in gateway_log
    assert "api_key=[redacted]" in gateway_log
    assert "access_token=[redacted]&api_key=[redacted]" in gateway_log
    assert "/readyz?token=[redacted]" in gateway_log
    assert "api_key=[redacted]" in upstream_log
    searches = [r for r in records if r["name"] == "up_desk_search"]
    assert searches[0]["arguments"] == {"query": "please look up [redacted] and [redacted] for me"}
    assert {r["principal"] for r in records} == {"ci", "alice"}
    places = {"gateway log": gateway_log, "upstream log": upstream_log}
    places |= {f"audit record {n}": json.dumps(r) for n, r in enumerate(records)}
    leaks = [
        f"{what} in the {where}"
        for what, value in configured.items()
        for where, text in places.items()
        if value in text
    ]
    assert leaks == [], f"{leaks}\n--- gateway log:\n{gateway_log}"
