"""Resource updates: a connector announces a change, subscribers of either era hear it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import METHOD_NOT_FOUND

from plugbay import Connector, Principal, hookimpl, resource, tool
from plugbay.server import RESOURCE_NOT_FOUND, PlugbayServer

pytestmark = [
    pytest.mark.anyio,
    # resources/subscribe is deprecated by 2026-07-28, and the SDK client says so.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

TOML = '[connectors.n]\nplugin = "notes"\n[connectors.quiet]\nplugin = "still"\n'
NOTE_A = "notes://n/notes/a"
NOTE_B = "notes://n/notes/b"


class Notes(Connector):
    """Notes that change."""

    name = "notes"
    announces_updates = True

    @resource("notes/{name}")
    def note(self, name: str) -> str:
        """One note."""
        return f"note {name}"

    @resource("index")
    def index(self) -> str:
        """Every note."""
        return "a b"

    @tool
    async def touch(self, name: str) -> str:
        """Change a note."""
        await self.resource_updated(f"notes/{name}")
        return "touched"


class Still(Connector):
    """Resources that never change."""

    name = "still"

    @resource("thing")
    def thing(self) -> str:
        """A thing."""
        return "thing"


class NotesPlugin:
    def __init__(self, *connectors: type[Connector[Any]]) -> None:
        self.connectors = connectors

    @hookimpl
    def register_connectors(self, register: Callable[..., None]) -> None:
        for connector in self.connectors:
            register(connector)


def updates_heard() -> tuple[list[str], Any]:
    heard: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            heard.append(str(message.params.uri))

    return heard, on_message


async def settle(client: Client) -> None:
    """A round trip, so notifications sent before it have arrived."""
    await client.list_tools()
    await anyio.sleep(0.05)


async def test_handshake_clients_subscribe_and_hear_what_changed(build) -> None:
    server = PlugbayServer(build({"notes": NotesPlugin(Notes, Still)}, toml=TOML))
    heard_a, on_a = updates_heard()
    heard_b, on_b = updates_heard()
    async with (
        Client(server.sdk, mode="legacy", message_handler=on_a) as a,
        Client(server.sdk, mode="legacy", message_handler=on_b) as b,
    ):
        assert a.server_capabilities.resources.subscribe is True  # type: ignore[union-attr]
        await a.subscribe_resource(NOTE_A)
        await b.subscribe_resource("notes://n/index")

        await a.call_tool("n_touch", {"name": "a"})
        await a.call_tool("n_touch", {"name": "b"})
        await settle(a)
        assert heard_a == [NOTE_A]
        assert heard_b == []

        # From outside any request too: a file watcher, a webhook.
        notes = server.assembly.instances["n"].obj
        assert notes is not None
        await notes.resource_updated("index")
        await notes.resource_updated(NOTE_A)  # a full URI is taken as it is
        await settle(b)
        assert heard_b == ["notes://n/index"]
        assert heard_a == [NOTE_A, NOTE_A]

        await a.unsubscribe_resource(NOTE_A)
        await a.call_tool("n_touch", {"name": "a"})
        await settle(a)
        assert heard_a == [NOTE_A, NOTE_A]


async def test_only_what_exists_and_is_visible_can_be_subscribed(build) -> None:
    class HideB:
        @hookimpl
        def register_visibility(self, register: Callable[..., None]) -> None:
            def visible(principal: Principal, kind: str, name: str, instance: str | None) -> bool:
                return name != "notes://n/index"

            register(visible)

    toml = '[connectors.n]\nplugin = "notes"\n'
    server = PlugbayServer(build({"notes": NotesPlugin(Notes), "hide": HideB()}, toml=toml))
    async with Client(server.sdk, mode="legacy") as client:
        await client.subscribe_resource(NOTE_B)
        for uri in ("notes://n/index", "nothing://at/all"):
            with pytest.raises(MCPError) as refused:
                await client.subscribe_resource(uri)
            assert refused.value.error.code == RESOURCE_NOT_FOUND
    async with (
        Client(server.sdk) as client,
        client.listen(
            resource_subscriptions=[NOTE_B, "notes://n/index", "nothing://at/all"]
        ) as events,
    ):
        assert events.honored.resource_subscriptions == [NOTE_B]


async def test_modern_clients_hear_it_on_their_listen_stream(build) -> None:
    server = PlugbayServer(build({"notes": NotesPlugin(Notes, Still)}, toml=TOML))
    async with Client(server.sdk) as client:
        assert client.protocol_version == "2026-07-28"
        assert client.server_capabilities.resources.subscribe is True  # type: ignore[union-attr]
        async with client.listen(resource_subscriptions=[NOTE_A]) as events:
            await client.call_tool("n_touch", {"name": "b"})  # not subscribed: no event
            await client.call_tool("n_touch", {"name": "a"})
            with anyio.fail_after(5):
                event = await events.__anext__()
    assert event == type(event)(uri=NOTE_A)


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_no_subscriptions_are_offered_when_no_connector_announces(build, era: str) -> None:
    server = PlugbayServer(
        build({"still": NotesPlugin(Still)}, toml='[connectors.quiet]\nplugin = "still"\n')
    )
    async with Client(server.sdk, mode=era) as client:
        assert client.server_capabilities.resources.subscribe is False  # type: ignore[union-attr]
        if era == "legacy":
            with pytest.raises(MCPError) as refused:
                await client.subscribe_resource("still://quiet/thing")
            assert refused.value.error.code == METHOD_NOT_FOUND
    still = server.assembly.instances["quiet"].obj
    assert still is not None
    await still.resource_updated("thing")  # does nothing, and does not fail


async def test_a_connector_outside_a_server_announces_to_nobody() -> None:
    notes = Notes("n", Notes.settings_model())
    await notes.resource_updated("notes/a")
    assert await notes.touch("a") == "touched"
