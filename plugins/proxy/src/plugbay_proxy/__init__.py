"""plugbay-proxy: mount upstream MCP servers as plugbay connector instances.

Each configured upstream is one instance of the ``proxy`` connector, reached over
stdio (a command) or streamable HTTP (a URL)::

    [connectors.github]
    plugin = "proxy"
    url = "https://api.githubcopilot.com/mcp/"
    bearer_token = "${GITHUB_TOKEN}"

    [connectors.time]
    plugin = "proxy"
    command = "uvx"
    args = ["mcp-server-time"]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugbay import Connector, hookimpl
from plugbay_proxy.connector import ProxyConnector
from plugbay_proxy.names import Filter, UriMap, exposed_names
from plugbay_proxy.settings import ProxySettings
from plugbay_proxy.upstream import Listing, Upstream, UpstreamUnavailable, backoff_delay

__all__ = [
    "Filter",
    "Listing",
    "ProxyConnector",
    "ProxySettings",
    "Upstream",
    "UpstreamUnavailable",
    "UriMap",
    "backoff_delay",
    "exposed_names",
    "register_connectors",
]


@hookimpl
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register the proxy connector."""
    register(ProxyConnector)
