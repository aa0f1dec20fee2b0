"""Resource subscriptions, relayed: the upstream is subscribed while a client here is.

When the first client subscribes to one of the instance's resources, the proxy
subscribes upstream (``resources/subscribe`` on 2025-11-25, the ``resourceSubscriptions``
of its ``subscriptions/listen`` stream on 2026-07-28), and when the last one leaves it
unsubscribes. Each ``notifications/resources/updated`` (or listen event) the upstream
sends is passed on under the URI clients read here; the host tells the clients that
subscribed to it. After a reconnection the upstream is subscribed again to all of them.

The same 2026-07-28 stream carries the upstream's list changes, so it is opened
whenever the upstream has either to tell, and opened again whenever the set of
subscribed URIs changes.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable

import anyio
import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from plugbay_proxy.mirror import ComponentMirror

logger = logging.getLogger("plugbay_proxy.upstream")

OnUpdated = Callable[[str], Awaitable[None]]


class ResourceSubscriptions(ComponentMirror):
    """Keeps the upstream subscribed to what clients here subscribed to, and relays updates."""

    def on_resource_updated(self, relay: OnUpdated) -> None:
        """Call ``relay`` with the upstream URI of each resource the upstream says changed."""
        self._on_updated = relay

    def subscribes(self) -> bool:
        """Whether the upstream offers resource subscriptions (as of its last connection)."""
        resources = self._capabilities.resources
        return bool(resources is not None and resources.subscribe)

    async def subscribe(self, uri: str) -> None:
        """Subscribe upstream to ``uri`` (an upstream URI), now or once connected."""
        if uri in self._subscribed:
            return
        self._subscribed.add(uri)
        await self._tell_upstream(uri, subscribe=True)

    async def unsubscribe(self, uri: str) -> None:
        """Stop the upstream subscription to ``uri``."""
        if uri not in self._subscribed:
            return
        self._subscribed.discard(uri)
        await self._tell_upstream(uri, subscribe=False)

    async def _tell_upstream(self, uri: str, *, subscribe: bool) -> None:
        client = self._client
        if client is None or self.phase != "ready" or not self.subscribes():
            return  # subscribed on the next connection (see _resubscribe)
        if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
            if self._listen_changed is not None:
                self._listen_changed.set()  # the listener opens its stream again
            return
        try:
            await _subscription_request(client, uri, subscribe=subscribe)
        except MCPError as error:
            verb = "subscribe to" if subscribe else "unsubscribe from"
            logger.warning("upstream %s: could not %s %s: %s", self.name, verb, uri, error)

    async def _resubscribe(self, client: Client) -> None:
        """After connecting (2025-11-25): subscribe again to every subscribed URI."""
        if client.protocol_version in MODERN_PROTOCOL_VERSIONS or not self.subscribes():
            return
        for uri in sorted(self._subscribed):
            try:
                await _subscription_request(client, uri, subscribe=True)
            except MCPError as error:
                logger.warning("upstream %s: could not subscribe to %s: %s", self.name, uri, error)

    async def _relay_update(self, uri: str) -> None:
        relay = self._on_updated
        if relay is None:
            return
        try:
            await relay(uri)
        except Exception:  # one failed relay must not stop the connection's notifications
            logger.warning("upstream %s: could not relay an update of %s", self.name, uri)

    async def _on_message(self, message: object) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            await self._relay_update(str(message.params.uri))
            return
        await super()._on_message(message)

    def listens(self) -> bool:
        """Whether a 2026-07-28 upstream has anything to tell on a listen stream."""
        capabilities = self._capabilities
        return self.subscribes() or any(
            getattr(capability, "list_changed", False)
            for capability in (capabilities.tools, capabilities.resources, capabilities.prompts)
        )

    async def _listener(self, client: Client, lost: anyio.Event) -> None:
        """Hear 2026-07-28 list changes and resource updates on a ``subscriptions/listen`` stream.

        The stream is opened again, with the new URIs, whenever the subscriptions change.
        """
        capabilities = self._capabilities
        while True:
            changed = self._listen_changed = anyio.Event()
            uris = sorted(self._subscribed) if self.subscribes() else []
            try:
                async with anyio.create_task_group() as group:
                    group.start_soon(_cancel_when, changed, group.cancel_scope)
                    async with client.listen(
                        tools_list_changed=_flag(capabilities.tools),
                        resources_list_changed=_flag(capabilities.resources),
                        prompts_list_changed=_flag(capabilities.prompts),
                        resource_subscriptions=uris,
                    ) as subscription:
                        self._listening = frozenset(uris)
                        async for event in subscription:
                            if isinstance(event, ResourceUpdated):
                                await self._relay_update(event.uri)
                            else:
                                self._request_relisting()
                    group.cancel_scope.cancel()
            except Exception as error:
                # The stream ends with the connection; an upstream that cannot listen at
                # all is not lost, its lists just will not refresh by themselves.
                logger.info("upstream %s: listen stream ended: %s", self.name, error)
                return
            finally:
                self._listening = frozenset()
            if not changed.is_set():
                return  # the upstream ended the stream


async def _cancel_when(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def _flag(capability: object) -> bool:
    return bool(capability is not None and getattr(capability, "list_changed", False))


async def _subscription_request(client: Client, uri: str, *, subscribe: bool) -> None:
    with warnings.catch_warnings():  # 2026-07-28 removes them; 2025-11-25 has them
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        if subscribe:
            await client.session.subscribe_resource(uri)
        else:
            await client.session.unsubscribe_resource(uri)
