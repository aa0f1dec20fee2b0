"""The plugbay conformance suite, run against the SQL connector on each database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plugbay_sql import SqlConnector
from plugbay_testing import ConnectorConformance

if TYPE_CHECKING:
    from conftest import TestDatabase

SAMPLE_CALLS = {
    "list_schemas": {},
    "list_tables": {},
    "describe_table": {"table": "orders"},
    "query": {"sql": "SELECT id, name FROM customers WHERE id = :id", "params": {"id": 1}},
    "explain": {"sql": "SELECT * FROM orders WHERE customer_id = :id", "params": {"id": 1}},
}


class TestSqliteConformance(ConnectorConformance):
    connector = SqlConnector
    entry_point = "sql"  # loaded as plugbay serve loads it

    def config(self, sqlite: TestDatabase) -> dict[str, Any]:
        return sqlite.settings()

    sample_calls = SAMPLE_CALLS
    sample_prompts = {"explore_database": {"goal": "find the best customers"}}
    resource_uris = ("tables/main/customers", "tables/main/big_orders")


class TestPostgresConformance(ConnectorConformance):
    connector = SqlConnector
    entry_point = "sql"  # loaded as plugbay serve loads it

    def config(self, postgresql: TestDatabase) -> dict[str, Any]:
        return postgresql.settings()

    def sample_calls(self, postgresql: TestDatabase) -> dict[str, Any]:
        # PostgreSQL's default schema (public) is not the test schema: qualify names.
        return {
            **SAMPLE_CALLS,
            "list_tables": {"schema": postgresql.schema},
            "query": {
                "sql": f"SELECT id, name FROM {postgresql.table('customers')} WHERE id = :id",
                "params": {"id": 1},
            },
            "explain": {"sql": f"SELECT * FROM {postgresql.table('orders')} WHERE id = 2"},
        }

    def resource_uris(self, postgresql: TestDatabase) -> list[str]:
        return [f"tables/{postgresql.schema}/customers"]


class TestMariadbConformance(ConnectorConformance):
    connector = SqlConnector
    entry_point = "sql"  # loaded as plugbay serve loads it

    def config(self, mariadb: TestDatabase) -> dict[str, Any]:
        return mariadb.settings()

    sample_calls = SAMPLE_CALLS

    def resource_uris(self, mariadb: TestDatabase) -> list[str]:
        return [f"tables/{mariadb.schema}/orders"]
