"""Timeouts cancel statements on the server, and every failure returns its connection."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from plugbay_sql import SqlConnector, database, dialects
from plugbay_testing import serve

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio

TIMEOUT = 1.0


def _slow(db: TestDatabase) -> str:
    """A statement that runs for about ten seconds unless it is cancelled."""
    return {
        "postgresql": "SELECT pg_sleep(10)",
        "mariadb": "SELECT SLEEP(10)",
        "sqlite": (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        ),
    }[db.dialect]


async def _still_running(db: TestDatabase, marker: str) -> list[Any]:
    """Statements containing ``marker`` that the server is running right now (not ours)."""
    if db.dialect == "postgresql":
        return await db.admin(
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE :m "
            "AND pid <> pg_backend_pid()",
            {"m": f"%{marker}%"},
        )
    return await db.admin(
        "SELECT ID FROM information_schema.PROCESSLIST "
        "WHERE INFO LIKE :m AND ID <> CONNECTION_ID()",
        {"m": f"%{marker}%"},
    )


async def _gone_from_server(db: TestDatabase, marker: str) -> None:
    if db.dialect == "sqlite":
        return
    with anyio.fail_after(5):
        while await _still_running(db, marker):
            await anyio.sleep(0.05)


async def test_a_statement_past_its_timeout_is_cancelled_on_the_server(db: TestDatabase) -> None:
    marker = f"/* timeout-{uuid.uuid4().hex} */"
    async with db.serve(statement_timeout=TIMEOUT) as sql:
        message = await sql.error("query", sql=f"{_slow(db)} {marker}")
        assert "statement timeout (1 s)" in message
        assert sql.checked_out() == 0
        await _gone_from_server(db, marker)
        # the pool's connection is fine for the next call
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]


async def test_a_cancelled_call_cancels_its_statement(db: TestDatabase) -> None:
    """The host gives up first (its call timeout): the statement still stops on the server."""
    marker = f"/* cancelled-{uuid.uuid4().hex} */"
    config = {
        "server": {"call_timeout": TIMEOUT},
        "connectors": {"db": {"plugin": "sql", **db.settings(statement_timeout=30)}},
    }
    async with serve(SqlConnector, config=config) as harness:
        result = await harness.call("db_query", sql=f"{_slow(db)} {marker}")
        assert result.is_error
        await _gone_from_server(db, marker)
        connector = harness.connector
        assert isinstance(connector, SqlConnector)
        pool: Any = connector.database.engine.pool
        assert pool.checkedout() == 0
        again = await harness.call_ok("db_query", sql="SELECT 1 AS one")
        assert again["rows"] == [[1]]


async def test_the_client_cancels_when_the_server_does_not(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the database ignores its timeout, the connector cancels from a second connection."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite's timeout is the connector's own progress handler")
    original = dialects.DialectRules.begin
    rules = dialects.PostgresRules if db.dialect == "postgresql" else dialects.MySqlRules

    async def begin_without_timeout(
        self: dialects.DialectRules,
        conn: AsyncConnection,
        *,
        write: bool,
        seconds: float,
        select_limit: int | None,
    ) -> None:
        await original(self, conn, write=write, seconds=seconds, select_limit=select_limit)
        if db.dialect == "postgresql":
            await conn.execution_options(postgresql_readonly=True)
            await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        else:
            await conn.exec_driver_sql("SET SESSION max_statement_time = 0")

    monkeypatch.setattr(rules, "begin", begin_without_timeout)
    monkeypatch.setattr(database, "CLIENT_GRACE", 0.5)
    marker = f"/* client-cancel-{uuid.uuid4().hex} */"
    async with db.serve(statement_timeout=TIMEOUT) as sql:
        message = await sql.error("query", sql=f"{_slow(db)} {marker}")
        assert "statement timeout" in message
        await _gone_from_server(db, marker)
        assert sql.checked_out() == 0
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]


async def test_every_failure_returns_its_connection(db: TestDatabase) -> None:
    t = db.table
    failures = [
        ("query", {"sql": "SELEC 1"}),
        ("query", {"sql": f"SELECT nope FROM {t('customers')}"}),
        ("query", {"sql": f"SELECT * FROM {t('missing')}"}),
        ("query", {"sql": f"SELECT * FROM {t('customers')} WHERE id = :id"}),
        ("query", {"sql": f"DELETE FROM {t('orders')}"}),
        ("query", {"sql": "SELECT 1; SELECT 2"}),
        ("query", {"sql": f"SELECT CAST(name AS integer) FROM {t('customers')}"}),
        ("describe_table", {"table": "missing"}),
        ("list_tables", {"schema": "missing"}),
        ("explain", {"sql": f"SELECT * FROM {t('missing')}"}),
        ("execute", {"sql": f"DELETE FROM {t('orders')}"}),
    ]
    async with db.serve(pool_size=2, list_unavailable=True) as sql:
        for tool, arguments in failures * 3:  # more failures than the pool has connections
            result = await sql.harness.call(tool, **arguments)
            if db.dialect in ("sqlite", "mariadb") and "CAST" in str(arguments):
                continue  # these databases convert the text instead of failing
            assert result.is_error, (tool, arguments)
            assert sql.checked_out() == 0, (tool, arguments)
        assert (await sql.query(f"SELECT count(*) FROM {t('orders')}"))["rows"] == [[3]]
