"""Log messages to the client: the capability, logging/setLevel per session, both eras."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from plugbay import Context, hookimpl, tool
from plugbay.server import PlugbayServer
from plugbay.sessions import LOG_LEVELS, log_wanted

pytestmark = [
    pytest.mark.anyio,
    # logging/setLevel is deprecated by 2026-07-28, and the SDK client says so.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

SPOKEN = ["debug", "info", "warning", "error"]


@tool
async def chatty(ctx: Context) -> str:
    """Log at four levels."""
    for level in SPOKEN:
        await ctx.log(level, f"a {level} message", logger="chatty")  # type: ignore[arg-type]
    return "done"


class ChattyPlugin:
    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        register(chatty)


@pytest.fixture
def server(build) -> PlugbayServer:
    return PlugbayServer(build({"chatty": ChattyPlugin()}))


def listener() -> tuple[list[str], Any]:
    heard: list[str] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        assert params.logger == "chatty"
        heard.append(params.level)

    return heard, on_log


async def _call(client: Client) -> None:
    result = await client.call_tool("chatty", {})
    assert result.content[0].text == "done"  # type: ignore[union-attr]
    # Log notifications travel ahead of the response; give the client a moment anyway.
    await anyio.sleep(0.05)


async def test_handshake_clients_choose_their_level_per_session(server: PlugbayServer) -> None:
    heard_a, on_log_a = listener()
    heard_b, on_log_b = listener()
    async with (
        Client(server.sdk, mode="legacy", logging_callback=on_log_a) as a,
        Client(server.sdk, mode="legacy", logging_callback=on_log_b) as b,
    ):
        assert a.server_capabilities.logging is not None
        await _call(a)
        assert heard_a == SPOKEN  # every level until the client chooses

        await a.set_logging_level("warning")
        heard_a.clear()
        await _call(a)
        await _call(b)
        assert heard_a == ["warning", "error"]
        assert heard_b == SPOKEN  # the other session's choice is not this one's

        await b.set_logging_level("emergency")
        heard_b.clear()
        await _call(b)
        assert heard_b == []

        await a.set_logging_level("debug")
        heard_a.clear()
        await _call(a)
        assert heard_a == SPOKEN


async def test_an_unknown_level_is_invalid_params(server: PlugbayServer) -> None:
    # model_construct skips the client's own validation, as a foreign client would.
    params = types.SetLevelRequestParams.model_construct(level="verbose")
    request = types.SetLevelRequest.model_construct(method="logging/setLevel", params=params)
    async with Client(server.sdk, mode="legacy") as client:
        with pytest.raises(MCPError) as refused:
            await client.session.send_request(request, types.EmptyResult)
    assert refused.value.error.code == INVALID_PARAMS


@pytest.mark.parametrize(
    ("level", "expected"),
    [(None, []), ("warning", ["warning", "error"]), ("debug", SPOKEN)],
)
async def test_modern_clients_choose_their_level_per_request(
    server: PlugbayServer, level: str | None, expected: list[str]
) -> None:
    heard, on_log = listener()
    async with Client(server.sdk, logging_callback=on_log, log_level=level) as client:  # type: ignore[arg-type]
        assert client.protocol_version == "2026-07-28"
        assert client.server_capabilities.logging is not None
        await _call(client)
    assert heard == expected


def test_outside_a_session_every_level_is_wanted() -> None:
    assert LOG_LEVELS[0] == "debug"
    assert LOG_LEVELS[-1] == "emergency"
    assert all(log_wanted(None, level) for level in LOG_LEVELS)
