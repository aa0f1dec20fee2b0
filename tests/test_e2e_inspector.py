"""The official MCP Inspector CLI (pinned npm peer) against plugbay over stdio, HTTP and SSE.

Each Inspector call starts Node and takes about a second, so the calls are few and each
checks several things.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.peers, pytest.mark.slow]


@pytest.fixture(scope="module")
def env(e2e: Any, echo_site: Path, filesystem_plugin: str) -> dict[str, str]:
    return e2e.child_env([filesystem_plugin, "e2e_echo"], [echo_site])


@pytest.fixture(scope="module")
def server(
    e2e: Any, inspector_bin: Path, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    workdir = tmp_path_factory.mktemp("inspector-http")
    (workdir / "hello.txt").write_text("hello, Inspector\n")
    with e2e.http_server(workdir, env) as running:
        yield running


@pytest.fixture
def stdio_command(e2e: Any, env: dict[str, str], tmp_path: Path) -> list[str]:
    """The server command line the Inspector spawns (it passes its environment on)."""
    parameters = e2e.stdio_server(tmp_path, env)
    return [parameters.command, *parameters.args]


def test_stdio_lists_and_calls_tools(
    e2e: Any, inspector_bin: Path, stdio_command: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    listed = e2e.run_inspector(inspector_bin, stdio_command, "tools/list", env=env, cwd=tmp_path)
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert {"echo_say", "echo_add", "echo_refuse", "filesystem_read_text_file"} <= set(tools)
    assert "filesystem_write_file" not in tools  # read-only by default: not listed
    assert tools["filesystem_read_text_file"]["annotations"]["destructiveHint"] is False
    assert tools["echo_say"]["inputSchema"]["properties"]["text"]["type"] == "string"
    assert tools["echo_add"]["outputSchema"]["properties"]["total"]["type"] == "integer"
    assert tools["echo_add"]["annotations"]["readOnlyHint"] is True

    added = e2e.run_inspector(
        inspector_bin,
        stdio_command,
        "tools/call",
        "--tool-name", "echo_add", "--tool-arg", "a=2", "--tool-arg", "b=40",
        env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert added["isError"] is False
    assert added["structuredContent"] == {"total": 42}


def test_stdio_lists_resources(
    e2e: Any, inspector_bin: Path, stdio_command: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    listed = e2e.run_inspector(
        inspector_bin, stdio_command, "resources/list", env=env, cwd=tmp_path
    )
    resources = {item["uri"]: item for item in listed["resources"]}
    assert resources["echo://echo/readme"]["mimeType"] == "text/markdown"
    assert resources["file://filesystem/"]["name"] == "filesystem_roots"


def test_http_calls_reads_and_lists_prompts(
    e2e: Any, inspector_bin: Path, server: Any, env: dict[str, str], tmp_path: Path
) -> None:
    target = [server.url, "--transport", "http"]

    read_file = e2e.run_inspector(
        inspector_bin, target, "tools/call",
        "--tool-name", "filesystem_read_text_file", "--tool-arg", "path=hello.txt",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert read_file["isError"] is False
    assert read_file["content"] == [{"type": "text", "text": "hello, Inspector\n"}]

    # The Inspector exits 0 for a tool error: the result itself must say so.
    refused = e2e.run_inspector(
        inspector_bin, target, "tools/call", "--tool-name", "echo_refuse", env=env, cwd=tmp_path
    )
    assert refused["isError"] is True
    assert refused["content"][0]["text"] == "the echo connector refuses on purpose"

    read = e2e.run_inspector(
        inspector_bin,
        target,
        "resources/read",
        "--uri",
        "echo://echo/notes/milk",
        env=env,
        cwd=tmp_path,
    )
    assert read["contents"] == [
        {"uri": "echo://echo/notes/milk", "mimeType": "text/plain", "text": "note milk"}
    ]

    prompts = e2e.run_inspector(inspector_bin, target, "prompts/list", env=env, cwd=tmp_path)
    (summarize,) = prompts["prompts"]
    assert summarize["name"] == "echo_summarize"
    assert summarize["arguments"] == [
        {"name": "topic", "description": "What to summarize.", "required": True}
    ]


def test_legacy_sse_transport(
    e2e: Any, inspector_bin: Path, server: Any, env: dict[str, str], tmp_path: Path
) -> None:
    target = [f"{server.base}/sse", "--transport", "sse"]
    listed = e2e.run_inspector(inspector_bin, target, "tools/list", env=env, cwd=tmp_path)
    names = [tool["name"] for tool in listed["tools"]]
    assert [name for name in names if name.startswith("echo_")] == [
        "echo_say",
        "echo_add",
        "echo_refuse",
    ]
    assert "filesystem_list_directory" in names


def test_http_through_a_gateway_to_server_everything(
    e2e: Any, inspector_bin: Path, tmp_path: Path
) -> None:
    # plugbay mounts @modelcontextprotocol/server-everything (stdio) and the Inspector
    # calls it over HTTP.
    everything = e2e.root / "tests" / "peers" / "node_modules" / ".bin" / "mcp-server-everything"
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[connectors.ev]\nplugin = "proxy"\ncommand = "{everything}"\nargs = ["stdio"]\n'
        "start_wait = 20\n"
    )
    env = e2e.child_env(["proxy"])
    with e2e.http_server(tmp_path, env, "--config", str(config)) as gateway:
        target = [gateway.url, "--transport", "http"]
        echoed = e2e.run_inspector(
            inspector_bin, target, "tools/call",
            "--tool-name", "ev_echo", "--tool-arg", "message=through the gateway",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        summed = e2e.run_inspector(
            inspector_bin, target, "tools/call",
            "--tool-name", "ev_get-sum", "--tool-arg", "a=2", "--tool-arg", "b=40",
            env=env, cwd=tmp_path,
        )  # fmt: skip
    assert echoed["isError"] is False
    assert echoed["content"] == [{"type": "text", "text": "Echo: through the gateway"}]
    assert summed["content"][0]["text"].endswith("42.")
