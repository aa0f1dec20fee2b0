"""Telling connected clients that lists of tools, resources or prompts, or a resource, changed.

The two protocol eras deliver these differently: handshake-era (2025-11-25) clients hear
``notifications/*/list_changed`` and ``notifications/resources/updated`` on their
session's standalone channel, so the live sessions are tracked here; 2026-07-28 clients
subscribe with ``subscriptions/listen``, served from a subscription bus.
:meth:`ListChanges.publish` and :meth:`ListChanges.resource_updated` reach both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

import mcp_types as types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ToolsListChanged,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from plugbay.sessions import connection_of, subscribed

logger = logging.getLogger(__name__)

ListKind = Literal["tools", "resources", "prompts"]
ALL_LISTS: tuple[ListKind, ...] = ("tools", "resources", "prompts")


class ListChangingServer(Server[Any]):
    """The SDK server, advertising ``listChanged`` to handshake-era clients on every transport.

    The SDK's transports build initialization options without notification flags;
    this makes the flags the server's own. ``resources.subscribe`` is advertised in
    both eras only when :attr:`resource_subscriptions` is on (a connector announces
    updates), where the SDK would advertise it on every 2026-07-28 server.
    """

    resource_subscriptions: bool = False

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        """Initialization options with all three list-changed flags on by default."""
        options = notification_options or NotificationOptions(
            prompts_changed=True, resources_changed=True, tools_changed=True
        )
        return super().create_initialization_options(options, experimental_capabilities, extensions)

    def get_capabilities(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
        *,
        protocol_version: str | None = None,
    ) -> types.ServerCapabilities:
        """The SDK's capabilities, with ``resources.subscribe`` only where updates come."""
        capabilities = super().get_capabilities(
            notification_options,
            experimental_capabilities,
            extensions,
            protocol_version=protocol_version,
        )
        if capabilities.resources is not None:
            capabilities.resources.subscribe = self.resource_subscriptions
        return capabilities


class ListChanges:
    """Tracks who should hear about list changes and tells them."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self.listen_handler = ListenHandler(self.bus)
        self._sessions: dict[Any, ServerSession] = {}

    async def track_sessions(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """SDK middleware that remembers each live handshake-era session until it closes."""
        if ctx.request_id is not None and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            # The connection is the only key that lives exactly as long as the client
            # stays connected (see plugbay.sessions.connection_of).
            connection = connection_of(ctx.session)
            if connection is not None and connection not in self._sessions:
                self._sessions[connection] = ctx.session
                connection.exit_stack.callback(self._sessions.pop, connection, None)
        return await call_next(ctx)

    @property
    def session_count(self) -> int:
        """How many handshake-era sessions are connected."""
        return len(self._sessions)

    async def publish(self, kinds: Iterable[ListKind] = ALL_LISTS) -> None:
        """Tell every connected client, in either era, that these lists changed."""
        kinds = tuple(kinds)
        events: dict[ListKind, ToolsListChanged | ResourcesListChanged | PromptsListChanged] = {
            "tools": ToolsListChanged(),
            "resources": ResourcesListChanged(),
            "prompts": PromptsListChanged(),
        }
        for kind in kinds:
            await self.bus.publish(events[kind])
        for session in list(self._sessions.values()):
            try:
                if "tools" in kinds:
                    await session.send_tool_list_changed()
                if "resources" in kinds:
                    await session.send_resource_list_changed()
                if "prompts" in kinds:
                    await session.send_prompt_list_changed()
            except Exception:  # a client that went away must not stop the others hearing it
                logger.debug("could not notify a session of list changes", exc_info=True)

    async def resource_updated(self, uri: str) -> None:
        """Tell the clients subscribed to ``uri``, in either era, that it changed."""
        await self.bus.publish(ResourceUpdated(uri=uri))
        for connection, session in list(self._sessions.items()):
            if not subscribed(connection, uri):
                continue
            try:
                await session.send_resource_updated(uri)
            except Exception:  # a client that went away must not stop the others hearing it
                logger.debug("could not tell a session that %s changed", uri, exc_info=True)
