"""Another plugbay as the upstream, over stdio and over HTTP.

The upstream serves the ``peer`` plugin (tests/peer): progress, log messages,
cancellation, structured content, a long tool name and a catalog that grows.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import mcp_types as types
import pytest

from plugbay_testing import PROTOCOL_MODES, RawSession, answer_of, events_of

if TYPE_CHECKING:
    from conftest import PeerServer, ServeGateway

PEER_TOOLS = {"echo", "add", "slow", "whoami", "grow"}
UPSTREAM_PROTOCOLS = ("legacy", "2026-07-28")


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.02)


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
@pytest.mark.parametrize("protocol", UPSTREAM_PROTOCOLS)
async def test_stdio_upstream_is_mounted_under_the_instance(
    gateway: ServeGateway, stdio_peer: dict[str, Any], mode: str, protocol: str
) -> None:
    async with gateway({"up": {**stdio_peer, "protocol": protocol}}, mode=mode) as gw:
        state = gw.state("up")
        assert state["upstream"] == "ready", state
        assert state["protocol"] == ("2025-11-25" if protocol == "legacy" else protocol)
        names = await gw.tool_names()
        assert {f"up_peer_{tool}" for tool in PEER_TOOLS} <= set(names)

        assert text_of(await gw.call("up_peer_echo", text="hello")) == "hello"
        added = await gw.call("up_peer_add", a=2, b=3)
        assert added.structured_content == {"total": 5}

        listed = {tool.name: tool for tool in (await gw.client.list_tools()).tools}
        upstream_schema = listed["up_peer_add"].input_schema
        assert upstream_schema["properties"]["a"] == {
            "type": "integer",
            "description": "The first number.",
        }
        assert listed["up_peer_add"].output_schema is not None
        assert listed["up_peer_echo"].annotations is not None
        assert listed["up_peer_echo"].annotations.read_only_hint is True

        # Bad arguments reach the upstream, which validates them and says what is wrong.
        refused = await gw.call("up_peer_add", a="two", b=3)
        assert refused.is_error
        assert "a" in text_of(refused)
        assert "Invalid arguments" in text_of(refused)

        resources = (await gw.client.list_resources()).resources
        assert [resource.uri for resource in resources] == ["peer://up/peer/readme"]
        read = await gw.client.read_resource("peer://up/peer/readme")
        assert read.contents[0].uri == "peer://up/peer/readme"
        assert isinstance(read.contents[0], types.TextResourceContents)
        assert read.contents[0].text == "a peer for the proxy tests"
        templates = (await gw.client.list_resource_templates()).resource_templates
        assert [template.uri_template for template in templates] == ["peer://up/peer/notes/{name}"]
        note = await gw.client.read_resource("peer://up/peer/notes/beta")
        assert isinstance(note.contents[0], types.TextResourceContents)
        assert note.contents[0].text == "note beta"
        completion = await gw.client.complete(
            types.ResourceTemplateReference(uri="peer://up/peer/notes/{name}"),
            {"name": "name", "value": "g"},
        )
        assert completion.completion.values == ["gamma"]

        prompts = (await gw.client.list_prompts()).prompts
        assert [prompt.name for prompt in prompts] == ["up_peer_greet"]
        rendered = await gw.client.get_prompt("up_peer_greet", {"name": "Ada"})
        message = rendered.messages[0].content
        assert isinstance(message, types.TextContent)
        assert message.text == "Hello, Ada!"
        completion = await gw.client.complete(
            types.PromptReference(name="up_peer_greet"), {"name": "name", "value": "a"}
        )
        assert completion.completion.values == ["alpha"]


async def test_a_name_past_64_characters_is_shortened(
    gateway: ServeGateway, stdio_peer: dict[str, Any]
) -> None:
    long_name = "peer_summarise_every_document_in_the_shared_archive_by_topic"
    async with gateway({"archive_gateway": stdio_peer}) as gw:
        names = await gw.tool_names()
        assert f"archive_gateway_{long_name}" not in names
        (short,) = [name for name in names if name.startswith("archive_gateway_peer_summarise")]
        assert len(short) == 64
        result = await gw.call(short, topic="cats")
        assert text_of(result) == "summary of cats"


async def test_filters_renames_and_descriptions(
    gateway: ServeGateway, stdio_peer: dict[str, Any]
) -> None:
    settings = {
        **stdio_peer,
        "allow": ["peer_*"],
        "deny": ["peer_grow", "peer_slow", "*readme"],
        "rename": {"peer_echo": "say", "peer_greet": "hello"},
        "descriptions": {"peer_add": "Adds, through the gateway."},
    }
    async with gateway({"up": settings}) as gw:
        tools = {tool.name: tool for tool in (await gw.client.list_tools()).tools}
        assert "up_say" in tools
        assert "up_peer_grow" not in tools
        assert "up_peer_slow" not in tools
        assert tools["up_peer_add"].description == "Adds, through the gateway."
        assert text_of(await gw.call("up_say", text="renamed")) == "renamed"
        assert (await gw.client.list_resources()).resources == []
        assert [p.name for p in (await gw.client.list_prompts()).prompts] == ["up_hello"]


FRONTS = ("memory", "http")
"""How the client reaches the gateway: in process, or over real HTTP."""
TRANSPORTS = ("stdio", "http", "http-sdk")
"""stdio; HTTP with tool calls on the lean path; HTTP with every request through the SDK."""


def upstream_settings(
    transport: str,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    tmp_path: Path,
) -> tuple[dict[str, Any], Path]:
    """Proxy settings for a plugbay peer over ``transport``, and where its marks land."""
    if transport == "stdio":
        return dict(stdio_peer), tmp_path
    server = peer_server()
    return {"url": server.url, "fast_calls": transport == "http"}, server.workdir


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", PROTOCOL_MODES)
async def test_progress_and_log_messages_come_back(
    gateway: ServeGateway,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    tmp_path: Path,
    mode: str,
    transport: str,
    front: str,
) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    settings, _marks = upstream_settings(transport, stdio_peer, peer_server, tmp_path)
    async with gateway(
        {"up": settings}, mode=mode, logging_callback=on_log, log_level="info", front=front
    ) as gw:
        result = await gw.client.call_tool(
            "up_peer_slow", {"steps": 3, "delay": 0.05}, progress_callback=on_progress
        )
        assert text_of(result) == "3 steps done"
        upstream = gw.assembly.instances["up"].obj.upstream  # type: ignore[union-attr]
        assert (upstream._fast is not None) == (transport == "http")
    assert progress == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
    assert [(log.level, log.data, log.logger) for log in logs] == [
        ("info", f"step {step} of 3", "peer") for step in (1, 2, 3)
    ]


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_an_http_front_streams_upstream_progress_before_the_answer(
    gateway: ServeGateway,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    tmp_path: Path,
    transport: str,
) -> None:
    settings, _marks = upstream_settings(transport, stdio_peer, peer_server, tmp_path)
    async with gateway({"up": settings}, front="http") as gw:
        assert gw.url is not None
        with httpx.Client(timeout=30) as http:
            session = RawSession(http, gw.url).open()
            echoed = session.call("up_peer_echo", arguments={"text": "relayed"})
            slow = session.call(
                "up_peer_slow", arguments={"steps": 2, "delay": 0.01}, _meta={"progressToken": "p"}
            )
    assert answer_of(echoed)["result"]["content"] == [{"type": "text", "text": "relayed"}]
    # The upstream's progress and log messages reach the client in order, then the answer.
    events = events_of(slow)
    progress = [e["params"] for e in events if e.get("method") == "notifications/progress"]
    assert [(p["progressToken"], p["progress"], p["total"]) for p in progress] == [
        ("p", 1, 2),
        ("p", 2, 2),
    ]
    logs = [e["params"]["data"] for e in events if e.get("method") == "notifications/message"]
    assert logs == ["step 1 of 2", "step 2 of 2"]
    assert events[-1]["result"]["content"] == [{"type": "text", "text": "2 steps done"}]


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", PROTOCOL_MODES)
@pytest.mark.parametrize("protocol", UPSTREAM_PROTOCOLS)
async def test_cancelling_a_call_cancels_it_upstream(
    gateway: ServeGateway,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    tmp_path: Path,
    mode: str,
    protocol: str,
    transport: str,
    front: str,
) -> None:
    settings, marks = upstream_settings(transport, stdio_peer, peer_server, tmp_path)
    mark = marks / "gone.cancelled"
    upstream = {"up": {**settings, "protocol": protocol}}
    async with gateway(upstream, mode=mode, front=front) as gw:
        with anyio.move_on_after(0.5):
            await gw.call("up_peer_slow", steps=100, delay=0.05, label="gone")
        await wait_for(mark.exists)
        # The connection is still fine afterwards.
        assert text_of(await gw.call("up_peer_echo", text="still here")) == "still here"


async def test_a_timeout_cancels_the_upstream_call(
    gateway: ServeGateway, stdio_peer: dict[str, Any], tmp_path: Path
) -> None:
    settings = {**stdio_peer, "call_timeout": 0.5}
    async with gateway({"up": settings}) as gw:
        result = await gw.call("up_peer_slow", steps=100, delay=0.05, label="late")
        assert result.is_error
        assert "did not finish within 0.5 seconds" in text_of(result)
        await wait_for((tmp_path / "late.cancelled").exists)


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
@pytest.mark.parametrize("protocol", UPSTREAM_PROTOCOLS)
async def test_list_changes_upstream_reach_the_clients(
    gateway: ServeGateway,
    peer_server: Callable[..., PeerServer],
    mode: str,
    protocol: str,
) -> None:
    upstream = peer_server()
    async with gateway({"up": {"url": upstream.url, "protocol": protocol}}, mode=mode) as gw:
        assert "up_peer_echo" in await gw.tool_names()
        if mode == "legacy":
            heard = lambda: any(  # noqa: E731
                isinstance(n, types.ToolListChangedNotification) for n in gw.notifications
            )
            await gw.call("up_peer_grow", name="shout")
            await wait_for(heard)
        else:
            async with gw.client.listen(tools_list_changed=True) as subscription:
                await gw.call("up_peer_grow", name="shout")
                with anyio.fail_after(10):
                    event = await subscription.__anext__()
                assert type(event).__name__ == "ToolsListChanged"
        assert "up_peer_shout" in await gw.tool_names()
        assert text_of(await gw.call("up_peer_shout", text="hey")) == "shout: hey"


async def test_bearer_token_from_the_environment(
    gateway: ServeGateway, peer_server: Callable[..., PeerServer]
) -> None:
    # plugbay-auth's API keys on the upstream (its stored form is the key's SHA-256).
    key = "pbk_" + secrets.token_urlsafe(32)
    stored = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    upstream = peer_server(
        f'[[auth.api_keys]]\nname = "gateway"\nhash = "{stored}"\nscopes = []\n',
        PLUGBAY_PLUGINS="peer,auth",
    )
    settings = {"url": upstream.url, "bearer_token": "${UPSTREAM_KEY}"}
    async with gateway({"up": settings}, environ={"UPSTREAM_KEY": key}) as gw:
        assert gw.state("up")["upstream"] == "ready"
        assert text_of(await gw.call("up_peer_whoami")) == "gateway"
    async with gateway({"up": {"url": upstream.url, "start_wait": 3}}) as gw:
        state = gw.state("up")
        assert state["upstream"] != "ready"
        assert state["upstream"] == "down", state
        assert "HTTP 401 Unauthorized" in state["reason"], state


async def test_http_upstream_killed_mid_run_recovers(
    gateway: ServeGateway, peer_server: Callable[..., PeerServer]
) -> None:
    upstream = peer_server()
    settings = {"url": upstream.url, "reconnect_initial": 0.2, "reconnect_max": 1.0}
    async with gateway({"up": settings}) as gw:
        assert text_of(await gw.call("up_peer_echo", text="before")) == "before"

        async def crash() -> None:
            await anyio.sleep(0.5)
            upstream.kill()

        async with anyio.create_task_group() as group:
            group.start_soon(crash)
            during = await gw.call("up_peer_slow", steps=50, delay=0.05)
        assert during.is_error
        assert "upstream 'up'" in text_of(during)

        outage = await gw.call("up_peer_echo", text="during")
        assert outage.is_error
        message = text_of(outage)
        assert "upstream 'up'" in message
        assert upstream.url in message
        await wait_for(lambda: gw.state("up")["upstream"] != "ready")
        state = gw.state("up")
        assert state["upstream"] in ("down", "connecting"), state
        obj = gw.assembly.instances["up"].obj
        assert obj is not None
        with pytest.raises(RuntimeError, match="upstream 'up'"):
            await obj.check_health()
        # The tools stay listed through the outage.
        assert "up_peer_echo" in await gw.tool_names()

        upstream.start()  # the same port
        await wait_for(lambda: gw.state("up")["upstream"] == "ready", seconds=15)
        assert text_of(await gw.call("up_peer_echo", text="after")) == "after"


async def test_stdio_upstream_killed_mid_run_is_restarted(
    gateway: ServeGateway, stdio_peer: dict[str, Any]
) -> None:
    settings = {**stdio_peer, "reconnect_initial": 0.2}
    pidfile = Path(stdio_peer["pidfile"])
    async with gateway({"up": settings}) as gw:
        assert text_of(await gw.call("up_peer_echo", text="before")) == "before"
        first = int(pidfile.read_text())

        async def crash() -> None:
            await anyio.sleep(0.5)
            os.kill(first, signal.SIGKILL)

        async with anyio.create_task_group() as group:
            group.start_soon(crash)
            during = await gw.call("up_peer_slow", steps=50, delay=0.05)
        assert during.is_error
        assert "upstream 'up'" in text_of(during)
        assert "closed the connection" in text_of(during)

        await wait_for(lambda: gw.state("up")["upstream"] == "ready", seconds=20)
        assert int(pidfile.read_text()) != first  # a new process
        assert text_of(await gw.call("up_peer_echo", text="after")) == "after"
