"""``plugbay serve`` over HTTP as a subprocess: streamable HTTP (stateful, stateless,
JSON responses), the legacy SSE transport, DNS-rebinding protection and graceful stops."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

# anyio is marked here, not only late by the root conftest, so parametrized async tests
# keep their parameters.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PLUGINS = ("e2e_echo", "e2e_vault")
ERAS = pytest.mark.parametrize(
    ("mode", "versions"),
    [("legacy", HANDSHAKE_PROTOCOL_VERSIONS), ("auto", MODERN_PROTOCOL_VERSIONS)],
    ids=["legacy", "auto"],
)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw-e2e", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _workdir(path: Path) -> Path:
    """A server working directory, which the filesystem connector serves read-only."""
    (path / "hello.txt").write_text("hello over HTTP\n")
    return path


@pytest.fixture(scope="module")
def server(
    e2e: Any, echo_site: Path, filesystem_plugin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One stateful server for the module; the vault connector in it lacks its API key."""
    workdir = _workdir(tmp_path_factory.mktemp("http"))
    env = e2e.child_env([filesystem_plugin, *PLUGINS], [echo_site])
    with e2e.http_server(workdir, env) as running:
        yield running


async def _exercise(client: Client) -> None:
    """The calls every transport variant must serve the same way."""
    listed = await client.list_tools()
    names = [tool.name for tool in listed.tools]
    assert [name for name in names if name.startswith("echo_")] == [
        "echo_say",
        "echo_add",
        "echo_refuse",
    ]
    assert "filesystem_read_text_file" in names
    read_file = await client.call_tool("filesystem_read_text_file", {"path": "hello.txt"})
    assert not read_file.is_error
    assert isinstance(read_file.content[0], types.TextContent)
    assert read_file.content[0].text == "hello over HTTP\n"
    added = await client.call_tool("echo_add", {"a": 20, "b": 22})
    assert not added.is_error
    assert added.structured_content == {"total": 42}
    refused = await client.call_tool("echo_refuse", {})
    assert refused.is_error
    assert isinstance(refused.content[0], types.TextContent)
    assert refused.content[0].text == "the echo connector refuses on purpose"
    read = await client.read_resource("echo://echo/notes/today")
    assert [content.text for content in read.contents] == ["note today"]
    prompts = await client.list_prompts()
    assert [item.name for item in prompts.prompts] == ["echo_summarize"]


@ERAS
async def test_streamable_http(server: Any, mode: str, versions: tuple[str, ...]) -> None:
    async with Client(server.url, mode=mode) as client:
        assert client.protocol_version in versions
        await _exercise(client)


@ERAS
async def test_legacy_sse_transport(server: Any, mode: str, versions: tuple[str, ...]) -> None:
    async with Client(sse_client(f"{server.base}/sse"), mode=mode) as client:
        assert client.protocol_version in versions
        await _exercise(client)


def test_stateful_initialize_opens_a_session_answered_over_sse(server: Any) -> None:
    response = httpx.post(server.url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers.get("mcp-session-id")


@pytest.mark.parametrize(
    ("flag", "session", "content_type"),
    [("--stateless", False, "text/event-stream"), ("--json-response", True, "application/json")],
)
async def test_server_flags(
    e2e: Any,
    echo_site: Path,
    filesystem_plugin: str,
    tmp_path: Path,
    flag: str,
    session: bool,
    content_type: str,
) -> None:
    env = e2e.child_env([filesystem_plugin, "e2e_echo"], [echo_site])
    with e2e.http_server(_workdir(tmp_path), env, flag) as running:
        raw = httpx.post(running.url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith(content_type)
        assert bool(raw.headers.get("mcp-session-id")) is session
        for mode in ("legacy", "auto"):
            async with Client(running.url, mode=mode) as client:
                await _exercise(client)


def test_foreign_host_and_origin_headers_are_refused(server: Any) -> None:
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 gets nothing."""
    with httpx.Client(timeout=10) as http:
        good = http.post(server.url, json=INITIALIZE, headers=MCP_HEADERS)
        assert good.status_code == 200
        evil_host = http.post(
            server.url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"}
        )
        assert evil_host.status_code == 421
        evil_origin = http.post(
            server.url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://evil.example"}
        )
        assert evil_origin.status_code == 403
        sse = http.get(f"{server.base}/sse", headers={"Host": "evil.example"})
        assert sse.status_code == 421
        assert http.get(f"{server.base}/healthz").json() == {"status": "ok"}
    # Refused cleanly: no traceback in the server log.
    assert "Traceback" not in server.output()


async def test_connector_without_credentials_is_left_out_and_server_serves(server: Any) -> None:
    async with Client(server.url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert "echo_say" in names
    assert not any(name.startswith("vault_") for name in names)
    # With no configuration file, the connectors that lack settings share one banner line.
    [line] = [line for line in server.output().splitlines() if "not configured" in line]
    assert line.startswith("plugbay: not configured: vault")
    assert "`plugbay init`" in line


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_graceful_stop_with_a_client_connected(
    e2e: Any, echo_site: Path, tmp_path: Path, signum: int
) -> None:
    with e2e.http_server(tmp_path, e2e.child_env(["e2e_echo"], [echo_site])) as running:
        async with Client(running.url, mode="legacy") as client:
            assert (await client.call_tool("echo_say", {"text": "bye"})).content[0].text == "bye"
            status = running.stop(signum)
        assert status == 0, running.output()
        assert "Application shutdown complete" in running.output()
