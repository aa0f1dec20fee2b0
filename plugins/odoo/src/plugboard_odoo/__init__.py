"""plugboard-odoo: Odoo 18 over its external API, with access control in plugboard itself.

Install it next to ``plugboard`` and the ``odoo`` connector is available; configure
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

from plugboard import Connector, hookimpl
from plugboard_odoo.access import AccessPolicy
from plugboard_odoo.client import OdooClient
from plugboard_odoo.connector import OdooConnector
from plugboard_odoo.errors import OdooFault
from plugboard_odoo.settings import OdooSettings
from plugboard_odoo.transport import JsonRpcTransport, OdooTransport, XmlRpcTransport

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
