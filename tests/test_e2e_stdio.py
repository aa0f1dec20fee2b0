"""``plugbay serve --stdio`` as a subprocess, driven by the SDK client and by raw JSON-RPC."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

# anyio is marked here, not only late by the root conftest, so parametrized async tests
# keep their parameters.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# e2e_vault cannot be configured here, so the server warns on standard error at
# start-up: the protocol on standard output must not be disturbed by it.
PLUGINS = ("e2e_echo", "e2e_vault")
ERAS = pytest.mark.parametrize(
    ("mode", "versions"),
    [("legacy", HANDSHAKE_PROTOCOL_VERSIONS), ("auto", MODERN_PROTOCOL_VERSIONS)],
    ids=["legacy", "auto"],
)


@pytest.fixture
def env(e2e: Any, echo_site: Path, filesystem_plugin: str) -> dict[str, str]:
    return e2e.child_env([filesystem_plugin, *PLUGINS], [echo_site])


def _text(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


@ERAS
async def test_filesystem_tools_and_file_resources(
    e2e: Any, env: dict[str, str], tmp_path: Path, mode: str, versions: tuple[str, ...]
) -> None:
    """With no configuration the filesystem connector serves the working directory, read-only."""
    hello = tmp_path / "notes" / "hello.txt"
    hello.parent.mkdir()
    hello.write_text("hello from disk\n")
    async with Client(e2e.stdio_server(tmp_path, env), mode=mode) as client:
        assert client.protocol_version in versions
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"filesystem_list_directory", "filesystem_read_text_file", "echo_say"} <= names
        assert "filesystem_write_file" not in names  # read-only: the write tools are not listed
        assert not any(name.startswith("vault_") for name in names)

        listed = await client.call_tool("filesystem_list_directory", {"path": "notes"})
        assert not listed.is_error
        assert _text(listed) == "[FILE] hello.txt"
        read = await client.call_tool("filesystem_read_text_file", {"path": "notes/hello.txt"})
        assert not read.is_error
        assert _text(read) == "hello from disk\n"

        uri = f"file://filesystem/{str(hello.resolve()).lstrip('/')}"
        resource = await client.read_resource(uri)
        assert [(str(item.uri), item.text) for item in resource.contents] == [
            (uri, "hello from disk\n")
        ]

        outside = await client.call_tool("filesystem_read_text_file", {"path": "/etc/hostname"})
        assert outside.is_error


@ERAS
async def test_sdk_client_lists_calls_reads_and_prompts(
    e2e: Any, env: dict[str, str], tmp_path: Path, mode: str, versions: tuple[str, ...]
) -> None:
    async with Client(e2e.stdio_server(tmp_path, env), mode=mode) as client:
        assert client.protocol_version in versions
        assert client.server_info is None or client.server_info.name == "plugbay"

        listed = await client.list_tools()
        names = [tool.name for tool in listed.tools if tool.name.startswith("echo_")]
        assert names == ["echo_say", "echo_add", "echo_refuse"]
        add = next(tool for tool in listed.tools if tool.name == "echo_add")
        assert add.input_schema["required"] == ["a", "b"]
        assert add.annotations is not None
        assert add.annotations.read_only_hint is True

        said = await client.call_tool("echo_say", {"text": "over stdio"})
        assert not said.is_error
        assert _text(said) == "over stdio"

        added = await client.call_tool("echo_add", {"a": 2, "b": 40})
        assert not added.is_error
        assert added.structured_content == {"total": 42}

        refused = await client.call_tool("echo_refuse", {})
        assert refused.is_error
        assert _text(refused) == "the echo connector refuses on purpose"

        invalid = await client.call_tool("echo_add", {"a": "two"})
        assert invalid.is_error
        assert _text(invalid).startswith("Invalid arguments for echo_add")

        templates = await client.list_resource_templates()
        assert "echo://echo/notes/{name}" in [t.uri_template for t in templates.resource_templates]
        read = await client.read_resource("echo://echo/notes/shopping")
        assert [(str(c.uri), c.text) for c in read.contents] == [
            ("echo://echo/notes/shopping", "note shopping")
        ]

        prompt = await client.get_prompt("echo_summarize", {"topic": "MCP"})
        assert prompt.messages[0].content.text == "Summarize MCP in one sentence."


def _rpc(process: subprocess.Popen[str], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()


def _reply(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, "the server closed standard output"
    reply: dict[str, Any] = json.loads(line)  # every line on stdout is one JSON-RPC message
    return reply


def test_raw_newline_delimited_json_rpc_and_clean_exit_on_eof(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    """What a desktop client does: write lines, read lines, close stdin; the server exits 0."""
    command = e2e.stdio_server(tmp_path, env)
    process = subprocess.Popen(
        [command.command, *command.args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _rpc(
            process,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw-e2e", "version": "0"},
                },
            },
        )
        initialized = _reply(process)
        assert initialized["id"] == 1
        assert initialized["result"]["protocolVersion"] == "2025-06-18"
        assert initialized["result"]["serverInfo"]["name"] == "plugbay"
        _rpc(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _rpc(
            process,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "nope", "arguments": {}},
            },
        )
        unknown = _reply(process)
        assert unknown["id"] == 2
        assert unknown["error"]["code"] == -32602
        assert "Unknown tool: nope" in unknown["error"]["message"]

        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(10) == 0
        assert process.stdout is not None
        assert process.stdout.read() == ""
        assert process.stderr is not None
        # The banner: with no configuration file the connectors lacking settings share a line.
        banner = process.stderr.read().splitlines()
        assert "plugbay: serving MCP over stdio" in banner
        assert any(line.startswith("plugbay: not configured: vault (") for line in banner)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
