"""Attempts to write through a read-only instance all fail, on every database.

Every attempt goes through the ``query`` tool (and ``explain`` where it applies) of an
instance without ``allow_writes``; each must give a clean isError result, and
afterwards the database must hold exactly what it held before: the same row counts,
the same tables, nothing written to the audit table by a function, no file created.

The second half takes the SQL checks out of the way and shows that the database
itself refuses: on read-only instances, and in ``query`` calls on instances that may
write.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from plugbay_testing import result_text as text_of

if TYPE_CHECKING:
    from conftest import SqlClient, TestDatabase

pytestmark = pytest.mark.anyio


def _attempts(db: TestDatabase, target: Path) -> list[str]:
    """Statements that would write, each on its own, in this database's dialect."""
    t = db.table
    common = [
        f"INSERT INTO {t('customers')} (id, name) VALUES (99, 'Mallory')",
        f"UPDATE {t('customers')} SET name = 'Mallory'",
        f"DELETE FROM {t('orders')}",
        f"DROP TABLE {t('orders')}",
        f"CREATE TABLE {t('evil')} (id integer)",
        f"ALTER TABLE {t('customers')} ADD COLUMN evil integer",
        f"TRUNCATE TABLE {t('audit')}",
        # stacked statements, in several spellings
        f"SELECT 1; DELETE FROM {t('orders')}",
        f"SELECT 1;DELETE FROM {t('orders')};",
        f"SELECT 1 /* ; */ ; UPDATE {t('customers')} SET name = 'x' -- ;",
        # CTEs that modify (PostgreSQL runs them; the others do not parse them)
        f"WITH gone AS (DELETE FROM {t('orders')} RETURNING *) SELECT count(*) FROM gone",
        f"WITH moved AS (INSERT INTO {t('audit')} (note) VALUES ('x') RETURNING id) "
        "SELECT * FROM moved",
        # transaction and session control
        "COMMIT",
        "BEGIN",
        "PRAGMA query_only = OFF",
        f"CALL {t('bump')}()",
        f"REPLACE INTO {t('customers')} (id, name) VALUES (1, 'Mallory')",
        f"INSERT INTO {t('audit')} (note) SELECT name FROM {t('customers')}",
        f"EXPLAIN ANALYZE DELETE FROM {t('orders')}",
    ]
    if db.dialect == "postgresql":
        return [
            *common,
            f"SELECT {t('bump')}()",  # a writing (VOLATILE) function
            f"SELECT * FROM {t('customers')}, LATERAL (SELECT {t('bump')}()) AS b",
            f"SELECT nextval('{db.schema}.tickets')",
            f"SELECT * INTO {t('copied')} FROM {t('customers')}",
            f"SELECT * FROM {t('customers')} FOR UPDATE",
            f"COPY {t('customers')} TO PROGRAM 'touch {target}'",
            f"COPY {t('customers')} TO '{target}'",
            f"COPY {t('audit')} FROM '/etc/hostname'",
            f"COPY (SELECT 1) TO PROGRAM 'touch {target}'",
            f"SELECT lo_export(lo_from_bytea(0, 'x'), '{target}')",
            f"SELECT pg_catalog.lo_export(1, '{target}')",
            f"SELECT \"lo_export\"(1, '{target}')",
            f"SELECT query_to_xml('SELECT lo_export(1, ''{target}'')', true, true, '')",
            "SELECT pg_terminate_backend(pg_backend_pid())",
            "SELECT pg_advisory_lock(1)",
            "SET default_transaction_read_only = off",
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
            "SET transaction_read_only = off",
            f"DO $$ BEGIN DELETE FROM {t('orders')}; END $$",
            f"CREATE TEMPORARY TABLE evil AS SELECT * FROM {t('customers')}",
            f"VACUUM {t('customers')}",
            f"LOCK TABLE {t('orders')}",
            "NOTIFY plugbay, 'x'",
            # a backslash ends a standard string in PostgreSQL, not in sqlparse's view
            f"SELECT 'a\\'; DELETE FROM {t('orders')}; --'",
        ]
    if db.dialect == "mariadb":
        return [
            *common,
            f"SELECT {t('bump')}()",  # a function that modifies data
            f"SELECT NEXTVAL({t('tickets')})",
            f"SELECT * FROM {t('customers')} INTO OUTFILE '{target}'",
            f"SELECT 1 INTO DUMPFILE '{target}'",
            f"LOAD DATA INFILE '/etc/hostname' INTO TABLE {t('audit')}",
            "SELECT LOAD_FILE('/etc/hostname')",
            "SELECT GET_LOCK('plugbay', 1)",
            "SET SESSION TRANSACTION READ WRITE",
            "SET SESSION tx_read_only = 0",
            "START TRANSACTION READ WRITE",
            f"CREATE TEMPORARY TABLE evil AS SELECT * FROM {t('customers')}",
            f"DO {t('bump')}()",
            f"HANDLER {t('customers')} OPEN",
            f"RENAME TABLE {t('orders')} TO {t('orders2')}",
            f"SELECT * FROM {t('customers')} FOR UPDATE",
        ]
    return [
        *common,
        "PRAGMA main.journal_mode = DELETE",
        "PRAGMA writable_schema = ON",
        f"ATTACH DATABASE '{target}' AS evil",
        f"VACUUM INTO '{target}'",
        "VACUUM",
        "REINDEX",
        f"SELECT load_extension('{target}')",
        f"SELECT writefile('{target}', 'x')",
        f"INSERT OR REPLACE INTO {t('customers')} (id, name) VALUES (1, 'Mallory')",
        f"CREATE TEMP TABLE evil AS SELECT * FROM {t('customers')}",
        "SELECT 'a\\'; DELETE FROM orders; --'",
    ]


async def test_write_attempts_through_query_all_fail(db: TestDatabase, tmp_path: Path) -> None:
    target = tmp_path / f"written-{uuid.uuid4().hex[:6]}"
    before = await db.snapshot()
    async with db.serve(list_unavailable=True) as sql:
        for attempt in _attempts(db, target):
            await sql.error("query", sql=attempt)
            assert sql.checked_out() == 0, attempt
        # explain plans statements without running them (a read-only MariaDB session
        # refuses even to plan a DELETE), and refuses the rest
        planned = await sql.harness.call("explain", sql=f"DELETE FROM {db.table('orders')}")
        assert planned.is_error is (db.dialect == "mariadb"), text_of(planned)
        await sql.error("explain", sql=f"ANALYZE DELETE FROM {db.table('orders')}")
        await sql.error("explain", sql=f"DELETE FROM {db.table('orders')}; SELECT 1")
        # execute is refused outright without allow_writes
        message = await sql.error("execute", sql=f"DELETE FROM {db.table('orders')}")
        assert "PLUGBAY_DB__ALLOW_WRITES" in message
        # and the instance still answers
        assert (await sql.query(f"SELECT count(*) AS n FROM {db.table('orders')}"))["rows"] == [[3]]
    assert await db.snapshot() == before
    assert not target.exists()


async def test_stacked_statements_are_refused_with_a_clear_message(db: TestDatabase) -> None:
    async with db.serve() as sql:
        message = await sql.error("query", sql=f"SELECT 1; DELETE FROM {db.table('orders')}")
        assert "holds 2 statements" in message
        # a semicolon at the end, comments and blank statements are fine
        assert (await sql.query("SELECT 1 AS one; -- done"))["rows"] == [[1]]
        assert (await sql.query(";; SELECT 2 AS two ;"))["rows"] == [[2]]
        assert (await sql.query("SELECT 'a;b' AS text"))["rows"] == [["a;b"]]


# -- the database refuses on its own ------------------------------------------------------


def _database_refusal(db: TestDatabase) -> str:
    """The words the database uses when a read-only transaction or file refuses a write."""
    return {
        "postgresql": "read-only transaction",
        "mariadb": "READ ONLY",
        "sqlite": "readonly database",
    }[db.dialect]


def _stacked_refusal(db: TestDatabase) -> str:
    return {
        "postgresql": "cannot insert multiple commands into a prepared statement",
        "mariadb": "syntax",
        "sqlite": "one statement at a time",
    }[db.dialect]


async def _refused_by_database(sql: SqlClient, db: TestDatabase) -> None:
    t = db.table
    writes = [
        f"INSERT INTO {t('customers')} (id, name) VALUES (99, 'Mallory')",
        f"UPDATE {t('customers')} SET name = 'Mallory'",
        f"DELETE FROM {t('orders')}",
    ]
    if db.dialect != "sqlite":
        writes += [f"CREATE TABLE {t('evil')} (id integer)", f"SELECT {t('bump')}()"]
    if db.dialect == "postgresql":
        writes += [
            f"WITH gone AS (DELETE FROM {t('orders')} RETURNING *) SELECT count(*) FROM gone",
            f"SELECT nextval('{db.schema}.tickets')",
        ]
    for write in writes:
        message = await sql.error("query", sql=write)
        assert _database_refusal(db) in message, (write, message)
        assert sql.checked_out() == 0
    stacked = f"SELECT 1; DELETE FROM {t('orders')}"
    assert _stacked_refusal(db) in await sql.error("query", sql=stacked)


@pytest.mark.usefixtures("without_sql_checks")
async def test_the_database_refuses_writes_on_a_read_only_instance(db: TestDatabase) -> None:
    before = await db.snapshot()
    async with db.serve(list_unavailable=True) as sql:
        await _refused_by_database(sql, db)
    assert await db.snapshot() == before


@pytest.mark.usefixtures("without_sql_checks")
async def test_query_is_read_only_on_an_instance_that_may_write(db: TestDatabase) -> None:
    before = await db.snapshot()
    async with db.serve(allow_writes=True) as sql:
        await _refused_by_database(sql, db)
        # the same connection pool still writes through execute
        await sql.ok("execute", sql=f"UPDATE {db.table('customers')} SET name = name")
        await _refused_by_database(sql, db)
    assert await db.snapshot() == before


@pytest.mark.usefixtures("without_sql_checks")
async def test_sqlite_itself_refuses_attach_vacuum_into_and_pragmas(
    sqlite: TestDatabase, tmp_path: Path
) -> None:
    """SQLite's authorizer: no file is created, the session is not changed."""
    target = tmp_path / "created"
    before = await sqlite.snapshot()
    async with sqlite.serve() as sql:
        for attempt in [
            f"ATTACH DATABASE '{target}' AS evil",
            f"VACUUM INTO '{target}'",
            "VACUUM",
            "PRAGMA query_only = OFF",
            "PRAGMA writable_schema = ON",
            "PRAGMA main.journal_mode = DELETE",
            "SELECT load_extension('evil')",
        ]:
            message = await sql.error("query", sql=attempt)
            assert "not authorized" in message or "denied" in message, (attempt, message)
        assert (await sql.query("PRAGMA query_only"))["rows"] == [[1]]
        # introspection's pragmas still work
        assert (await sql.ok("describe_table", table="orders"))["name"] == "orders"
    assert not target.exists()
    assert await sqlite.snapshot() == before
