"""An upstream's questions (sampling, elicitation, roots) reach the client whose call asked.

The upstream is another plugbay whose peer tools ask their client with ``ctx.sample``,
``ctx.elicit`` and ``ctx.ask_client``: in 2025-11-25 as requests (on the call's stream
over HTTP, on the shared connection over stdio), in 2026-07-28 as ``input_required``
rounds. The gateway's client answers in either era; whatever the combination, the
answer is the one its own callbacks gave.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
import pytest

from plugbay_testing import PROTOCOL_MODES

if TYPE_CHECKING:
    from conftest import PeerServer, ServeGateway

TRANSPORTS = ("stdio", "http", "http-sdk")
UPSTREAM_PROTOCOLS = ("legacy", "2026-07-28")


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def sampling(context: Any, params: types.CreateMessageRequestParams) -> Any:
    content = params.messages[0].content
    asked = content.text if isinstance(content, types.TextContent) else "?"
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(type="text", text=f"you asked {asked!r}"),
        model="test-model",
    )


async def elicitation(context: Any, params: types.ElicitRequestParams) -> Any:
    assert params.message == "Who is there?"
    return types.ElicitResult(action="accept", content={"name": "Ada"})


async def list_roots(context: Any) -> Any:
    return types.ListRootsResult(roots=[types.Root(uri="file:///srv/project", name="project")])


ANSWERING = {
    "sampling_callback": sampling,
    "elicitation_callback": elicitation,
    "list_roots_callback": list_roots,
}


def upstream(
    transport: str,
    protocol: str,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
) -> dict[str, Any]:
    if transport == "stdio":
        settings = dict(stdio_peer)
    else:
        settings = {"url": peer_server().url, "fast_calls": transport == "http"}
    return {**settings, "protocol": protocol}


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
@pytest.mark.parametrize("protocol", UPSTREAM_PROTOCOLS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_questions_reach_the_callers_client(
    gateway: ServeGateway,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    mode: str,
    protocol: str,
    transport: str,
) -> None:
    settings = upstream(transport, protocol, stdio_peer, peer_server)
    async with gateway({"up": settings}, mode=mode, **ANSWERING) as gw:
        sampled = await gw.call("up_peer_ask_model", prompt="2+2?")
        assert text_of(sampled) == "test-model said: you asked '2+2?'", text_of(sampled)
        greeted = await gw.call("up_peer_ask_user")
        assert text_of(greeted) == "hello Ada", text_of(greeted)
        roots = await gw.call("up_peer_client_roots")
        assert text_of(roots) == "project=file:///srv/project", text_of(roots)
        # The connection is none the worse for it.
        assert gw.state("up")["upstream"] == "ready"
        assert text_of(await gw.call("up_peer_echo", text="after")) == "after"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_client_that_cannot_answer_is_named_in_the_error(
    gateway: ServeGateway,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    transport: str,
) -> None:
    settings = upstream(transport, "legacy", stdio_peer, peer_server)
    async with gateway({"up": settings}, mode="legacy") as gw:  # no callbacks: no capability
        result = await gw.call("up_peer_ask_model", prompt="2+2?")
        assert result.is_error
        assert "did not declare" in text_of(result), text_of(result)
        assert gw.state("up")["upstream"] == "ready"


async def test_a_question_on_a_shared_connection_with_several_callers_is_refused(
    gateway: ServeGateway, stdio_peer: dict[str, Any], tmp_path: Path
) -> None:
    """Over stdio nothing says which call a question belongs to: nobody is asked."""
    asked: list[str] = []

    async def recording(context: Any, params: types.ElicitRequestParams) -> Any:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Eve"})

    settings = {**stdio_peer, "protocol": "legacy"}
    async with gateway({"up": settings}, mode="legacy", elicitation_callback=recording) as gw:
        started = anyio.Event()

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            started.set()

        async with anyio.create_task_group() as group:

            async def slow() -> None:
                await gw.client.call_tool(
                    "up_peer_slow",
                    {"steps": 400, "delay": 0.05, "label": "busy"},
                    progress_callback=on_progress,
                )

            group.start_soon(slow)
            with anyio.fail_after(30):
                await started.wait()
            result = await gw.call("up_peer_ask_user")
            group.cancel_scope.cancel()
        assert result.is_error
        assert "cannot tell which of its callers" in text_of(result), text_of(result)
        assert asked == []
