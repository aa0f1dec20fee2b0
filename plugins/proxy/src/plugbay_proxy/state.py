"""What the proxy knows about one upstream: its phase, its last listing, and why it is down.

:class:`UpstreamState` is the bottom layer of :class:`plugbay_proxy.upstream.Upstream`:
it holds every attribute the other layers share, and answers the questions that need no
I/O (``state()`` for operators, ``unavailable()`` for callers). The layers above it
(listing, forwarding, connection, supervision) each live in their own module.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import mcp_types as types
from mcp import Client

from plugbay import Context
from plugbay_proxy.fastpath import HttpToolCaller
from plugbay_proxy.settings import ProxySettings

Phase = Literal["connecting", "ready", "down", "stopped"]
CLOSE_TIMEOUT = 5.0
"""Seconds to wind a lost connection down (stop the process, end the HTTP session)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """What the upstream offered the last time the proxy looked."""

    tools: tuple[types.Tool, ...] = ()
    resources: tuple[types.Resource, ...] = ()
    templates: tuple[types.ResourceTemplate, ...] = ()
    prompts: tuple[types.Prompt, ...] = ()
    completions: bool = False


class UpstreamState:
    """The shared state of a supervised connection to one upstream MCP server.

    Args:
        name: The proxy instance's name, used in every message.
        settings: How to reach the upstream.
        on_listing: Called (in the supervising task) whenever the listing changes,
            including after each reconnection.
    """

    def __init__(
        self,
        name: str,
        settings: ProxySettings,
        on_listing: Callable[[Listing], Awaitable[None]],
    ) -> None:
        self.name = name
        self.settings = settings
        self.listing = Listing()
        self.phase: Phase = "connecting"
        self.reason: str | None = None
        self.retry_at: float | None = None
        self.failures = 0
        self.protocol_version: str | None = None
        self.server_info: types.Implementation | None = None
        self._on_listing = on_listing
        self._client: Client | None = None
        self._capabilities = types.ServerCapabilities()
        self._lost: anyio.Event | None = None
        self._loss_reason: str | None = None
        self._http_refusal: str | None = None
        self._session_id: str | None = None
        self._fast: HttpToolCaller | None = None
        self._sdk_tools: set[str] = set()
        self._relist: tuple[Any, Any] | None = None
        self._first_attempt = anyio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[Context] = set()
        self._waiting: dict[Context, Any] = {}
        self._subscribed: set[str] = set()
        """Upstream URIs clients here subscribed to (see subscriptions.py)."""
        self._on_updated: Callable[[str], Awaitable[None]] | None = None
        self._listen_changed: anyio.Event | None = None
        self._listening: frozenset[str] = frozenset()
        """The URIs the open 2026-07-28 listen stream was acknowledged for."""
        """The SDK path's callers, which an upstream's question may end (see asking.py)."""
        self._log = logging.getLogger(f"plugbay_proxy.upstream.{name}")

    def state(self) -> dict[str, Any]:
        """The connection's state for operators, JSON-ready and free of secrets."""
        document: dict[str, Any] = {
            "upstream": self.phase,
            "target": self.settings.target,
            "transport": "stdio" if self.settings.command is not None else "http",
        }
        if self.reason is not None and self.phase != "ready":
            document["reason"] = self.reason
        if self.retry_at is not None and self.phase == "down":
            document["retry_in"] = round(max(self.retry_at - time.monotonic(), 0.0), 1)
        if self.failures and self.phase != "ready":
            document["failed_attempts"] = self.failures
        if self.protocol_version is not None:
            document["protocol"] = self.protocol_version
        if self.server_info is not None:
            document["server"] = f"{self.server_info.name} {self.server_info.version}"
        listing = self.listing
        document["components"] = {
            "tools": len(listing.tools),
            "resources": len(listing.resources),
            "resource_templates": len(listing.templates),
            "prompts": len(listing.prompts),
        }
        return document

    def unavailable(self) -> str:
        """Why calls cannot be served now, naming the upstream (``""`` when they can)."""
        if self.phase == "ready" and self._client is not None:
            return ""
        where = f"upstream {self.name!r} ({self.settings.target})"
        if self.phase == "connecting":
            if self.reason is not None:  # a reconnection, after this
                return f"{where} is unavailable: {self.reason}; plugbay is reconnecting now"
            return f"{where} is connecting; try again in a moment"
        if self.phase == "stopped":
            return f"{where} is stopped"
        reason = self.reason or "not connected"
        if self.retry_at is None:
            return f"{where} is unavailable: {reason}; plugbay is reconnecting"
        wait = max(self.retry_at - time.monotonic(), 0.0)
        return f"{where} is unavailable: {reason}; plugbay reconnects in {wait:.1f} s"

    def _connection_lost(self, reason: str) -> None:
        """Give up on the current connection: calls fail at once, the supervisor reconnects."""
        lost = self._lost
        if lost is None or lost.is_set():
            return
        self._loss_reason = reason
        self._client = None
        self.phase = "down"
        self.reason = reason
        lost.set()
