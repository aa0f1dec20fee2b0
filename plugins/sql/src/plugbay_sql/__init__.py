"""plugbay-sql: explore and query relational databases, read-only unless allowed.

Install it next to ``plugbay`` and the ``sql`` connector is available; configure one
instance per database::

    [connectors.shop]
    plugin = "sql"
    url = "postgresql://reader@db.internal/shop"
    password = "${SHOP_DB_PASSWORD}"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugbay import Connector, hookimpl
from plugbay_sql.connector import SqlConnector
from plugbay_sql.settings import SqlSettings

__all__ = ["SqlConnector", "SqlSettings", "register_connectors"]


@hookimpl
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register the SQL connector."""
    register(SqlConnector)
