"""Mirroring an upstream's components: listing them, and listing again when they change.

The proxy serves what the upstream offers from its last :class:`~plugbay_proxy.state.Listing`,
so clients keep seeing the tools through an outage. A fresh listing is taken after each
connection and whenever the upstream says a list changed (a ``list_changed``
notification, or an event on a 2026-07-28 ``subscriptions/listen`` stream, which
:mod:`plugbay_proxy.subscriptions` keeps open).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from plugbay_proxy.errors import describe_error
from plugbay_proxy.state import Listing, UpstreamState

# The logger the upstream has always used, so that operators' logging settings still apply.
logger = logging.getLogger("plugbay_proxy.upstream")

MAX_PAGES = 100
"""The most pages of one list the proxy reads; a longer listing is cut off and logged."""
RELIST_DELAY = 0.05
"""Seconds to gather list-changed notifications that arrive together into one relisting."""

T = TypeVar("T")


class ComponentMirror(UpstreamState):
    """Keeps :attr:`listing` in step with what the upstream offers."""

    def _request_relisting(self) -> None:
        if self._relist is None:
            return
        # WouldBlock: a relisting is already pending; the others: the connection is going.
        with contextlib.suppress(
            anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError
        ):
            self._relist[0].send_nowait(None)

    async def _relister(self, client: Client, receive: Any, lost: anyio.Event) -> None:
        async for _ in receive:
            await anyio.sleep(RELIST_DELAY)
            try:
                with anyio.fail_after(self.settings.connect_timeout):
                    listing = await self._list(client)
            except MCPError as error:
                logger.warning("upstream %s: relisting failed: %s", self.name, error)
                continue
            except Exception as error:
                self._connection_lost(f"could not list its components: {describe_error(error)}")
                return
            if listing != self.listing:
                self.listing = listing
                await self._on_listing(listing)

    async def _server_capabilities(self, client: Client) -> types.ServerCapabilities:
        """What the upstream can do; asked for when the era was pinned without a probe."""
        if self.settings.protocol not in MODERN_PROTOCOL_VERSIONS:
            return client.server_capabilities
        # A pinned modern client adopts a synthesized, empty discovery result.
        raw = await client.session.send_discover(client.protocol_version)
        return types.DiscoverResult.model_validate(raw).capabilities

    async def _list(self, client: Client) -> Listing:
        capabilities = self._capabilities
        session = client.session
        tools: list[types.Tool] = []
        resources: list[types.Resource] = []
        templates: list[types.ResourceTemplate] = []
        prompts: list[types.Prompt] = []
        if capabilities.tools is not None:
            tools = await self._pages(
                lambda cursor: session.list_tools(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.tools,
            )
        if capabilities.resources is not None:
            resources = await self._pages(
                lambda cursor: session.list_resources(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.resources,
            )
            templates = await self._pages(
                lambda cursor: session.list_resource_templates(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.resource_templates,
            )
        if capabilities.prompts is not None:
            prompts = await self._pages(
                lambda cursor: session.list_prompts(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.prompts,
            )
        return Listing(
            tools=tuple(tools),
            resources=tuple(resources),
            templates=tuple(templates),
            prompts=tuple(prompts),
            completions=capabilities.completions is not None,
        )

    async def _pages(
        self, fetch: Callable[[str | None], Awaitable[Any]], items: Callable[[Any], list[T]]
    ) -> list[T]:
        found: list[T] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await fetch(cursor)
            found.extend(items(page))
            cursor = page.next_cursor
            if cursor is None:
                return found
        logger.warning(
            "upstream %s lists more than %d pages; the rest is left out", self.name, MAX_PAGES
        )
        return found

    # -- notifications from the upstream -------------------------------------------

    async def _on_message(self, message: Any) -> None:
        if isinstance(
            message,
            types.ToolListChangedNotification
            | types.ResourceListChangedNotification
            | types.PromptListChangedNotification,
        ):
            self._request_relisting()
        elif isinstance(message, Exception):
            logger.warning("upstream %s: transport error: %s", self.name, describe_error(message))
