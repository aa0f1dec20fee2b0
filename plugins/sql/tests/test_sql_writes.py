"""The execute tool, on instances that allow writes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import SqlClient, TestDatabase

pytestmark = pytest.mark.anyio


@pytest.fixture
async def scratch(db: TestDatabase) -> AsyncIterator[str]:
    """The qualified name of a table this test may create; dropped afterwards."""
    name = db.table(f"scratch_{uuid.uuid4().hex[:8]}")
    yield name
    await db.admin(f"DROP TABLE IF EXISTS {name}")


async def _create(sql: SqlClient, table: str) -> None:
    created = await sql.ok(
        "execute", sql=f"CREATE TABLE {table} (id integer PRIMARY KEY, label varchar(50) UNIQUE)"
    )
    assert created["rows"] == []
    assert created["columns"] == []


async def test_execute_changes_data_and_commits(db: TestDatabase, scratch: str) -> None:
    async with db.serve(allow_writes=True) as sql:
        await _create(sql, scratch)
        inserted = await sql.ok(
            "execute",
            sql=f"INSERT INTO {scratch} (id, label) VALUES (:id, :label)",
            params={"id": 1, "label": "one"},
        )
        assert inserted["rows_affected"] == 1
        await sql.ok("execute", sql=f"INSERT INTO {scratch} (id, label) VALUES (2, 'two')")
        updated = await sql.ok(
            "execute",
            sql=f"UPDATE {scratch} SET label = label || '!'"
            if db.dialect != "mariadb"
            else f"UPDATE {scratch} SET label = CONCAT(label, '!')",
        )
        assert updated["rows_affected"] == 2
        assert sql.checked_out() == 0
    # committed: another connection sees it
    rows = await db.admin(f"SELECT id, label FROM {scratch} ORDER BY id")
    assert rows == [(1, "one!"), (2, "two!")]


async def test_returning_rows_come_back(db: TestDatabase, scratch: str) -> None:
    if db.dialect == "mariadb":
        pytest.skip("MariaDB has RETURNING on INSERT and DELETE only, tested below")
    async with db.serve(allow_writes=True) as sql:
        await _create(sql, scratch)
        returned = await sql.ok(
            "execute",
            sql=f"INSERT INTO {scratch} (id, label) VALUES (1, 'a'), (2, 'b') RETURNING id, label",
        )
    assert [column["name"] for column in returned["columns"]] == ["id", "label"]
    assert returned["rows"] == [[1, "a"], [2, "b"]]
    assert returned["truncated"] is False


async def test_mariadb_delete_returning(mariadb: TestDatabase) -> None:
    table = mariadb.table(f"scratch_{uuid.uuid4().hex[:8]}")
    try:
        async with mariadb.serve(allow_writes=True) as sql:
            await _create(sql, table)
            await sql.ok("execute", sql=f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
            deleted = await sql.ok("execute", sql=f"DELETE FROM {table} RETURNING id")
        assert deleted["rows"] == [[1], [2]]
    finally:
        await mariadb.admin(f"DROP TABLE IF EXISTS {table}")


async def test_a_failing_statement_changes_nothing(db: TestDatabase, scratch: str) -> None:
    async with db.serve(allow_writes=True) as sql:
        await _create(sql, scratch)
        await sql.ok("execute", sql=f"INSERT INTO {scratch} VALUES (1, 'taken')")
        message = await sql.error(
            "execute", sql=f"INSERT INTO {scratch} VALUES (2, 'new'), (3, 'taken')"
        )
        assert "unique" in message.lower() or "duplicate" in message.lower()
        assert sql.checked_out() == 0
    assert await db.admin(f"SELECT id FROM {scratch}") == [(1,)]


async def test_execute_refuses_session_control_and_outside_effects(db: TestDatabase) -> None:
    audit = db.table("audit")
    outside = {
        "postgresql": f"INSERT INTO {audit} (note) SELECT pg_read_file('/etc/hostname')",
        "mariadb": f"SELECT * FROM {db.table('orders')} INTO OUTFILE '/tmp/plugbay-out'",
        "sqlite": f"INSERT INTO {audit} (note) SELECT load_extension('x')",
    }[db.dialect]
    async with db.serve(allow_writes=True) as sql:
        for statement in [
            "BEGIN",
            "COMMIT",
            "SET search_path = elsewhere",
            "USE mysql",
            "PRAGMA query_only = OFF",
            "LOCK TABLES x WRITE",
            f"COPY {db.table('orders')} TO PROGRAM 'true'",
            f"LOAD DATA INFILE '/etc/hostname' INTO TABLE {db.table('audit')}",
            "ATTACH DATABASE '/tmp/x.db' AS x",
            outside,
            f"DELETE FROM {db.table('orders')}; DROP TABLE {db.table('orders')}",
        ]:
            message = await sql.error("execute", sql=statement)
            assert "refuse" in message or "2 statements" in message, (statement, message)
    assert await db.count("orders") == 3


async def test_each_instance_is_its_own(db: TestDatabase, scratch: str) -> None:
    """A read-only and a writable instance of one database, side by side."""
    async with db.serve(instance="rw", allow_writes=True) as writer:
        await _create(writer, scratch)
        async with db.serve(instance="ro") as reader:
            # The read-only instance does not list execute; listed anyway, it refuses.
            assert "ro_execute" not in {tool.name for tool in await reader.harness.list_tools()}
        async with db.serve(instance="ro", list_unavailable=True) as reader:
            message = await reader.error("execute", sql=f"INSERT INTO {scratch} VALUES (1, 'x')")
            assert message.startswith("ro_execute is disabled: the 'ro' database is read-only")
            await writer.ok("execute", sql=f"INSERT INTO {scratch} VALUES (1, 'x')")
            assert (await reader.query(f"SELECT label FROM {scratch}"))["rows"] == [["x"]]


async def test_session_changes_made_by_a_write_do_not_carry_over(
    postgresql: TestDatabase,
) -> None:
    """A DO block can change its session; the connection is closed, not pooled, after it."""
    tainted = "DO $$ BEGIN EXECUTE 'SET application_name = ''tainted'''; END $$"
    async with postgresql.serve(allow_writes=True, pool_size=1) as sql:
        await sql.ok("execute", sql=tainted)
        name = await sql.query("SELECT current_setting('application_name') AS name")
        assert name["rows"] == [["plugbay-sql db"]]
        assert sql.checked_out() == 0


async def test_an_in_memory_database_keeps_its_writes() -> None:
    """SQLite's ``:memory:`` lives in its one connection, which writes do not close."""
    from plugbay_sql import SqlConnector
    from plugbay_testing import serve

    settings = {"url": "sqlite://", "allow_writes": True}
    async with serve(SqlConnector, settings=settings) as harness:
        await harness.call_ok("execute", sql="CREATE TABLE notes (text varchar(20))")
        await harness.call_ok("execute", sql="INSERT INTO notes VALUES ('kept')")
        assert (await harness.call_ok("query", sql="SELECT text FROM notes"))["rows"] == [["kept"]]
