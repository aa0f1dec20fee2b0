"""Message middleware, logging, subscriptions and asking the client over real streamable HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import mcp_types as types
import pytest
import uvicorn
from mcp import Client
from pydantic import BaseModel

from plugbay import Connector, Context, IncomingMessage, hookimpl, resource, tool
from plugbay.transports import http_app, uvicorn_options

pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")

WAIT_LIMIT = 10.0
NOTE = "notes://n/notes/a"


class Answer(BaseModel):
    word: str


class Notes(Connector):
    """Notes that change, a tool that logs and one that asks."""

    name = "notes"
    announces_updates = True

    @resource("notes/{name}")
    def note(self, name: str) -> str:
        """One note."""
        return name

    @tool
    async def touch(self, name: str, ctx: Context) -> str:
        """Change a note, and say so at two levels."""
        await ctx.log("debug", "touching")
        await ctx.log("error", "touched")
        await self.resource_updated(f"notes/{name}")
        return "touched"

    @tool
    async def ask(self, ctx: Context) -> str:
        """Ask the user for a word."""
        answer = await ctx.elicit("A word?", Answer)
        return answer.data.word if answer.data else answer.action


class Plugin:
    def __init__(self, seen: list[IncomingMessage]) -> None:
        self.seen = seen

    @hookimpl
    def register_connectors(self, register: Callable[..., None]) -> None:
        register(Notes)

    @hookimpl
    def register_message_middleware(self, register: Callable[..., None]) -> None:
        async def record(message: IncomingMessage, call_next: Any) -> Any:
            self.seen.append(message)
            return await call_next(message)

        register(record)


@contextmanager
def serving(build: Any, seen: list[IncomingMessage], *, stateless: bool) -> Iterator[str]:
    """The notes server on a free loopback port, as ``plugbay serve`` runs it; its MCP URL."""
    assembly = build({"notes": Plugin(seen)}, toml='[connectors.n]\nplugin = "notes"\n')
    app = http_app(assembly, stateless=stateless)
    options = {**uvicorn_options(assembly), "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_LIMIT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        port = int(server.servers[0].sockets[0].getsockname()[1])
        yield f"http://127.0.0.1:{port}{assembly.config.server.path}"
    finally:
        server.should_exit = True
        thread.join(WAIT_LIMIT)
        assert not thread.is_alive(), "uvicorn did not stop"


async def _word(context: Any, params: Any) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"word": "kettle"})


def test_a_stateful_session_over_http(build) -> None:
    seen: list[IncomingMessage] = []
    logs: list[str] = []
    updates = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.level)

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            assert str(message.params.uri) == NOTE
            updates.set()

    async def scenario(url: str) -> None:
        async with Client(
            url,
            mode="legacy",
            logging_callback=on_log,
            message_handler=on_message,
            elicitation_callback=_word,
        ) as client:
            await client.set_logging_level("warning")
            await client.subscribe_resource(NOTE)
            assert (await client.call_tool("n_touch", {"name": "a"})).content[0].text == "touched"  # type: ignore[union-attr]
            with anyio.fail_after(WAIT_LIMIT):
                await updates.wait()  # on the session's standalone stream
            assert logs == ["error"]
            result = await client.call_tool("n_ask", {})
            assert result.content[0].text == "kettle"  # type: ignore[union-attr]

    with serving(build, seen, stateless=False) as url:
        anyio.run(scenario, url)
    call = next(message for message in seen if message.method == "tools/call")
    assert call.session_id  # the Mcp-Session-Id of the client's session
    assert all(m.session_id == call.session_id for m in seen if m.method != "initialize")
    assert call.client is not None
    assert call.client[0] == "127.0.0.1"
    assert call.principal.name == "local"


def test_stateless_http_cannot_ask_a_handshake_client(build) -> None:
    async def scenario(url: str) -> None:
        async with Client(url, mode="legacy", elicitation_callback=_word) as client:
            result = await client.call_tool("n_ask", {})
        assert result.is_error
        assert "no way back" in result.content[0].text  # type: ignore[union-attr]

    with serving(build, [], stateless=True) as url:
        anyio.run(scenario, url)


def test_a_2026_client_is_asked_between_requests_even_stateless(build) -> None:
    async def scenario(url: str) -> None:
        async with Client(url, elicitation_callback=_word) as client:
            assert client.protocol_version == "2026-07-28"
            result = await client.call_tool("n_ask", {})
        assert result.content[0].text == "kettle"  # type: ignore[union-attr]

    with serving(build, [], stateless=True) as url:
        anyio.run(scenario, url)
