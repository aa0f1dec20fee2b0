"""The SQL connector: tools, resources and a prompt over one relational database.

Every call goes through :meth:`Database.run <plugbay_sql.database.Database.run>`, which
runs it in a read-only transaction (or, for ``execute``, a read-write one) under the
statement timeout and always gives the connection back. Statements are checked by
:mod:`plugbay_sql.statements` first; the database enforces read-only itself.
"""

# The sql, params and schema arguments are described once, in their Annotated types
# (plugbay_sql.arguments), rather than in every docstring.
# ruff: noqa: D417

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import Field
from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from plugbay import Connector, ToolError, prompt, resource, setting_variable, tool
from plugbay_sql import schema as introspection
from plugbay_sql.arguments import (
    ParamsArgument,
    Plan,
    SchemaArgument,
    SchemaList,
    SqlArgument,
    TableList,
)
from plugbay_sql.checking import StatementChecker
from plugbay_sql.database import DESCRIPTION, Database
from plugbay_sql.keywords import DATABASE_NAMES
from plugbay_sql.privileges import check_account
from plugbay_sql.results import (
    ExecuteResult,
    QueryResult,
    ResultColumn,
    read_query,
    read_returning,
)
from plugbay_sql.schema import TableDescription, TableSummary
from plugbay_sql.settings import SqlSettings
from plugbay_sql.statements import (
    Statement,
    check_explainable,
    check_outside_effects,
    check_read_only,
    check_written,
)
from plugbay_sql.values import CellWriter, column_type

logger = logging.getLogger(__name__)

MAX_TABLES = 2000
"""The most tables one listing returns."""
MAX_COMPLETIONS = 100
SESSION_KEYWORDS = frozenset(
    {
        "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
        "SET", "RESET", "USE", "DISCARD", "PRAGMA", "LOCK", "UNLOCK", "HANDLER",
        "LISTEN", "UNLISTEN", "PREPARE", "EXECUTE", "DEALLOCATE", "DECLARE", "FETCH",
        "CLOSE", "MOVE",
    }
)  # fmt: skip
"""Statements ``execute`` refuses: their effect would outlive the call on a pooled connection."""


class SqlConnector(Connector[SqlSettings]):
    """Explore and query a relational database: SQLite, PostgreSQL or MariaDB/MySQL.

    Read-only unless the operator allows writes, enforced by the database (read-only
    transactions and sessions, SQLite files opened read-only); every statement has a
    timeout that cancels it on the server, and results are cut at a row limit.
    """

    name = "sql"
    uri_scheme = "sql"

    def __init__(self, instance: str, settings: SqlSettings) -> None:
        super().__init__(instance, settings)
        self._database: Database | None = None
        self._checker: StatementChecker | None = None

    # Lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the pool and connect once; a wrong URL or password fails the start."""
        database = Database(self.settings, self.instance)
        try:
            await database.open()
        except ToolError as error:
            raise RuntimeError(str(error)) from None
        self._database = database
        self._checker = StatementChecker(self.instance, self.settings.max_statement_bytes)
        await self._warn_if_privileged()

    async def stop(self) -> None:
        """Close the pool."""
        database, self._database = self._database, None
        if database is not None:
            await database.close()

    async def check_health(self) -> None:
        """Raise if the database does not answer ``SELECT 1``."""
        try:
            await self.database.run(lambda conn: conn.exec_driver_sql("SELECT 1"))
        except ToolError as error:
            raise RuntimeError(str(error)) from None

    @property
    def database(self) -> Database:
        """The database; available once :meth:`start` has run."""
        if self._database is None:
            raise ToolError(f"sql instance {self.instance!r} is not running")
        return self._database

    @property
    def checker(self) -> StatementChecker:
        """Checks callers' statements; available once :meth:`start` has run."""
        if self._checker is None:
            raise ToolError(f"sql instance {self.instance!r} is not running")
        return self._checker

    async def _warn_if_privileged(self) -> None:
        """Warn about, or refuse, an account that may do more than the instance needs."""
        try:
            await check_account(self.database, self.instance)
        except RuntimeError:
            await self.stop()
            raise

    def instance_facts(self) -> str:
        """The dialect, the database and whether it is writable, for tool descriptions."""
        url = make_url(self.settings.url)
        backend = url.get_backend_name()
        kind = DATABASE_NAMES.get("mysql" if backend == "mariadb" else backend, backend)
        if backend == "sqlite":
            where = (
                f"file {url.database}"
                if url.database not in (None, "", ":memory:")
                else ("in memory")
            )
        else:
            where = f"database {url.database!r} on {url.host or 'localhost'}"
        access = "writes allowed" if self.settings.allow_writes else "read-only"
        return f"This instance: {kind}, {where}; {access}."

    # Browsing ------------------------------------------------------------------------

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="List schemas"
    )
    async def list_schemas(self) -> SchemaList:
        """List the schemas (MariaDB/MySQL: databases) and which one is the default."""

        def read(conn: Connection) -> SchemaList:
            inspector = inspect(conn)
            default = inspector.default_schema_name
            names = self._visible_schemas(inspector)
            return {
                "schemas": [{"name": name, "default": name == default} for name in names],
                "dialect": conn.dialect.name,
            }

        return await self.database.run(lambda conn: conn.run_sync(read))

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="List tables")
    async def list_tables(self, schema: SchemaArgument = None) -> TableList:
        """List the tables and views of one schema, or of every schema when none is given.

        Each entry has the URI of a resource with the table's columns and keys.
        """

        def read(conn: Connection) -> TableList:
            inspector = inspect(conn)
            visible = self._visible_schemas(inspector)
            schemas = [self._check_schema(schema, visible)] if schema is not None else visible
            tables: list[TableSummary] = []
            for each in schemas:
                for name, kind in introspection.table_names(inspector, each):
                    tables.append(
                        {"schema": each, "name": name, "type": kind, "uri": self._uri(each, name)}
                    )
                    if len(tables) > MAX_TABLES:
                        return {"tables": tables[:MAX_TABLES], "truncated": True}
            return {"tables": tables, "truncated": False}

        return await self.database.run(lambda conn: conn.run_sync(read))

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Describe table"
    )
    async def describe_table(
        self,
        table: Annotated[str, Field(min_length=1, max_length=256)],
        schema: SchemaArgument = None,
    ) -> TableDescription:
        """Describe a table or view: columns, keys, indexes and an estimated row count.

        Columns come with their types, nullability and defaults; keys are the primary
        key, foreign keys (what each references) and unique constraints.

        Args:
            table: The table or view name, as {tool:list_tables} shows it.
        """
        return await self._describe(schema, table)

    async def _describe(self, schema: str | None, table: str) -> TableDescription:
        database = self.database

        async def read(conn: AsyncConnection) -> TableDescription:
            def reflect(sync_conn: Connection) -> dict[str, Any]:
                inspector = inspect(sync_conn)
                resolved = self._resolve_schema(inspector, schema)
                return introspection.describe(inspector, sync_conn.dialect, resolved, table)

            found = await conn.run_sync(reflect)
            estimate = None
            if found["type"] == "table":
                estimate = await database.rules.row_estimate(conn, found["schema"], table)
            return {
                **found,  # type: ignore[typeddict-item]
                "row_estimate": estimate,
                "uri": self._uri(found["schema"], table),
            }

        return await database.run(read)

    # Querying ------------------------------------------------------------------------

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="Run a query")
    async def query(
        self,
        sql: SqlArgument,
        params: ParamsArgument = None,
        limit: Annotated[int | None, Field(ge=1)] = None,
    ) -> QueryResult:
        """Run one read-only statement (SELECT, WITH, VALUES, SHOW...) and return its rows.

        The statement runs in a read-only transaction with a timeout. At most `limit`
        rows come back (never more than the instance's row limit); `truncated` says
        whether there were more. Long values are cut (`cells_truncated` counts them).

        Args:
            limit: The most rows to return; defaults to the instance's row limit.
        """
        database = self.database
        dialect = database.dialect_name
        statement = await self.checker.check(sql, lambda each: check_read_only(each, dialect))
        row_limit = min(limit or self.settings.row_limit, self.settings.row_limit)

        async def fetch(conn: AsyncConnection) -> QueryResult:
            return await read_query(conn, database, statement, params, row_limit)

        return await database.run(fetch, select_limit=row_limit + 1, sql=statement.text)

    def _columns(self, conn: AsyncConnection, names: list[str]) -> list[ResultColumn]:
        description = conn.info.get(DESCRIPTION) or ()
        codes = [entry[1] for entry in description] if len(description) == len(names) else []
        family = self.database.family
        return [
            {"name": name, "type": column_type(family, codes[index]) if codes else None}
            for index, name in enumerate(names)
        ]

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="Explain")
    async def explain(self, sql: SqlArgument, params: ParamsArgument = None) -> Plan:
        """Show how the database would run a statement (its query plan), without running it.

        Use it before a query on a large table: look for sequential or full scans where
        an index would do.
        """
        database = self.database
        dialect = database.dialect_name
        statement = await self.checker.check(sql, lambda each: check_explainable(each, dialect))
        explained = database.rules.explain_sql(statement.text)

        async def plan(conn: AsyncConnection) -> Plan:
            result = await conn.execute(text(explained), dict(params or {}))
            rows = [tuple(row) for row in result.fetchall()]
            return {"plan": database.rules.format_plan(rows), "dialect": conn.dialect.name}

        return await database.run(plan, sql=statement.text)

    # Writing -------------------------------------------------------------------------

    @tool(
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=False,
        title="Execute a change",
        requires="allow_writes",
    )
    async def execute(self, sql: SqlArgument, params: ParamsArgument = None) -> ExecuteResult:
        """Run one statement that changes data or schema, and commit it.

        INSERT, UPDATE, DELETE, CREATE, ALTER, DROP...; only on instances where the
        operator allows writes.

        Returns the number of rows affected and, for RETURNING clauses, the rows (cut at
        the row limit). A failing statement changes nothing.
        """
        if not self.settings.allow_writes:
            variable = setting_variable(self.instance, "allow_writes")
            raise ToolError(
                f"{self.tool_name('execute')} is disabled: the {self.instance!r} database is "
                "read-only. An "
                f"operator can allow writes with allow_writes = true in "
                f"[connectors.{self.instance}] or {variable}=true."
            )
        database = self.database
        dialect = database.dialect_name
        statement = await self.checker.check(sql, lambda each: _check_change(each, dialect))
        row_limit = self.settings.row_limit

        async def change(conn: AsyncConnection) -> ExecuteResult:
            returned = await read_returning(conn, database, statement, params, row_limit)
            if returned is not None:
                return returned
            # MariaDB/MySQL and SQLite buffer what RETURNING sends back before it is cut.
            result = await conn.execute(text(statement.text), dict(params or {}))
            affected = result.rowcount if result.rowcount >= 0 else None
            columns: list[ResultColumn] = []
            rows: list[Any] = []
            if result.returns_rows:
                columns = self._columns(conn, list(result.keys()))
                rows = list(result.fetchmany(row_limit + 1))
            result.close()
            writer = CellWriter(self.settings.max_cell_bytes)
            return {
                "rows_affected": affected,
                "columns": columns,
                "rows": [writer.row(row) for row in rows[:row_limit]],
                "truncated": len(rows) > row_limit,
                "cells_truncated": writer.cut,
            }

        return await database.run(change, write=True, sql=statement.text)

    # Resources -----------------------------------------------------------------------

    @resource("tables", name="tables", title="Tables", mime_type="application/json")
    async def tables_resource(self) -> TableList:
        """Every table and view, each with the URI of its schema resource."""
        return await self.list_tables()

    @resource(
        "tables/{schema}/{table}",
        name="table",
        title="Table schema",
        mime_type="application/json",
        complete={"schema": "complete_schema", "table": "complete_table"},
    )
    async def table_resource(self, schema: str, table: str) -> TableDescription:
        """A table's or view's columns, keys, indexes and row estimate (JSON).

        Args:
            schema: The schema (MariaDB/MySQL: database) holding the table.
            table: The table or view name.
        """
        return await self._describe(schema, table)

    async def complete_schema(self, value: str, context: Mapping[str, str]) -> list[str]:
        """Complete the ``schema`` of the table resource."""
        schemas = await self.database.run(
            lambda conn: conn.run_sync(lambda sync: self._visible_schemas(inspect(sync)))
        )
        return [name for name in schemas if name.startswith(value)][:MAX_COMPLETIONS]

    async def complete_table(self, value: str, context: Mapping[str, str]) -> list[str]:
        """Complete the ``table`` of the table resource, within the chosen schema."""
        schema = context.get("schema") or None

        def names(sync_conn: Connection) -> list[str]:
            inspector = inspect(sync_conn)
            resolved = self._resolve_schema(inspector, schema)
            return [name for name, _kind in introspection.table_names(inspector, resolved)]

        try:
            tables = await self.database.run(lambda conn: conn.run_sync(names))
        except ToolError:
            return []
        return [name for name in tables if name.startswith(value)][:MAX_COMPLETIONS]

    # Prompt --------------------------------------------------------------------------

    @prompt(title="Explore the database")
    def explore_database(self, goal: str = "") -> str:
        """Steps to explore an unfamiliar database with this instance's tools.

        Args:
            goal: What you want to find out, if you know already.
        """
        name = self.instance
        access = (
            f"writes are allowed through {name}_execute"
            if self.settings.allow_writes
            else "it is read-only"
        )
        database = self._database.dialect_name if self._database else self.settings.backend
        steps = [
            f"You are exploring the {database} database of the instance {name!r} ({access}).",
            f"1. Call {name}_list_schemas, then {name}_list_tables to see what exists.",
            f"2. Call {name}_describe_table on the tables that look relevant: columns, primary "
            "and foreign keys (how tables join), indexes and the estimated row count.",
            f"3. Look at a few rows with {name}_query (a SELECT with LIMIT 5) and pass "
            "values as params (:name placeholders), never pasted into the SQL.",
            f"4. Before a query over a large table, check it with {name}_explain and filter "
            "or join on indexed columns.",
            f"Results stop at {self.settings.row_limit} rows (truncated says when) and "
            f"statements at {self.settings.statement_timeout:g} seconds; aggregate in SQL "
            "(COUNT, GROUP BY) rather than reading whole tables.",
            "Explain what you found with the tables and columns it came from.",
        ]
        if goal.strip():
            steps.append(f"The goal: {goal.strip()}")
        return "\n".join(steps)

    # Helpers -------------------------------------------------------------------------

    def _uri(self, schema: str, table: str) -> str:
        return f"sql://{self.instance}/tables/{quote(schema, safe='')}/{quote(table, safe='')}"

    def _visible_schemas(self, inspector: Any) -> list[str]:
        return introspection.visible_schemas(
            inspector, self.database.rules.system_schemas, self.settings.schemas
        )

    def _check_schema(self, schema: str, visible: list[str]) -> str:
        if schema not in visible:
            shown = ", ".join(repr(name) for name in visible) or "none"
            raise ToolError(f"no schema {schema!r} on this instance; the schemas are: {shown}")
        return schema

    def _resolve_schema(self, inspector: Any, schema: str | None) -> str:
        visible = self._visible_schemas(inspector)
        if schema is not None:
            return self._check_schema(schema, visible)
        default = inspector.default_schema_name
        if default in visible:
            return str(default)
        if visible:
            return visible[0]
        raise ToolError("this instance shows no schema; an operator can check the schemas setting")


def _check_change(statement: Statement, dialect_name: str) -> None:
    """Refuse what ``execute`` must not run: session control, and reaching outside."""
    if statement.keyword in SESSION_KEYWORDS:
        raise ToolError(
            f"execute refuses {statement.keyword}: every call is one statement in its "
            "own transaction, and session or transaction control would outlive it"
        )
    check_outside_effects(statement, dialect_name)
    check_written(statement, dialect_name)
