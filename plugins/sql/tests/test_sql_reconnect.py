"""Connections the database dropped (a restart, a terminated backend) are replaced, not reported.

The database ends every connection of the instance's pool from another session
(PostgreSQL ``pg_terminate_backend``, MariaDB ``KILL CONNECTION``); the next calls
still succeed, on fresh connections.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import anyio
import pytest

if TYPE_CHECKING:
    from conftest import SqlClient, TestDatabase

pytestmark = pytest.mark.anyio

POOL = 3


async def _server_ids(db: TestDatabase) -> list[Any]:
    """The server-side ids of the connections the instance holds open (not the admin's)."""
    if db.dialect == "postgresql":
        rows = await db.admin(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'plugbay-sql db' "
            "AND pid <> pg_backend_pid()"
        )
    else:
        rows = await db.admin(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :schema "
            "AND ID <> CONNECTION_ID()",
            {"schema": db.schema},
        )
    return sorted(row[0] for row in rows)


async def _end_every_connection(db: TestDatabase) -> list[Any]:
    ids = await _server_ids(db)
    for each in ids:
        if db.dialect == "postgresql":
            await db.admin(f"SELECT pg_terminate_backend({int(each)})")
        else:
            await db.admin(f"KILL CONNECTION {int(each)}")
    return ids


async def _fill_pool(sql: SqlClient) -> None:
    """Open every connection of the pool, by holding POOL calls at once."""
    async with anyio.create_task_group() as group:
        for _ in range(POOL):
            group.start_soon(sql.query, "SELECT 1 AS one")


@pytest.fixture(params=["postgresql", "mariadb"])
def server_db(request: pytest.FixtureRequest) -> TestDatabase:
    """The two databases with connections a server can end."""
    database: TestDatabase = request.getfixturevalue(request.param)
    return database


async def test_calls_succeed_after_the_database_ends_the_pools_connections(
    server_db: TestDatabase,
) -> None:
    db = server_db
    async with db.serve(pool_size=POOL) as sql:
        for _round in range(3):
            await _fill_pool(sql)
            ended = await _end_every_connection(db)
            assert ended, "the instance holds connections the database can end"
            # Every tool that reads works at once, each on a fresh connection.
            assert (await sql.query(f"SELECT count(*) FROM {db.table('orders')}"))["rows"] == [[3]]
            tables = await sql.ok("list_tables")
            assert any(table["name"] == "orders" for table in tables["tables"])
            described = await sql.ok("describe_table", table="orders")
            assert described["name"] == "orders"
            assert sql.checked_out() == 0
            after = await _server_ids(db)
            assert not set(after) & set(ended), "no ended connection is used again"


async def test_a_write_after_the_database_ended_the_pools_connections_runs(
    server_db: TestDatabase,
) -> None:
    """Pinged before use on writable instances: the write runs once, and works."""
    db = server_db
    audit = db.table("audit")
    async with db.serve(pool_size=POOL, allow_writes=True) as sql:
        await _fill_pool(sql)
        before = await db.count("audit")
        assert await _end_every_connection(db)
        done = await sql.ok("execute", sql=f"INSERT INTO {audit} (note) VALUES ('after')")
        assert done["rows_affected"] == 1
        assert await db.count("audit") == before + 1
        assert sql.checked_out() == 0


async def _end_when_running(db: TestDatabase, marker: str) -> None:
    """End the connection that runs the statement containing ``marker``, once it runs."""
    with anyio.fail_after(10):
        while True:
            if db.dialect == "postgresql":
                rows = await db.admin(
                    "SELECT pid FROM pg_stat_activity WHERE state = 'active' "
                    "AND query LIKE :m AND pid <> pg_backend_pid()",
                    {"m": f"%{marker}%"},
                )
            else:
                rows = await db.admin(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE :m "
                    "AND ID <> CONNECTION_ID()",
                    {"m": f"%{marker}%"},
                )
            if rows:
                break
            await anyio.sleep(0.02)
    for (each,) in rows:
        if db.dialect == "postgresql":
            await db.admin(f"SELECT pg_terminate_backend({int(each)})")
        else:
            await db.admin(f"KILL CONNECTION {int(each)}")


def _sleep(db: TestDatabase) -> str:
    """Long enough for the test to see the statement run and end its connection."""
    return "pg_sleep(3)" if db.dialect == "postgresql" else "SLEEP(3)"


async def test_a_read_whose_connection_ends_midway_runs_again(server_db: TestDatabase) -> None:
    db = server_db
    marker = f"read-{uuid.uuid4().hex}"
    async with db.serve(pool_size=POOL) as sql:
        results: list[Any] = []

        async def read() -> None:
            results.append(await sql.query(f"SELECT 7 AS seven, {_sleep(db)}, '{marker}' AS m"))

        async with anyio.create_task_group() as group:
            group.start_soon(read)
            await _end_when_running(db, marker)
        assert results[0]["rows"][0][0] == 7
        assert sql.checked_out() == 0


async def test_a_write_whose_connection_ends_midway_is_not_run_twice(
    server_db: TestDatabase,
) -> None:
    db = server_db
    marker = f"write-{uuid.uuid4().hex}"
    audit = db.table("audit")
    before = await db.count("audit")
    async with db.serve(pool_size=POOL, allow_writes=True) as sql:
        messages: list[str] = []

        async def write() -> None:
            messages.append(
                await sql.error(
                    "execute",
                    sql=f"INSERT INTO {audit} (note) SELECT '{marker}' FROM (SELECT "
                    f"{_sleep(db)} AS s) AS slow",
                )
            )

        async with anyio.create_task_group() as group:
            group.start_soon(write)
            await _end_when_running(db, marker)
        (message,) = messages
        assert "whether it was committed is unknown" in message
        assert await db.count("audit") == before
        assert sql.checked_out() == 0
        # the instance goes on working
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]
