"""plugbay-odoo: Odoo 18 over its external API, with access control in plugbay itself.

Install it next to ``plugbay`` and the ``odoo`` connector is available; configure
one instance per database::

    [connectors.erp]
    plugin = "odoo"
    url = "https://erp.example.com"
    database = "prod"
    username = "mcp-bot"
    api_key = "${ODOO_API_KEY}"

    [connectors.erp.models]
    "res.partner" = ["read", "write", "create"]
    "sale.order" = ["read"]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugbay import Connector, hookimpl
from plugbay_odoo.access import AccessPolicy
from plugbay_odoo.client import OdooClient
from plugbay_odoo.connector import OdooConnector
from plugbay_odoo.errors import OdooFault
from plugbay_odoo.settings import OdooSettings
from plugbay_odoo.transport import JsonRpcTransport, OdooTransport, XmlRpcTransport

__all__ = [
    "AccessPolicy",
    "JsonRpcTransport",
    "OdooClient",
    "OdooConnector",
    "OdooFault",
    "OdooSettings",
    "OdooTransport",
    "XmlRpcTransport",
    "register_connectors",
]


@hookimpl
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register the Odoo connector."""
    register(OdooConnector)
