"""Browsing: schemas, tables, descriptions, the table resources, completion and the prompt."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import mcp_types as types
import pytest

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio

SHOP = ["audit", "big_orders", "blobs", "customers", "numbers", "orders"]


async def test_schemas_are_listed_without_system_ones(db: TestDatabase) -> None:
    async with db.serve(schemas=None) as sql:
        listed = await sql.ok("list_schemas")
    names = [schema["name"] for schema in listed["schemas"]]
    assert db.schema in names
    assert not {"information_schema", "pg_catalog", "mysql", "performance_schema"} & set(names)
    assert sum(schema["default"] for schema in listed["schemas"]) <= 1
    assert listed["dialect"] == {"postgresql": "postgresql", "mariadb": "mariadb"}.get(
        db.dialect, "sqlite"
    )


async def test_the_schemas_setting_narrows_what_is_shown(db: TestDatabase) -> None:
    async with db.serve() as sql:  # schemas = [the test schema]
        listed = await sql.ok("list_schemas")
        assert [schema["name"] for schema in listed["schemas"]] == [db.schema]
        tables = await sql.ok("list_tables")
        assert {table["schema"] for table in tables["tables"]} == {db.schema}
        # the default schema is the first shown one when the connection's is not shown
        assert (await sql.ok("describe_table", table="orders"))["schema"] == db.schema


async def test_tables_and_views_are_listed_with_their_uris(db: TestDatabase) -> None:
    async with db.serve() as sql:
        listed = await sql.ok("list_tables", schema=db.schema)
    assert listed["truncated"] is False
    tables = {table["name"]: table for table in listed["tables"]}
    assert sorted(tables) == SHOP
    assert tables["big_orders"]["type"] == "view"
    assert tables["orders"]["type"] == "table"
    assert tables["orders"]["uri"] == f"sql://db/tables/{db.schema}/orders"


async def test_a_table_is_described(db: TestDatabase) -> None:
    async with db.serve() as sql:
        orders = await sql.ok("describe_table", table="orders", schema=db.schema)
        customers = await sql.ok("describe_table", table="customers")
        view = await sql.ok("describe_table", table="big_orders")
    columns = {column["name"]: column for column in orders["columns"]}
    assert list(columns) == ["id", "customer_id", "amount", "note"]
    assert columns["id"]["primary_key"] is True
    assert columns["customer_id"]["nullable"] is False
    assert columns["note"]["nullable"] is True
    assert columns["amount"]["type"].upper() in ("NUMERIC(10, 2)", "DECIMAL(10, 2)")
    assert orders["primary_key"] == ["id"]
    (foreign_key,) = orders["foreign_keys"]
    assert foreign_key["columns"] == ["customer_id"]
    assert foreign_key["references_table"] == "customers"
    assert foreign_key["references_columns"] == ["id"]
    assert foreign_key["references_schema"] == db.schema
    index_names = {index["name"]: index for index in orders["indexes"]}
    assert index_names["orders_customer_idx"]["columns"] == ["customer_id"]
    assert index_names["orders_customer_idx"]["unique"] is False
    assert orders["uri"] == f"sql://db/tables/{db.schema}/orders"
    assert orders["row_estimate"] == 3 if db.dialect != "mariadb" else orders["row_estimate"] >= 0
    emails = [constraint["columns"] for constraint in customers["unique_constraints"]] + [
        index["columns"] for index in customers["indexes"] if index["unique"]
    ]
    assert ["email"] in emails
    if db.dialect != "sqlite":
        assert customers["comment"] == "People who bought something"
    assert view["type"] == "view"
    assert view["row_estimate"] is None
    assert [column["name"] for column in view["columns"]] == ["id", "customer_id", "amount", "note"]


async def test_the_tables_resources_describe_tables(db: TestDatabase) -> None:
    async with db.serve() as sql:
        harness = sql.harness
        resources = await harness.list_resources()
        assert [str(resource.uri) for resource in resources] == ["sql://db/tables"]
        templates = await harness.list_resource_templates()
        assert [template.uri_template for template in templates] == [
            "sql://db/tables/{schema}/{table}"
        ]
        everything = _json(await harness.read("sql://db/tables"))
        assert sorted(table["name"] for table in everything["tables"]) == SHOP
        uri = f"sql://db/tables/{db.schema}/customers"
        described = _json(await harness.read(uri))
        assert described["name"] == "customers"
        assert described == await sql.ok("describe_table", table="customers")
        with pytest.raises(Exception, match="no table or view 'nope'"):
            await harness.read(f"sql://db/tables/{db.schema}/nope")
        assert sql.checked_out() == 0


async def test_table_names_are_completed(db: TestDatabase) -> None:
    reference = types.ResourceTemplateReference(
        type="ref/resource", uri="sql://db/tables/{schema}/{table}"
    )
    async with db.serve() as sql:
        client = sql.harness.client
        schemas = await client.complete(reference, {"name": "schema", "value": db.schema[:5]})
        assert schemas.completion.values == [db.schema]
        tables = await client.complete(
            reference, {"name": "table", "value": "b"}, context_arguments={"schema": db.schema}
        )
        assert tables.completion.values == ["big_orders", "blobs"]
        nothing = await client.complete(
            reference, {"name": "table", "value": "o"}, context_arguments={"schema": "nope"}
        )
        assert nothing.completion.values == []


async def test_the_explore_prompt_names_this_instances_tools(db: TestDatabase) -> None:
    async with db.serve(instance="shop", row_limit=50) as sql:
        result = await sql.harness.get_prompt("shop_explore_database", goal="who buys the most?")
    (message,) = result.messages
    assert isinstance(message.content, types.TextContent)
    text = message.content.text
    for tool in ("shop_list_tables", "shop_describe_table", "shop_query", "shop_explain"):
        assert tool in text
    assert "50 rows" in text
    assert "it is read-only" in text
    assert "who buys the most?" in text


def _json(contents: list[Any]) -> Any:
    (content,) = contents
    assert content.mime_type == "application/json"
    return json.loads(content.text)
