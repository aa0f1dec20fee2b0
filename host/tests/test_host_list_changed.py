"""Connected clients of both protocol eras hear when the catalog's lists change."""

import anyio
import mcp_types as types
from mcp import Client

from plugbay import Connector, hookimpl, tool
from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer


class Clock(Connector):
    """Tells the time."""

    name = "clock"

    @tool(read_only=True)
    async def now(self) -> str:
        """The time."""
        return "noon"


class ClockPlugin:
    @hookimpl
    def register_connectors(self, register):
        register(Clock)


def _server() -> PlugbayServer:
    registry = load_plugins({}, extra={"clock": ClockPlugin()}, entry_points=False)
    config = parse_config(
        {"connectors": {"a": {"plugin": "clock"}, "b": {"plugin": "clock"}}}, environ={}
    )
    return PlugbayServer(assemble(registry, config))


async def test_handshake_era_clients_are_told_and_see_the_new_list() -> None:
    server = _server()
    heard = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.set()

    async with Client(server.sdk, mode="legacy", message_handler=on_message) as client:
        assert client.server_capabilities.tools.list_changed is True
        assert {t.name for t in (await client.list_tools()).tools} == {"a_now", "b_now"}
        await server.assembly.replace_catalog(server.assembly.catalog.without_instances({"b"}))
        with anyio.fail_after(5):
            await heard.wait()
        assert {t.name for t in (await client.list_tools()).tools} == {"a_now"}
    assert server.list_changes.session_count == 0


async def test_modern_clients_hear_it_on_their_listen_stream() -> None:
    server = _server()
    async with Client(server.sdk) as client:
        assert client.protocol_version == "2026-07-28"
        async with client.listen(tools_list_changed=True) as events:
            await server.assembly.replace_catalog(server.assembly.catalog.without_instances({"a"}))
            with anyio.fail_after(5):
                event = await events.__anext__()
        assert type(event).__name__ == "ToolsListChanged"
        assert {t.name for t in (await client.list_tools()).tools} == {"b_now"}


async def test_an_unchanged_catalog_sends_nothing() -> None:
    server = _server()
    heard: list[object] = []

    async def on_message(message) -> None:
        heard.append(message)

    async with Client(server.sdk, mode="legacy", message_handler=on_message) as client:
        await client.list_tools()
        await server.assembly.replace_catalog(server.assembly.catalog)
        await client.send_ping()
    assert not [m for m in heard if isinstance(m, types.ToolListChangedNotification)]
