"""``@modelcontextprotocol/server-everything`` (npm) behind the proxy, over stdio."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import mcp_types as types
import pytest
from mcp import MCPError

from plugbay_testing import PROTOCOL_MODES

if TYPE_CHECKING:
    from conftest import ServeGateway

PIDEXEC = Path(__file__).resolve().parent / "peer" / "pidexec.py"


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def everything(server: str, **settings: object) -> dict[str, object]:
    return {"command": server, "args": ["stdio"], **settings}


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
async def test_everything_is_served_under_the_instance(
    gateway: ServeGateway, everything_server: str, mode: str
) -> None:
    async with gateway({"ev": everything(everything_server)}, mode=mode) as gw:
        state = gw.state("ev")
        assert state["upstream"] == "ready", state
        assert state["server"].startswith("mcp-servers/everything")
        tools = {tool.name: tool for tool in (await gw.client.list_tools()).tools}
        assert {"ev_echo", "ev_get-sum", "ev_get-structured-content"} <= set(tools)
        # Task-only tools cannot be relayed and are left out; the others lose "execution".
        assert "ev_simulate-research-query" not in tools
        assert all(tool.execution is None for tool in tools.values())
        assert tools["ev_get-sum"].input_schema["required"] == ["a", "b"]

        assert text_of(await gw.call("ev_echo", message="hi")) == "Echo: hi"
        weather = await gw.call("ev_get-structured-content", location="Chicago")
        assert not weather.is_error
        assert set(weather.structured_content or {}) == {"temperature", "conditions", "humidity"}
        image = await gw.call("ev_get-tiny-image")
        assert any(isinstance(block, types.ImageContent) for block in image.content)

        # Resource links in results point at URIs this server can read.
        links = await gw.call("ev_get-resource-links", count=2)
        uris = [block.uri for block in links.content if isinstance(block, types.ResourceLink)]
        assert uris == ["demo://ev/resource/dynamic/blob/1", "demo://ev/resource/dynamic/text/2"]
        read = await gw.client.read_resource(uris[1])
        assert read.contents[0].uri == uris[1]
        embedded = await gw.call("ev_get-resource-reference", resourceType="Text", resourceId=3)
        (resource,) = [b for b in embedded.content if isinstance(b, types.EmbeddedResource)]
        assert resource.resource.uri == "demo://ev/resource/dynamic/text/3"

        resources = (await gw.client.list_resources()).resources
        assert resources
        assert all(resource.uri.startswith("demo://ev/") for resource in resources)
        document = await gw.client.read_resource(resources[0].uri)
        assert isinstance(document.contents[0], types.TextResourceContents)
        assert document.contents[0].text

        completion = await gw.client.complete(
            types.PromptReference(name="ev_completable-prompt"),
            {"name": "department", "value": "E"},
        )
        assert completion.completion.values == ["Engineering"]
        prompt = await gw.client.get_prompt("ev_args-prompt", {"city": "Paris"})
        message = prompt.messages[0].content
        assert isinstance(message, types.TextContent)
        assert "Paris" in message.text


async def test_unknown_resources_and_bad_calls_pass_the_upstreams_errors_through(
    gateway: ServeGateway, everything_server: str
) -> None:
    async with gateway({"ev": everything(everything_server)}) as gw:
        refused = await gw.call("ev_get-sum", a="one")
        assert refused.is_error
        assert "b" in text_of(refused) or "a" in text_of(refused)
        with pytest.raises(MCPError):
            await gw.client.read_resource("demo://ev/resource/static/document/missing.md")


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
async def test_progress_of_a_long_operation_comes_back(
    gateway: ServeGateway, everything_server: str, mode: str
) -> None:
    progress: list[tuple[float, float | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total))

    async with gateway({"ev": everything(everything_server)}, mode=mode) as gw:
        result = await gw.client.call_tool(
            "ev_trigger-long-running-operation",
            {"duration": 1, "steps": 4},
            progress_callback=on_progress,
        )
        assert not result.is_error, text_of(result)
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]


async def test_upstream_log_messages_reach_the_caller(
    gateway: ServeGateway, everything_server: str
) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    settings = everything(everything_server, log_level="debug")
    async with gateway({"ev": settings}, logging_callback=on_log, log_level="debug") as gw:
        # Turning simulated logging on sends one message at once, during the call.
        result = await gw.call("ev_toggle-simulated-logging")
        assert not result.is_error
        with anyio.fail_after(10):
            while not logs:
                await anyio.sleep(0.02)
    # One of server-everything's simulated messages, at a random level.
    assert logs[0].level in (
        "debug",
        "info",
        "notice",
        "warning",
        "error",
        "critical",
        "alert",
        "emergency",
    )
    assert "message" in str(logs[0].data)


async def test_filters_and_long_instance_names(
    gateway: ServeGateway, everything_server: str
) -> None:
    instance = "a_rather_long_gateway_instance_name_x"
    settings = everything(
        everything_server,
        allow=["get-*", "trigger-long-running-operation"],
        deny=["get-env"],
        rename={"get-sum": "sum"},
    )
    async with gateway({instance: settings}) as gw:
        names = await gw.tool_names()
        assert f"{instance}_sum" in names
        assert f"{instance}_get-env" not in names
        assert f"{instance}_echo" not in names
        assert all(len(name) <= 64 for name in names)
        (long_running,) = [name for name in names if "trigger" in name]
        assert len(long_running) == 64  # 38 + 1 + 31 characters: shortened with a hash
        assert text_of(await gw.call(f"{instance}_sum", a=2, b=5)).endswith("7.")
        result = await gw.call(long_running, duration=0.1, steps=1)
        assert not result.is_error


async def test_everything_killed_mid_run_recovers(
    gateway: ServeGateway, everything_server: str, tmp_path: Path
) -> None:
    pidfile = tmp_path / "everything.pid"
    settings = {
        "command": sys.executable,
        "args": [str(PIDEXEC), str(pidfile), everything_server, "stdio"],
        "reconnect_initial": 0.2,
    }
    async with gateway({"ev": settings}) as gw:
        assert text_of(await gw.call("ev_echo", message="one")) == "Echo: one"
        first = int(pidfile.read_text())

        async def crash() -> None:
            await anyio.sleep(0.5)
            os.kill(first, signal.SIGKILL)

        async with anyio.create_task_group() as group:
            group.start_soon(crash)
            during = await gw.call("ev_trigger-long-running-operation", duration=5, steps=5)
        assert during.is_error
        assert "upstream 'ev'" in text_of(during)

        with anyio.fail_after(20):
            while gw.state("ev")["upstream"] != "ready":
                await anyio.sleep(0.05)
        assert int(pidfile.read_text()) != first
        assert text_of(await gw.call("ev_echo", message="two")) == "Echo: two"
