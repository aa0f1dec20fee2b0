"""What differs between PostgreSQL, MariaDB/MySQL and SQLite.

How each is made read-only, how its statements are timed out and cancelled, how it
explains a plan.

Read-only is the database's job, not the SQL parser's, and after every call the
connection is reset (:meth:`DialectRules.reset`, :mod:`plugbay_sql.session_cleanup`):

- PostgreSQL: every read runs in ``BEGIN READ ONLY`` (and sessions of read-only
  instances default to ``default_transaction_read_only``), under the session's
  ``statement_timeout`` and, when configured, ``SET LOCAL ROLE``. asyncpg prepares every
  statement, and a prepared statement cannot hold several.
- MariaDB/MySQL: reads run in ``START TRANSACTION READ ONLY`` inside a read-only
  session (``tx_read_only`` / ``transaction_read_only``, set on every call; read-only
  instances also set it when they connect). The transaction refuses writes that ``SET
  STATEMENT tx_read_only = 0 FOR ...`` would let through a session; the session refuses
  DDL, which a read-only *transaction* would let through after its implicit commit.
  ``max_statement_time`` (MariaDB) or ``max_execution_time`` (MySQL) bounds each
  statement; ``sql_select_limit`` stops the server after one row more than the caller
  wants. aiomysql asks for multi-statements when it connects; each connection turns
  them off again.
- SQLite: the file is opened read-only (``mode=ro``) for read-only instances and
  ``PRAGMA query_only`` is on for every read; a progress handler interrupts a
  statement past its deadline; Python's sqlite3 runs one statement per call.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import sqlite3
import time
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncResult

from plugbay_sql import session_cleanup
from plugbay_sql.settings import SqlSettings
from plugbay_sql.sqlite_authorizer import ReadGuard, read_only_authorizer
from plugbay_sql.sqlite_files import check_sqlite_file, sqlite_file

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a new connection before the call fails."""
_PREPARED = "plugbay_sql.prepared"
_BACKEND_ID = "plugbay_sql.backend_id"
_DEADLINE = "plugbay_sql.deadline"
_GUARD = "plugbay_sql.read_guard"


class DialectRules:
    """The per-database behaviour the :class:`~plugbay_sql.database.Database` relies on.

    Connection-level state lives in ``AsyncConnection.info``, which belongs to the DBAPI
    connection: it survives check-ins and is cleared when the connection is replaced.
    """

    family: ClassVar[str]
    system_schemas: ClassVar[frozenset[str]] = frozenset()
    discard_after_write: ClassVar[bool] = True
    """Close a connection that ran a caller's writes instead of reusing it: a procedure
    or DO block may have changed its session (settings, roles, locks)."""

    @property
    def driver_errors(self) -> tuple[type[Exception], ...]:
        """The driver's own exceptions, which SQLAlchemy lets through unwrapped in places.

        asyncpg's server-side cursors, for one, raise them when fetching.
        """
        return ()

    def __init__(self, settings: SqlSettings, instance: str) -> None:
        self.settings = settings
        self.instance = instance

    def engine_url(self) -> URL:
        """The URL to connect with (password included)."""
        return self.settings.engine_url()

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for ``create_async_engine`` (driver connect arguments)."""
        return {}

    def check_target(self) -> None:
        """Before connecting: refuse a database that is missing where it can be seen locally.

        Raises:
            ToolError: Naming what is missing and the setting to change.
        """

    async def prepare(self, conn: AsyncConnection) -> None:
        """Set up a newly opened DBAPI connection; runs once per connection."""
        if conn.info.get(_PREPARED):
            return
        await self._prepare(conn)
        conn.info[_PREPARED] = True

    async def _prepare(self, conn: AsyncConnection) -> None:
        """Per-connection setup of one database."""

    async def begin(
        self, conn: AsyncConnection, *, write: bool, seconds: float, select_limit: int | None
    ) -> None:
        """Start the call's transaction: read-only unless ``write``, with its timeout.

        Args:
            conn: The checked-out connection, with no transaction begun.
            write: Whether the call may write.
            seconds: The statement timeout: seconds before the database cancels a statement.
            select_limit: Where the database supports it, the most rows a query returns.
        """

    async def reset(self, conn: AsyncConnection) -> bool:
        """After the call's rollback: clear the session state a statement may leave.

        Runs whatever the statement was (see :mod:`plugbay_sql.session_cleanup`).

        Args:
            conn: The connection, its transaction rolled back.

        Returns:
            Whether the connection is clean and may be reused; if not, it is discarded.
        """
        return True

    def finish(self, info: dict[Any, Any], *, interrupt: bool) -> None:
        """After the call: ``interrupt`` asks a statement still running to stop.

        Args:
            info: The connection's ``info``, taken before the call: after a failure the
                connection itself may no longer give it.
            interrupt: The call did not finish normally.
        """

    async def abandon_result(self, conn: AsyncConnection, result: AsyncResult[Any]) -> None:
        """Stop a result whose remaining rows are not wanted, without reading them."""
        await result.close()

    def cancel_statement(self, info: dict[Any, Any]) -> str | None:
        """SQL that cancels, from another connection, the statement running on this one.

        Args:
            info: The ``info`` of the connection whose statement to cancel.
        """
        return None

    def explain_sql(self, sql: str) -> str:
        """The statement that explains ``sql``'s plan without running it."""
        return f"EXPLAIN {sql}"

    def format_plan(self, rows: Sequence[Sequence[Any]]) -> str:
        """The plan as text, from the rows the explain statement returned."""
        return "\n".join(str(row[0]) for row in rows)

    async def row_estimate(self, conn: AsyncConnection, schema: str, table: str) -> int | None:
        """The database's estimate of a table's row count, if it keeps one."""
        return None


class PostgresRules(DialectRules):
    """PostgreSQL through asyncpg."""

    family = "postgresql"
    system_schemas = frozenset({"information_schema", "pg_catalog", "pg_toast"})

    _ESTIMATE = text(
        "SELECT c.reltuples::bigint FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relname = :table"
    )

    def __init__(self, settings: SqlSettings, instance: str) -> None:
        super().__init__(settings, instance)
        role = settings.read_only_role
        # A parameter keeps the role name out of the SQL text.
        self._role_setup = (
            text("SELECT set_config('role', :role, true)").bindparams(role=role) if role else None
        )

    @property
    def driver_errors(self) -> tuple[type[Exception], ...]:
        """The server's errors as asyncpg raises them, and its client-side ones."""
        import asyncpg  # type: ignore[import-untyped,unused-ignore]

        return (asyncpg.PostgresError, asyncpg.InterfaceError)

    def engine_options(self) -> dict[str, Any]:
        """Session settings for asyncpg: application name, timeout, read-only default."""
        server_settings = {
            "application_name": f"plugbay-sql {self.instance}"[:63],
            # Also bounds the dialect's own queries when a connection opens.
            "statement_timeout": str(max(1, round(self.settings.statement_timeout * 1000))),
        }
        if not self.settings.allow_writes:
            server_settings["default_transaction_read_only"] = "on"
        return {"connect_args": {"server_settings": server_settings, "timeout": CONNECT_TIMEOUT}}

    async def _prepare(self, conn: AsyncConnection) -> None:
        raw = await conn.get_raw_connection()
        conn.info[_BACKEND_ID] = raw.driver_connection.get_server_pid()  # type: ignore[union-attr]

    async def begin(
        self, conn: AsyncConnection, *, write: bool, seconds: float, select_limit: int | None
    ) -> None:
        """``BEGIN READ ONLY`` for reads, and ``SET LOCAL ROLE`` when configured.

        ``statement_timeout`` is the session's, set when the connection opens: a ``SET``
        inside the call is undone by its rollback and the reset's ``RESET ALL``, and
        connections that ran a caller's writes are closed, so no round trip renews it.
        """
        if write:
            return
        # BEGIN READ ONLY, sent by asyncpg with the transaction's first statement.
        await conn.execution_options(postgresql_readonly=True)
        if self._role_setup is not None:
            await conn.execute(self._role_setup)

    async def reset(self, conn: AsyncConnection) -> bool:
        """Release advisory locks, drop temporary tables, reset settings (one round trip)."""
        raw = await conn.get_raw_connection()
        return await session_cleanup.reset_postgres(raw.driver_connection)

    def cancel_statement(self, info: dict[Any, Any]) -> str | None:
        """``pg_cancel_backend`` of the connection's server process."""
        pid = info.get(_BACKEND_ID)
        return f"SELECT pg_cancel_backend({int(pid)})" if pid is not None else None

    async def row_estimate(self, conn: AsyncConnection, schema: str, table: str) -> int | None:
        """``pg_class.reltuples``, as of the last VACUUM or ANALYZE."""
        estimate = (await conn.execute(self._ESTIMATE, {"schema": schema, "table": table})).scalar()
        # -1: never vacuumed or analyzed, so PostgreSQL does not know.
        return int(estimate) if estimate is not None and estimate >= 0 else None


class MySqlRules(DialectRules):
    """MariaDB and MySQL through aiomysql (or asyncmy)."""

    family = "mysql"
    system_schemas = frozenset({"information_schema", "mysql", "performance_schema", "sys"})

    _ESTIMATE = text(
        "SELECT TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = :schema AND TABLE_NAME = :table"
    )

    @property
    def driver_errors(self) -> tuple[type[Exception], ...]:
        """PyMySQL's errors (aiomysql raises them), and asyncmy's when it is installed."""
        errors: list[type[Exception]] = []
        for module, name in (("pymysql.err", "MySQLError"), ("asyncmy.errors", "MySQLError")):
            try:
                errors.append(getattr(importlib.import_module(module), name))
            except ImportError:
                continue
        return tuple(errors)

    def engine_options(self) -> dict[str, Any]:
        """A connect timeout, a read-only session for read-only instances, no second rollback.

        A connection goes back to the pool only after its rollback and
        ``COM_RESET_CONNECTION`` (which rolls back too), or is discarded: the pool's own
        rollback on return would be a third round trip for nothing.
        """
        connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT}
        if not self.settings.allow_writes:
            connect_args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
        return {"connect_args": connect_args, "pool_reset_on_return": None}

    async def _prepare(self, conn: AsyncConnection) -> None:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        # The driver asked for multi-statements at the handshake and offers no way not
        # to: tell the server to refuse several statements in one query again.
        turned_off = await session_cleanup.mysql_command(
            driver, session_cleanup.COM_SET_OPTION, session_cleanup.MULTI_STATEMENTS_OFF
        )
        if not turned_off:  # pragma: no cover - a driver without aiomysql's internals
            logger.warning(
                "sql instance %s: cannot turn multi-statements off with this driver; "
                "several statements in one call are refused by parsing only",
                self.instance,
            )
        thread_id = getattr(driver, "thread_id", None)
        if callable(thread_id):
            conn.info[_BACKEND_ID] = thread_id()

    async def begin(
        self, conn: AsyncConnection, *, write: bool, seconds: float, select_limit: int | None
    ) -> None:
        """One ``SET SESSION``, then, for reads, ``START TRANSACTION READ ONLY``.

        The session is set on every call (read-only or not, no autocommit, the
        statement timeout, the row limit): the previous call's reset returned it to
        the server's defaults. Reads then run in a read-only transaction as well as a
        read-only session: the transaction refuses writes even under ``SET STATEMENT
        tx_read_only = 0 FOR ...``, the session refuses DDL (which would otherwise
        commit the transaction and run outside it).
        """
        limit = str(int(select_limit)) if select_limit else "DEFAULT"
        read_only = "tx_read_only" if conn.dialect.is_mariadb else "transaction_read_only"  # type: ignore[attr-defined]
        if conn.dialect.is_mariadb:  # type: ignore[attr-defined]
            timeout = f"max_statement_time = {seconds:.3f}"
        else:
            timeout = f"max_execution_time = {max(1, round(seconds * 1000))}"
        await conn.exec_driver_sql(
            f"SET SESSION autocommit = 0, {read_only} = {0 if write else 1}, "
            f"{timeout}, sql_select_limit = {limit}"
        )
        if not write:
            await conn.exec_driver_sql("START TRANSACTION READ ONLY")

    async def reset(self, conn: AsyncConnection) -> bool:
        """``COM_RESET_CONNECTION``: locks, temporary tables, variables, handlers go."""
        raw = await conn.get_raw_connection()
        return await session_cleanup.reset_mysql(raw.driver_connection)

    def cancel_statement(self, info: dict[Any, Any]) -> str | None:
        """``KILL QUERY`` of the connection's thread."""
        thread_id = info.get(_BACKEND_ID)
        return f"KILL QUERY {int(thread_id)}" if thread_id is not None else None

    async def abandon_result(self, conn: AsyncConnection, result: AsyncResult[Any]) -> None:
        """Drop the connection, and with it the result.

        Closing an unbuffered result would read every row left (a ``LIMIT`` in the
        query overrides ``sql_select_limit``); a closed connection makes the server stop.
        """
        await conn.invalidate()

    def explain_sql(self, sql: str) -> str:
        """``EXPLAIN FORMAT=JSON``: the plan with costs, as one JSON document."""
        return f"EXPLAIN FORMAT=JSON {sql}"

    async def row_estimate(self, conn: AsyncConnection, schema: str, table: str) -> int | None:
        """``information_schema.TABLES.TABLE_ROWS`` (exact for MyISAM, estimated for InnoDB)."""
        estimate = (await conn.execute(self._ESTIMATE, {"schema": schema, "table": table})).scalar()
        return int(estimate) if estimate is not None else None


class SqliteRules(DialectRules):
    """SQLite through aiosqlite."""

    family = "sqlite"
    # Nothing a statement leaves in a SQLite connection outlives it harmfully, and an
    # in-memory database lives only as long as its one connection.
    discard_after_write = False
    _PROGRESS_STEPS = 1000
    """SQLite virtual-machine steps between two looks at the deadline."""

    @property
    def driver_errors(self) -> tuple[type[Exception], ...]:
        """The sqlite3 module's errors."""
        return (sqlite3.Error,)

    def engine_url(self) -> URL:
        """The file as a URI: ``mode=ro`` read-only, ``mode=rw`` unless ``create`` is set.

        ``mode=rw`` makes SQLite itself refuse to create a missing file, even one
        removed after the start.
        """
        url = super().engine_url()
        if sqlite_file(url) is None:
            return url
        mode = "rw" if self.settings.allow_writes else "ro"
        if self.settings.allow_writes and self.settings.create:
            mode = "rwc"
        database = url.database or ""
        if url.query.get("uri") == "true" or database.startswith("file:"):
            # Already a URI: keep it, in the instance's mode.
            return url.update_query_dict({"mode": mode, "uri": "true"})
        path = quote(os.path.abspath(database))
        return url.set(database=f"file:{path}").update_query_dict({"mode": mode, "uri": "true"})

    def check_target(self) -> None:
        """A missing file is an error, unless ``create`` (with ``allow_writes``) is set.

        Raises:
            ToolError: Naming the path, the ``url`` setting and, where it helps, ``create``.
        """
        check_sqlite_file(self.settings, self.instance)

    def engine_options(self) -> dict[str, Any]:
        """How long to wait for another connection's lock."""
        return {"connect_args": {"timeout": CONNECT_TIMEOUT}}

    async def _prepare(self, conn: AsyncConnection) -> None:
        deadline = [math.inf]
        conn.info[_DEADLINE] = deadline
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection

        def past_deadline() -> int:
            # Runs in aiosqlite's thread every few steps; non-zero interrupts the statement.
            return 1 if time.monotonic() > deadline[0] else 0

        await driver.set_progress_handler(past_deadline, self._PROGRESS_STEPS)
        if not self.settings.allow_writes:
            await conn.exec_driver_sql("PRAGMA query_only = ON")
            # After the pragma above: from here on, SQLite itself refuses ATTACH,
            # VACUUM INTO and pragmas that set.
            await driver.set_authorizer(read_only_authorizer)
            return
        # An instance that may write has the same authorizer during its reads (query,
        # explain, listings), switched on by begin() once query_only is set.
        guard = ReadGuard()
        conn.info[_GUARD] = guard
        await driver.set_authorizer(guard)

    async def begin(
        self, conn: AsyncConnection, *, write: bool, seconds: float, select_limit: int | None
    ) -> None:
        """Set the deadline; when the instance may also write, ``query_only`` and the authorizer."""
        conn.info[_DEADLINE][0] = time.monotonic() + seconds
        if self.settings.allow_writes:
            guard: ReadGuard = conn.info[_GUARD]
            guard.reading = False  # the authorizer would refuse the pragma below
            await conn.exec_driver_sql(f"PRAGMA query_only = {'OFF' if write else 'ON'}")
            if write:
                guard.stale = True
            elif guard.stale:
                raw = await conn.get_raw_connection()
                # Expires the statements prepared while the guard was off.
                await raw.driver_connection.set_authorizer(guard)  # type: ignore[union-attr]
                guard.stale = False
            guard.reading = not write

    def finish(self, info: dict[Any, Any], *, interrupt: bool) -> None:
        """Clear the deadline, or move it to the past to interrupt what still runs."""
        deadline = info.get(_DEADLINE)
        if deadline is not None:
            deadline[0] = -math.inf if interrupt else math.inf

    def explain_sql(self, sql: str) -> str:
        """``EXPLAIN QUERY PLAN``."""
        return f"EXPLAIN QUERY PLAN {sql}"

    def format_plan(self, rows: Sequence[Sequence[Any]]) -> str:
        """The plan as an indented tree."""
        # Rows are (id, parent, notused, detail); indent each under its parent.
        depth: dict[int, int] = {0: -1}
        lines = []
        for row in rows:
            node, parent, detail = int(row[0]), int(row[1]), str(row[3])
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)

    async def row_estimate(self, conn: AsyncConnection, schema: str, table: str) -> int | None:
        """An exact ``count(*)``: SQLite keeps no estimate (bounded by the timeout)."""
        quote_name = conn.dialect.identifier_preparer.quote
        # Quoted identifiers of a table the inspector found, not caller text.
        counting = text(f"SELECT count(*) FROM {quote_name(schema)}.{quote_name(table)}")  # noqa: S608
        count = (await conn.execute(counting)).scalar()
        return int(count) if count is not None else None


def rules_for(settings: SqlSettings, instance: str) -> DialectRules:
    """The rules of the database ``settings.url`` names."""
    backend = settings.backend
    if backend == "postgresql":
        return PostgresRules(settings, instance)
    if backend in ("mysql", "mariadb"):
        return MySqlRules(settings, instance)
    return SqliteRules(settings, instance)
