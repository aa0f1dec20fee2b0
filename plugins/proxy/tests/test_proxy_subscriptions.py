"""Resource subscriptions through the proxy: the upstream is subscribed while a client is.

The upstream is another plugbay whose ``touch_note`` tool announces that a note
changed. The host tells the proxy when the first client subscribes
(``resource_subscribed``) and when the last leaves (``resource_unsubscribed``);
everything, from the client's ``resources/subscribe`` to the update it hears and the
upstream unsubscribed again, is the real path.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPDeprecationWarning

from plugbay_proxy import ProxyConnector
from plugbay_proxy.connector import HOST_TELLS_SUBSCRIPTIONS

if TYPE_CHECKING:
    from conftest import PeerServer, ServeGateway

NOTE = "peer://up/peer/notes/beta"
UPSTREAM_NOTE = "peer://peer/notes/beta"
WAIT = 20.0


async def wait_for(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(WAIT):
        while not condition():
            await anyio.sleep(0.02)


def updated(notifications: list[Any]) -> list[str]:
    return [
        str(message.params.uri)
        for message in notifications
        if isinstance(message, types.ResourceUpdatedNotification)
    ]


@pytest.mark.parametrize("protocol", ["legacy", "2026-07-28"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_updates_upstream_reach_the_subscribed_client(
    gateway: ServeGateway,
    stdio_peer: dict[str, Any],
    peer_server: Callable[..., PeerServer],
    protocol: str,
    transport: str,
) -> None:
    settings = dict(stdio_peer) if transport == "stdio" else {"url": peer_server().url}
    async with gateway({"up": {**settings, "protocol": protocol}}, mode="legacy") as gw:
        heard = gw.notifications
        capabilities = gw.client.server_capabilities
        assert capabilities.resources is not None
        assert capabilities.resources.subscribe
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await gw.client.subscribe_resource(NOTE)
        connector = gw.assembly.instances["up"].obj
        assert isinstance(connector, ProxyConnector)
        upstream = connector.upstream
        assert upstream.subscribes()
        assert upstream._subscribed == {UPSTREAM_NOTE}  # the host told the proxy
        if protocol == "2026-07-28":
            # The listen stream is opened again for the new URI; wait for its ack.
            await wait_for(lambda: UPSTREAM_NOTE in upstream._listening)

        touched = await gw.call("up_peer_touch_note", name="beta")
        assert not touched.is_error
        await wait_for(lambda: NOTE in updated(heard))
        assert set(updated(heard)) == {NOTE}

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await gw.client.unsubscribe_resource(NOTE)
        assert not upstream._subscribed
        if protocol == "2026-07-28":
            await wait_for(lambda: UPSTREAM_NOTE not in upstream._listening)


async def test_subscriptions_are_offered_only_where_the_host_tells_of_subscribers(
    gateway: ServeGateway, stdio_peer: dict[str, Any]
) -> None:
    async with gateway({"up": stdio_peer}, mode="legacy") as gw:
        capabilities = gw.client.server_capabilities
        assert capabilities.resources is not None
        assert bool(capabilities.resources.subscribe) == HOST_TELLS_SUBSCRIPTIONS
