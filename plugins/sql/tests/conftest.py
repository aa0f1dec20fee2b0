"""Databases for the SQL connector's tests: SQLite files, the real PostgreSQL and MariaDB.

Each test run creates its own uniquely named schema (MariaDB: database), fills it with
the same small shop (customers, orders, a view, a writing function...), and drops it at
the end. A server that cannot be reached skips its tests with a reason that says how to
start it, or fails them when ``CI=true``.

Setup and teardown run in a thread of their own with their own event loop, so that they
never touch the loop a test runs on.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import mcp_types as types
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from plugbay_sql import SqlConnector
from plugbay_sql.statements import Statement
from plugbay_testing import Harness, serve

T = TypeVar("T")

POSTGRES_CANDIDATES = (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "postgresql+asyncpg://root@127.0.0.1:5432/test",
)
MARIADB_CANDIDATES = ("mariadb+aiomysql://root@127.0.0.1:3306/test",)
HOW_TO_START = {
    "postgresql": (
        "PostgreSQL is not reachable at 127.0.0.1:5432 (database 'test', trust auth, user "
        "postgres or root). Start one, e.g. `docker run -d -p 5432:5432 -e POSTGRES_DB=test "
        "-e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`, or set PLUGBAY_TEST_POSTGRES_URL"
    ),
    "mariadb": (
        "MariaDB is not reachable at 127.0.0.1:3306 (user root without password, database "
        "'test'). Start one, e.g. `docker run -d -p 3306:3306 -e MARIADB_DATABASE=test "
        "-e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 mariadb:11`, or set PLUGBAY_TEST_MARIADB_URL"
    ),
}
NUMBERS = 1200
"""Rows in the ``numbers`` table: more than the default row limit (500)."""
BIG_TEXT = "0123456789" * 1000
DIALECTS = ("sqlite", "postgresql", "mariadb")


def in_thread(function: Callable[[], Awaitable[T]]) -> T:
    """Run an async function to completion on a fresh event loop in another thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function).result()


def unreachable(dialect: str, problem: str) -> None:
    """Skip (or, under CI, fail) a test that needs a database server that is not there."""
    message = f"{HOW_TO_START[dialect]} ({problem})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@dataclass
class TestDatabase:
    """One database holding the test schema.

    Attributes:
        dialect: ``sqlite``, ``postgresql`` or ``mariadb``.
        url: The connector's ``url`` setting.
        schema: The schema holding the test tables (SQLite: ``main``).
        sqlite_path: The SQLite file, for SQLite.
    """

    __test__ = False  # not a test class, whatever its name says

    dialect: str
    url: str
    schema: str
    sqlite_path: Path | None = None
    numbers: int = NUMBERS
    """Rows in its ``numbers`` table."""
    big_text: str = BIG_TEXT
    """The text in its ``blobs`` table."""

    def table(self, name: str) -> str:
        """``name`` qualified with the test schema, quoted as the dialect quotes."""
        if self.dialect == "mariadb":
            return f"`{self.schema}`.{name}"
        return f'"{self.schema}".{name}'

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Connector settings for this database, narrowed to the test schema."""
        return {"url": self.url, "schemas": [self.schema], **overrides}

    async def admin(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` with full rights outside the connector (autocommit) and return rows."""
        engine = create_async_engine(
            _admin_url(self.url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as conn:
                result = await conn.execute(text(sql), params or {})
                return [tuple(row) for row in result.fetchall()] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def count(self, table: str) -> int:
        """Rows in one of the test tables."""
        rows = await self.admin(f"SELECT count(*) FROM {self.table(table)}")
        return int(rows[0][0])

    async def snapshot(self) -> dict[str, Any]:
        """What write attempts must leave unchanged: row counts and the list of tables."""
        counts = {name: await self.count(name) for name in ("customers", "orders", "audit")}
        return {"counts": counts, "tables": await self.table_names()}

    async def table_names(self) -> list[str]:
        """The tables and views in the test schema."""
        if self.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
            return [row[0] for row in await self.admin(sql)]
        sql = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
            "ORDER BY table_name"
        )
        return [row[0] for row in await self.admin(sql, {"schema": self.schema})]

    @asynccontextmanager
    async def serve(
        self, instance: str = "db", *, list_unavailable: bool = False, **overrides: Any
    ) -> AsyncIterator[SqlClient]:
        """Serve one connector instance on this database through an in-process client.

        ``list_unavailable`` lists execute on a read-only instance too, to call it there.
        """
        async with serve(
            SqlConnector,
            config={"server": {"list_unavailable_tools": list_unavailable}},
            settings=self.settings(**overrides),
            instance=instance,
        ) as harness:
            yield SqlClient(harness)


def _admin_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    return url


# -- the shop every dialect holds ----------------------------------------------------------


def _postgres_seed(schema: str) -> list[str]:
    s = f'"{schema}"'
    return [
        f"CREATE SCHEMA {s}",
        f"CREATE TABLE {s}.customers (id integer PRIMARY KEY, name varchar(100) NOT NULL, "
        "email varchar(200) UNIQUE, joined date)",
        f"COMMENT ON TABLE {s}.customers IS 'People who bought something'",
        f"CREATE TABLE {s}.orders (id integer PRIMARY KEY, customer_id integer NOT NULL "
        f"REFERENCES {s}.customers(id), amount numeric(10, 2), note text)",
        f"CREATE INDEX orders_customer_idx ON {s}.orders (customer_id)",
        f"CREATE TABLE {s}.numbers (n integer PRIMARY KEY)",
        f"CREATE TABLE {s}.audit (id serial PRIMARY KEY, note text)",
        f"CREATE TABLE {s}.blobs (id integer PRIMARY KEY, body text, data bytea)",
        f"CREATE VIEW {s}.big_orders AS SELECT * FROM {s}.orders WHERE amount > 100",
        f"CREATE SEQUENCE {s}.tickets",
        f"CREATE FUNCTION {s}.bump() RETURNS integer VOLATILE LANGUAGE sql AS "
        f"$$ INSERT INTO {s}.audit (note) VALUES ('bumped') RETURNING id $$",
        *_shop_rows(s, "'\\x00ff'::bytea"),
        f"INSERT INTO {s}.numbers SELECT generate_series(1, {NUMBERS})",
        f"ANALYZE {s}.customers",
        f"ANALYZE {s}.orders",
        f"ANALYZE {s}.numbers",
    ]


def _mariadb_seed(schema: str) -> list[str]:
    s = f"`{schema}`"
    return [
        f"CREATE DATABASE {s}",
        f"CREATE TABLE {s}.customers (id integer PRIMARY KEY, name varchar(100) NOT NULL, "
        "email varchar(200) UNIQUE, joined date) COMMENT 'People who bought something'",
        f"CREATE TABLE {s}.orders (id integer PRIMARY KEY, customer_id integer NOT NULL, "
        "amount decimal(10, 2), note text, KEY orders_customer_idx (customer_id), "
        f"CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES {s}.customers(id))",
        f"CREATE TABLE {s}.numbers (n integer PRIMARY KEY)",
        f"CREATE TABLE {s}.audit (id integer AUTO_INCREMENT PRIMARY KEY, note text)",
        f"CREATE TABLE {s}.blobs (id integer PRIMARY KEY, body longtext, data blob)",
        f"CREATE VIEW {s}.big_orders AS SELECT * FROM {s}.orders WHERE amount > 100",
        f"CREATE SEQUENCE {s}.tickets",
        f"CREATE FUNCTION {s}.bump() RETURNS integer MODIFIES SQL DATA BEGIN "
        f"INSERT INTO {s}.audit (note) VALUES ('bumped'); RETURN 1; END",
        *_shop_rows(s, "x'00ff'"),
        f"INSERT INTO {s}.numbers SELECT seq FROM seq_1_to_{NUMBERS}",
        f"ANALYZE TABLE {s}.customers, {s}.orders, {s}.numbers",
    ]


def _shop_rows(s: str, binary: str) -> list[str]:
    return [
        f"INSERT INTO {s}.customers VALUES (1, 'Ada', 'ada@example.com', '2024-01-15'), "
        "(2, 'Grace', 'grace@example.com', '2024-02-20'), (3, 'Linus', NULL, NULL)",
        f"INSERT INTO {s}.orders VALUES (1, 1, 120.50, 'first'), (2, 1, 19.99, NULL), "
        "(3, 2, 300.00, 'bulk: 3 boxes')",
        f"INSERT INTO {s}.blobs VALUES (1, '{BIG_TEXT}', {binary})",
    ]


def _sqlite_seed(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(
            f"""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,
                email VARCHAR(200) UNIQUE, joined DATE);
            CREATE TABLE orders (id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                amount NUMERIC(10, 2), note TEXT);
            CREATE INDEX orders_customer_idx ON orders (customer_id);
            CREATE TABLE numbers (n INTEGER PRIMARY KEY);
            CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);
            CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT, data BLOB);
            CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
            {";".join(_shop_rows("main", "x'00ff'"))};
            WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {NUMBERS})
            INSERT INTO numbers SELECT n FROM c;
            """
        )
        connection.commit()
    finally:
        connection.close()


async def _run_all(url: str, statements: Sequence[str]) -> None:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _reachable(candidates: Sequence[str]) -> tuple[str | None, str]:
    problem = "no URL to try"
    for url in candidates:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            with anyio.fail_after(5):
                async with engine.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")
            return url, ""
        except Exception as error:  # any failure means: not this one
            problem = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        finally:
            await engine.dispose()
    return None, problem


def _candidates(variable: str, defaults: Sequence[str]) -> Sequence[str]:
    override = os.environ.get(variable)
    return (override,) if override else defaults


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the test PostgreSQL, or a skip (failure under CI)."""
    url, problem = in_thread(
        lambda: _reachable(_candidates("PLUGBAY_TEST_POSTGRES_URL", POSTGRES_CANDIDATES))
    )
    if url is None:
        unreachable("postgresql", problem)
    assert url is not None
    return url


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """The URL of the test MariaDB, or a skip (failure under CI)."""
    url, problem = in_thread(
        lambda: _reachable(_candidates("PLUGBAY_TEST_MARIADB_URL", MARIADB_CANDIDATES))
    )
    if url is None:
        unreachable("mariadb", problem)
    assert url is not None
    return url


@pytest.fixture(scope="session")
def postgresql(postgres_server: str) -> Iterator[TestDatabase]:
    """A schema of its own in the real PostgreSQL, dropped after the run."""
    schema = f"plugbay_sql_{uuid.uuid4().hex[:10]}"
    in_thread(lambda: _run_all(postgres_server, _postgres_seed(schema)))
    try:
        yield TestDatabase("postgresql", postgres_server, schema)
    finally:
        in_thread(lambda: _run_all(postgres_server, [f'DROP SCHEMA "{schema}" CASCADE']))


@pytest.fixture(scope="session")
def mariadb(mariadb_server: str) -> Iterator[TestDatabase]:
    """A database of its own in the real MariaDB, dropped after the run."""
    schema = f"plugbay_sql_{uuid.uuid4().hex[:10]}"
    in_thread(lambda: _run_all(mariadb_server, _mariadb_seed(schema)))
    url = make_url(mariadb_server).set(database=schema).render_as_string(hide_password=False)
    try:
        yield TestDatabase("mariadb", url, schema)
    finally:
        in_thread(lambda: _run_all(mariadb_server, [f"DROP DATABASE `{schema}`"]))


@pytest.fixture(scope="session")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> TestDatabase:
    """A SQLite file with the shop."""
    path = tmp_path_factory.mktemp("sqlite") / "shop.db"
    _sqlite_seed(path)
    return TestDatabase("sqlite", f"sqlite:///{path}", "main", sqlite_path=path)


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest) -> TestDatabase:
    """Each of the three databases in turn."""
    database: TestDatabase = request.getfixturevalue(request.param)
    return database


# -- calling the connector ----------------------------------------------------------------


def text_of(result: types.CallToolResult) -> str:
    """The text blocks of a tool result, joined."""
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@dataclass
class SqlClient:
    """A served instance with shortcuts for the checks the tests make."""

    harness: Harness

    async def ok(self, tool: str, **arguments: Any) -> Any:
        """Call a tool that must succeed; its structured content (or text)."""
        return await self.harness.call_ok(tool, **arguments)

    async def query(self, sql: str, **arguments: Any) -> dict[str, Any]:
        """Run a query that must succeed; its structured result."""
        data: dict[str, Any] = await self.harness.call_ok("query", sql=sql, **arguments)
        return data

    async def error(self, tool: str, **arguments: Any) -> str:
        """Call a tool that must fail cleanly (isError, not a crash); its message."""
        result = await self.harness.call(tool, **arguments)
        message = text_of(result)
        assert result.is_error, f"{tool}({arguments}) should have failed: {message[:300]}"
        assert "failed unexpectedly" not in message, message
        return message

    @property
    def connector(self) -> SqlConnector:
        """The running connector object."""
        connector = self.harness.connector
        assert isinstance(connector, SqlConnector)
        return connector

    def checked_out(self) -> int:
        """Connections of the instance's pool that are checked out right now."""
        pool: Any = self.connector.database.engine.pool
        return int(pool.checkedout())


# -- the connector's own checks, switched off --------------------------------------------


@pytest.fixture
def without_sql_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send statements to the database exactly as given: no parsing, no refusal.

    What still holds then is what the database (read-only transactions, the account's
    privileges) and the connection reset enforce.
    """

    def verbatim(sql: str) -> Statement:
        return Statement(text=sql, keyword="SELECT", names=frozenset())

    patched = 0
    for name in ("connector", "checking"):
        try:
            module = importlib.import_module(f"plugbay_sql.{name}")
        except ImportError:
            continue
        if hasattr(module, "parse_statement"):
            monkeypatch.setattr(module, "parse_statement", verbatim)
            patched += 1
        for name in ("check_read_only", "check_outside_effects", "check_explainable"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, lambda statement, dialect: None)
    # Fail loudly rather than test with the checks still on.
    assert patched, "parse_statement moved: without_sql_checks must follow it"


# -- least-privilege accounts, as the README recommends them -------------------------------


def postgres_reader_grants(role: str, database: str, schema: str) -> list[str]:
    """The README's PostgreSQL read-only account, for one schema (no password: trust auth)."""
    return [
        f'CREATE ROLE "{role}" LOGIN',
        f'ALTER ROLE "{role}" SET default_transaction_read_only = on',
        f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
    ]


def mariadb_reader_grants(user: str, database: str, schema: str) -> list[str]:
    """The README's MariaDB/MySQL read-only account, for one database (no password)."""
    return [
        f"CREATE USER '{user}'@'%'",
        f"GRANT SELECT, SHOW VIEW ON `{schema}`.* TO '{user}'@'%'",
    ]


async def _run_text(url: str, statements: Sequence[str]) -> None:
    """Like ``_run_all``, through ``text()``: a ``%`` in a statement stays a ``%``."""
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


ReaderGrants = Callable[[str, str, str], list[str]]
"""The statements that create a read-only account: (user, database, schema) -> SQL."""
READER_GRANTS: dict[str, ReaderGrants] = {
    "postgresql": postgres_reader_grants,
    "mariadb": mariadb_reader_grants,
}


@pytest.fixture
def reader_grants() -> dict[str, ReaderGrants]:
    """How to create the README's least-privilege account, per database."""
    return READER_GRANTS


@pytest.fixture(scope="session")
def postgresql_reader(postgresql: TestDatabase) -> Iterator[TestDatabase]:
    """The test schema, reached through a least-privilege PostgreSQL role."""
    role = f"plugbay_reader_{uuid.uuid4().hex[:8]}"
    admin = postgresql.url
    database = make_url(admin).database or "test"
    in_thread(lambda: _run_all(admin, postgres_reader_grants(role, database, postgresql.schema)))
    url = make_url(admin).set(username=role).render_as_string(hide_password=False)
    try:
        yield TestDatabase("postgresql", url, postgresql.schema)
    finally:
        in_thread(lambda: _run_all(admin, [f'DROP OWNED BY "{role}"', f'DROP ROLE "{role}"']))


@pytest.fixture(scope="session")
def mariadb_reader(mariadb: TestDatabase) -> Iterator[TestDatabase]:
    """The test database, reached through a least-privilege MariaDB user."""
    user = f"plugbay_reader_{uuid.uuid4().hex[:8]}"
    admin = mariadb.url
    in_thread(lambda: _run_text(admin, mariadb_reader_grants(user, "", mariadb.schema)))
    url = make_url(admin).set(username=user).render_as_string(hide_password=False)
    try:
        yield TestDatabase("mariadb", url, mariadb.schema)
    finally:
        in_thread(lambda: _run_text(admin, [f"DROP USER '{user}'@'%'"]))
