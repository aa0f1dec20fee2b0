"""plugbay-copper: the Copper CRM developer API as MCP tools and resources.

Install it next to ``plugbay`` and the ``copper`` connector is available::

    [connectors.crm]
    plugin = "copper"
    api_key = "${COPPER_API_KEY}"
    user_email = "me@example.com"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugbay import Connector, hookimpl
from plugbay_copper.client import CopperClient
from plugbay_copper.connector import CopperConnector
from plugbay_copper.settings import CopperSettings

__all__ = ["CopperClient", "CopperConnector", "CopperSettings", "register_connectors"]


@hookimpl
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register the Copper connector."""
    register(CopperConnector)
