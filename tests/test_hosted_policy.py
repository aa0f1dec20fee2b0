"""A hosted ``plugbay serve`` with API keys, a policy and an audit log, driven by a real
MCP client over HTTP: each principal sees and calls only what the policy allows, every call
is audited, and no secret reaches the logs, the audit lines or an error message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ALICE_KEY = "pbk_alice-0123456789abcdefghijklmnopqrstuvwxyzAB"
BOB_KEY = "pbk_bob-0123456789abcdefghijklmnopqrstuvwxyzABCDE"
PASSWORD = "correct-horse-battery-staple"

CONFIG = """
[connectors.desk]
plugin = "desk"

[connectors.archive]
plugin = "desk"

[[auth.api_keys]]
name = "alice"
key = "${ALICE_KEY}"
roles = ["staff"]

[[auth.api_keys]]
name = "bob"
key = "${BOB_KEY}"
scopes = ["archive:read"]

[[policy.rules]]
description = "staff use the desk, but may not delete"
roles = ["staff"]
connectors = ["desk"]

[[policy.rules]]
effect = "deny"
roles = ["staff"]
tools = ["*_delete"]

[[policy.rules]]
description = "archive readers search it and read its notes"
scopes = ["archive:read"]
connectors = ["archive"]
tools = ["archive_search"]
resources = ["desk://archive/*"]

[audit]
output = "audit/calls.jsonl"
"""


@pytest.fixture(scope="module")
def server(e2e: Any, hosted_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workdir = tmp_path_factory.mktemp("hosted-policy")
    (workdir / "plugbay.toml").write_text(CONFIG)
    env = e2e.child_env(
        ["hosted_desk", "auth", "guard"], [hosted_site], ALICE_KEY=ALICE_KEY, BOB_KEY=BOB_KEY
    )
    with e2e.http_server(workdir, env) as running:
        running.workdir = workdir
        yield running


def client(server: Any, key: str, mode: str) -> tuple[httpx2.AsyncClient, Client]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=10)
    return http, Client(streamable_http_client(server.url, http_client=http), mode=mode)


def text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


def audit_lines(server: Any) -> list[dict[str, Any]]:
    path = server.workdir / "audit" / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_alice_sees_and_calls_only_her_slice(server: Any, mode: str) -> None:
    http, mcp = client(server, ALICE_KEY, mode)
    async with http, mcp:
        tools = sorted(tool.name for tool in (await mcp.list_tools()).tools)
        assert tools == ["desk_login", "desk_search", "desk_wait"]
        templates = await mcp.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == [
            "desk://desk/notes/{name}"
        ]
        assert [p.name for p in (await mcp.list_prompts()).prompts] == ["desk_brief"]

        assert text(await mcp.call_tool("desk_search", {"query": "pens"})) == "found pens on desk"
        welcome = await mcp.call_tool("desk_login", {"username": "alice", "password": PASSWORD})
        assert text(welcome) == "welcome alice"
        for hidden in ("desk_delete", "archive_search"):
            refused = await mcp.call_tool(hidden, {"query": "x", "item": "x"})
            assert refused.is_error
            assert text(refused) == (
                f"{hidden} is not available to alice: the server's policy does not allow it; "
                "ask the server's operator for access"
            )
        with pytest.raises(MCPError, match="not available to alice"):
            await mcp.read_resource("desk://archive/notes/plans")


async def test_bob_sees_another_slice(server: Any) -> None:
    http, mcp = client(server, BOB_KEY, "auto")
    async with http, mcp:
        assert [tool.name for tool in (await mcp.list_tools()).tools] == ["archive_search"]
        assert (await mcp.list_prompts()).prompts == []
        read = await mcp.read_resource("desk://archive/notes/plans")
        assert [content.text for content in read.contents] == ["note plans"]
        refused = await mcp.call_tool("desk_search", {"query": "pens"})
        assert refused.is_error


async def test_every_call_is_audited_and_no_secret_is_written_anywhere(server: Any) -> None:
    http, mcp = client(server, ALICE_KEY, "auto")
    async with http, mcp:
        await mcp.call_tool("desk_login", {"username": "alice", "password": PASSWORD})
        await mcp.call_tool("desk_delete", {"item": "stapler"})
    bad = httpx2.post(
        server.url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Authorization": "Bearer pbk_not-a-real-key-0000000000",
            "Accept": "application/json",
        },
    )
    assert bad.status_code == 401
    lines = audit_lines(server)
    login = [line for line in lines if line["name"] == "desk_login"][-1]
    assert login["principal"] == "alice"
    assert login["outcome"] == "ok"
    assert login["arguments"] == {"username": "alice", "password": "[redacted]"}
    assert login["client"] == "127.0.0.1"
    assert login["instance"] == "desk"
    delete = [line for line in lines if line["name"] == "desk_delete"][-1]
    assert delete["outcome"] == "denied"
    assert "not available to alice" in delete["error"]
    everything = server.output() + (server.workdir / "audit" / "calls.jsonl").read_text() + bad.text
    for secret in (ALICE_KEY, BOB_KEY, PASSWORD, "pbk_not-a-real-key-0000000000"):
        assert secret not in everything
