"""The query and explain tools on each database: rows, parameters, limits, values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio


async def test_a_query_returns_columns_and_rows(db: TestDatabase) -> None:
    async with db.serve() as sql:
        data = await sql.query(
            f"SELECT id, name, email FROM {db.table('customers')} WHERE id <= :last ORDER BY id",
            params={"last": 2},
        )
    assert [column["name"] for column in data["columns"]] == ["id", "name", "email"]
    assert data["rows"] == [[1, "Ada", "ada@example.com"], [2, "Grace", "grace@example.com"]]
    assert data["row_count"] == 2
    assert data["truncated"] is False
    assert data["row_limit"] == 500
    assert data["cells_truncated"] == 0
    if db.dialect == "postgresql":
        assert [column["type"] for column in data["columns"]] == ["integer", "varchar", "varchar"]
    if db.dialect == "mariadb":
        assert [column["type"] for column in data["columns"]] == ["int", "varchar", "varchar"]


async def test_values_come_back_as_json(db: TestDatabase) -> None:
    async with db.serve() as sql:
        data = await sql.query(
            f"SELECT o.amount, c.joined, o.note, b.data FROM {db.table('orders')} o "
            f"JOIN {db.table('customers')} c ON c.id = o.customer_id "
            f"CROSS JOIN {db.table('blobs')} b WHERE o.id = 1"
        )
    amount, joined, note, data_cell = data["rows"][0]
    assert amount == 120.5
    assert joined == "2024-01-15"
    assert note == "first"
    assert data_cell == "\\x00ff"


async def test_parameters_are_bound_not_pasted(db: TestDatabase) -> None:
    hostile = "x' OR '1'='1"
    async with db.serve() as sql:
        none = await sql.query(
            f"SELECT id FROM {db.table('customers')} WHERE name = :name", params={"name": hostile}
        )
        assert none["rows"] == []
        listed = await sql.query(
            f"SELECT id FROM {db.table('orders')} WHERE note = :note AND amount > :least",
            params={"note": "bulk: 3 boxes", "least": 100},
        )
        assert listed["rows"] == [[3]]
        # a literal colon inside a string does not need a parameter
        colon = await sql.query(f"SELECT note FROM {db.table('orders')} WHERE note LIKE '%: 3%'")
        assert colon["rows"] == [["bulk: 3 boxes"]]
        message = await sql.error(
            "query", sql=f"SELECT id FROM {db.table('customers')} WHERE name = :name"
        )
        assert "name" in message
        assert "params" in message


async def test_rows_stop_at_the_row_limit(db: TestDatabase) -> None:
    numbers = db.table("numbers")
    async with db.serve(row_limit=100) as sql:
        data = await sql.query(f"SELECT n FROM {numbers} ORDER BY n")
        assert data["row_count"] == 100
        assert data["truncated"] is True
        assert data["rows"][-1] == [100]
        fewer = await sql.query(f"SELECT n FROM {numbers} ORDER BY n", limit=10)
        assert (fewer["row_count"], fewer["truncated"], fewer["row_limit"]) == (10, True, 10)
        # a limit above the instance's is capped, not an error
        capped = await sql.query(f"SELECT n FROM {numbers} ORDER BY n", limit=5000)
        assert (capped["row_count"], capped["row_limit"]) == (100, 100)
        exact = await sql.query(f"SELECT n FROM {numbers} WHERE n <= 100 ORDER BY n")
        assert (exact["row_count"], exact["truncated"]) == (100, False)
        # an explicit LIMIT in the query (above the row limit) is cut the same way
        explicit = await sql.query(f"SELECT n FROM {numbers} ORDER BY n LIMIT {db.numbers}")
        assert (explicit["row_count"], explicit["truncated"]) == (100, True)
        assert sql.checked_out() == 0
        # the instance keeps answering after results it cut short
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]


async def test_huge_results_are_cut_not_buffered(db: TestDatabase) -> None:
    """1.7 billion rows: only a server-side cursor answers this within the timeout."""
    n = db.table("numbers")
    huge = f"SELECT a.n, b.n, c.n FROM {n} a CROSS JOIN {n} b CROSS JOIN {n} c"
    async with db.serve(statement_timeout=20) as sql:
        for statement in (huge, f"{huge} LIMIT 1000000000"):
            data = await sql.query(statement, limit=50)
            assert (data["row_count"], data["truncated"]) == (50, True)
            assert sql.checked_out() == 0
        assert (await sql.query("SELECT 2 AS two"))["rows"] == [[2]]


async def test_long_values_are_cut(db: TestDatabase) -> None:
    async with db.serve(max_cell_bytes=100) as sql:
        data = await sql.query(f"SELECT id, body FROM {db.table('blobs')}")
    (row,) = data["rows"]
    assert row[0] == 1
    assert row[1] == db.big_text[:100] + "…"
    assert data["cells_truncated"] == 1


async def test_explain_shows_the_plan(db: TestDatabase) -> None:
    async with db.serve() as sql:
        plan = await sql.ok(
            "explain",
            sql=f"SELECT * FROM {db.table('orders')} WHERE customer_id = :id",
            params={"id": 1},
        )
        assert plan["dialect"] == {"postgresql": "postgresql", "mariadb": "mariadb"}.get(
            db.dialect, "sqlite"
        )
        assert plan["plan"]
        if db.dialect == "sqlite":
            assert "orders_customer_idx" in plan["plan"]
        if db.dialect == "mariadb":
            assert '"query_block"' in plan["plan"]
        if db.dialect == "postgresql":
            assert "Scan" in plan["plan"]
        # explain does not run the statement
        await sql.error("explain", sql="SHOW TABLES")
        assert await db.count("orders") == 3


async def test_show_and_describe_statements_read(db: TestDatabase) -> None:
    if db.dialect == "sqlite":
        pytest.skip("SQLite has no SHOW statement")
    async with db.serve() as sql:
        shown = await sql.query("SHOW TIME ZONE" if db.dialect == "postgresql" else "SHOW TABLES")
        assert shown["rows"]
