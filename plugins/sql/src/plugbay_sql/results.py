"""Reading a query's rows with bounded memory: per cell, per row and per result.

1. The statement is described before it runs: its columns' names and types
   (PostgreSQL: asyncpg prepares it; MariaDB/MySQL and SQLite: it runs with
   ``LIMIT 0``, or wrapped with one when it has a ``LIMIT`` of its own).
2. Columns that can hold long values are cut by the database
   (:mod:`plugbay_sql.truncation`), so a 200 MB cell leaves the server as a few
   kilobytes. A row of very many long columns shares :data:`ROW_CHARS` between them.
3. Rows are read through a server-side cursor in batches sized so that one batch
   stays near :data:`BATCH_BYTES`, each converted to JSON values as it arrives, until
   the row limit or ``max_result_bytes`` of values is reached.

Statements that cannot be wrapped (``SHOW``, ``DESCRIBE``...) run as sent; what they
return is the server's own metadata.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncResult
from typing_extensions import TypedDict

from plugbay import ToolError
from plugbay_sql import truncation
from plugbay_sql.database import DESCRIPTION, Database
from plugbay_sql.settings import SqlSettings
from plugbay_sql.statements import Statement
from plugbay_sql.truncation import CTE, Column, Plan
from plugbay_sql.values import CellWriter, column_type

FIRST_BATCH = 50
"""Rows asked for in a query's first fetch (asyncpg's cursor adapter buffers 50)."""
BATCH_BYTES = 8 * 2**20
"""About the most bytes of rows one fetch brings in."""
ROW_CHARS = 256 * 1024
"""The most characters the long columns of one row are cut to, together."""
WRAPPED_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
"""Statements whose long values the database cuts; others run as sent."""
RETURNING_KEYWORDS = WRAPPED_KEYWORDS | {"INSERT", "UPDATE", "DELETE", "MERGE"}
"""Changes whose returned rows PostgreSQL can cut (``CALL`` and the like run as sent)."""


class ResultColumn(TypedDict):
    """A result column; ``type`` when the driver reports it."""

    name: str
    type: str | None


class ExecuteResult(TypedDict):
    """What a write changed, and the rows it returned (RETURNING), cut at the row limit."""

    rows_affected: int | None
    columns: list[ResultColumn]
    rows: list[list[Any]]
    truncated: bool
    cells_truncated: int


class QueryResult(TypedDict):
    """Rows of a query, cut at the row limit."""

    columns: list[ResultColumn]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    row_limit: int
    cells_truncated: int


async def read_query(
    conn: AsyncConnection,
    database: Database,
    statement: Statement,
    params: Mapping[str, Any] | None,
    row_limit: int,
) -> QueryResult:
    """Run a read-only statement and read at most ``row_limit`` rows of it, cut to size.

    Args:
        conn: The call's connection, its read-only transaction begun.
        database: The instance's database (its rules and settings).
        statement: The caller's statement, checked.
        params: Values for its placeholders.
        row_limit: The most rows to return.
    """
    settings = database.settings
    bound = dict(params or {})
    plan, result = await _start(conn, database, statement.text, statement.keyword, bound, row_limit)
    writer = _RowWriter(plan.limits)
    kept: list[list[Any]] = []
    more = False
    try:
        with contextlib.suppress(ResourceClosedError):  # a statement without rows
            more = await _read(result, plan, writer, kept, row_limit, settings)
    finally:
        if more:
            # Stop the rest where the database would otherwise send it all.
            await database.rules.abandon_result(conn, result)
        else:
            await result.close()
    return {
        "columns": _result_columns(database.family, plan.columns),
        "rows": kept,
        "row_count": len(kept),
        "truncated": more,
        "row_limit": row_limit,
        "cells_truncated": writer.cut,
    }


async def read_returning(
    conn: AsyncConnection,
    database: Database,
    statement: Statement,
    params: Mapping[str, Any] | None,
    row_limit: int,
) -> ExecuteResult | None:
    """PostgreSQL: run a change that returns rows (``RETURNING``), its values cut there.

    The change runs inside the wrapping common table expression (PostgreSQL runs a
    data-modifying one to completion, whatever the outer query reads), which also
    counts its rows, so that ``rows_affected`` holds without reading them all.

    Returns:
        The result, or ``None`` when the statement returns no rows or the database is
        not PostgreSQL (it then runs as sent; MariaDB and SQLite cannot wrap a change).
    """
    if database.family != "postgresql" or statement.keyword not in RETURNING_KEYWORDS:
        return None
    settings = database.settings
    columns = await _describe_postgres(conn, statement.text)
    if not columns:
        return None
    plan = truncation.postgres_plan(
        statement.text, columns, settings.max_cell_bytes, ROW_CHARS, count=True
    )
    result = await conn.stream(text(plan.sql), dict(params or {}))
    writer = _RowWriter(plan.limits)
    kept: list[list[Any]] = []
    first: list[Any] = []
    try:
        more = await _read(result, plan, writer, kept, row_limit, settings, first)
    finally:
        await result.close()
    return {
        "rows_affected": int(first[0][-1]) if first else 0,
        "columns": _result_columns(database.family, plan.columns),
        "rows": kept,
        "truncated": more,
        "cells_truncated": writer.cut,
    }


def _result_columns(family: str, columns: Sequence[Column]) -> list[ResultColumn]:
    return [
        {"name": column.name, "type": column_type(family, column.type_code)} for column in columns
    ]


class _RowWriter:
    """Rows as JSON values, each column cut at its own limit; counts the cells it cut."""

    def __init__(self, limits: Sequence[int]) -> None:
        # One writer for every column in the usual case (one limit), else one a column.
        self._single = len(set(limits)) <= 1
        if self._single:
            self._writers = [CellWriter(limits[0] if limits else truncation.MIN_CELL_BYTES)]
        else:
            self._writers = [CellWriter(limit) for limit in limits]

    def row(self, values: Sequence[Any]) -> list[Any]:
        """One row as JSON values."""
        if self._single:
            return self._writers[0].row(values)
        return [writer.cell(value) for writer, value in zip(self._writers, values, strict=True)]

    @property
    def cut(self) -> int:
        """Cells cut so far."""
        return sum(writer.cut for writer in self._writers)

    def forget(self, cut: int) -> None:
        """Undo the counts of a row that is not returned, back to ``cut`` cells."""
        extra = self.cut - cut
        for writer in self._writers:
            taken = min(extra, writer.cut)
            writer.cut -= taken
            extra -= taken


async def _read(
    result: AsyncResult[Any],
    plan: Plan,
    writer: _RowWriter,
    kept: list[list[Any]],
    row_limit: int,
    settings: SqlSettings,
    first: list[Any] | None = None,
) -> bool:
    """Fill ``kept``; whether rows were left unread (the row limit or the size budget).

    ``first`` receives the first row as it came, when there is one.
    """
    budget = settings.max_result_bytes
    per_fetch = max(1, BATCH_BYTES // plan.row_bytes)
    batch = min(FIRST_BATCH, per_fetch)
    wanted = row_limit + 1
    fetched = size = 0
    while fetched < wanted:
        asked = min(batch, wanted - fetched)
        rows = await result.fetchmany(asked)
        if first is not None and rows and not first:
            first.append(rows[0])
        fetched += len(rows)
        for row in rows:
            if len(kept) == row_limit:
                return True
            cut = writer.cut
            converted = writer.row(plan.values(row))
            size += _size(converted)
            if kept and size > budget:
                writer.forget(cut)  # the row is not returned
                return True
            kept.append(converted)
        if len(rows) < asked:
            return False
        batch = per_fetch
    return fetched > row_limit


def _size(values: Sequence[Any]) -> int:
    """About how many bytes a row's JSON values take."""
    size = 0
    for value in values:
        if isinstance(value, str):
            size += len(value) + 2
        elif value is None or isinstance(value, bool | int | float):
            size += 8
        else:
            size += len(str(value))
    return size


async def _start(
    conn: AsyncConnection,
    database: Database,
    sql: str,
    keyword: str,
    params: dict[str, Any],
    row_limit: int,
) -> tuple[Plan, AsyncResult[Any]]:
    """Describe the statement, choose what to run, and start it on a server-side cursor."""
    max_bytes = database.settings.max_cell_bytes
    if keyword not in WRAPPED_KEYWORDS:
        return await _as_sent(conn, database, sql, params, max_bytes)
    family = database.family
    if family == "postgresql":
        columns = await _describe_postgres(conn, sql)
        plan = truncation.postgres_plan(sql, columns, max_bytes, ROW_CHARS)
    else:
        if family == "sqlite" and not sqlite3.complete_statement(f"{sql}\n;"):
            # SQLite ends a comment left open at the end of the text, and with it
            # whatever the connector puts after the statement (its LIMIT 0 too).
            raise ToolError(
                "the statement ends inside a comment or a string (/* without */, a quote "
                "left open): close it"
            )
        described = await _describe_with_limit(conn, database, sql, params)
        if described is None:
            # Neither way of describing it worked: run it as sent, for the database's
            # own error, or for its rows if none of its columns can be long.
            return await _as_sent(conn, database, sql, params, max_bytes, refuse_long=True)
        columns, own_limit = described
        if family == "mysql":
            tail = "" if own_limit else f"LIMIT {row_limit + 1}"
            plan = truncation.mysql_plan(sql, columns, max_bytes, ROW_CHARS, tail)
        else:
            plan = truncation.sqlite_plan(sql, columns, max_bytes, ROW_CHARS)
    # A server-side cursor: only the rows read ever leave the database.
    return plan, await conn.stream(text(plan.sql), params)


async def _as_sent(
    conn: AsyncConnection,
    database: Database,
    sql: str,
    params: dict[str, Any],
    max_bytes: int,
    *,
    refuse_long: bool = False,
) -> tuple[Plan, AsyncResult[Any]]:
    result = await conn.stream(text(sql), params)
    columns = _described(conn, list(result.keys()))
    if refuse_long and _can_be_long(database.family, columns, max_bytes):
        await database.rules.abandon_result(conn, result)
        raise ToolError(
            "this query cannot be wrapped to cut its long values before the database "
            "sends them (it has a LIMIT of its own and two result columns of the same "
            "name): give every column its own name (AS), or leave out the LIMIT"
        )
    # Rows sent as they are, whose size nothing bounds (SHOW FULL PROCESSLIST shows
    # other sessions' statements), are read one at a time.
    return truncation.as_sent(sql, columns, max_bytes, BATCH_BYTES), result


async def _describe_postgres(conn: AsyncConnection, sql: str) -> list[Column]:
    """The columns of ``sql`` as PostgreSQL prepares it, without running it.

    asyncpg is called directly (SQLAlchemy has no describe), so its errors arrive
    untranslated: one that says the connection is going away (the server ended it
    while the pool still held it) drops the connection, which makes the call a
    disconnect that :meth:`Database.run` runs again on a fresh one.
    """
    import asyncpg  # type: ignore[import-untyped,unused-ignore]

    compiled = text(sql).compile(dialect=conn.dialect).string
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        prepared = await driver.prepare(compiled)
    except (asyncpg.InternalClientError, asyncpg.ConnectionDoesNotExistError) as error:
        await conn.invalidate()
        raise asyncpg.InterfaceError(f"the connection was lost: {error}") from None
    return [
        Column(each.name, each.type.oid, kind=each.type.kind) for each in prepared.get_attributes()
    ]


async def _describe_with_limit(
    conn: AsyncConnection, database: Database, sql: str, params: dict[str, Any]
) -> tuple[list[Column], bool] | None:
    """The columns of ``sql``, and whether it has a ``LIMIT`` of its own.

    It runs with ``LIMIT 0`` added, which the database answers without running it;
    a statement with its own ``LIMIT`` refuses a second one, and is wrapped instead.
    ``None``: neither worked (the statement is wrong, or MariaDB/MySQL refuses to wrap
    it: its own ``LIMIT`` and two columns of one name).
    """
    # The caller's own checked statement, inside names and numbers of ours.
    wrapped = f"WITH {CTE} AS ({sql}\n) SELECT * FROM {CTE} LIMIT 0"  # noqa: S608
    for probe, own_limit in ((f"{sql}\nLIMIT 0", False), (wrapped, True)):
        with contextlib.suppress(*database.failures):
            # On a cursor whose rows are never read, in case a LIMIT 0 did not hold.
            result = await conn.stream(text(probe), params)
            columns = _described(conn, None)
            await result.close()
            return columns, own_limit
    return None


def _can_be_long(family: str, columns: Sequence[Column], max_bytes: int) -> bool:
    """Whether a MariaDB/MySQL column may hold values longer than ``max_bytes``.

    SQLite is not asked: the statements it cannot wrap are not queries (a ``PRAGMA``
    that reads), and its values are made in this process anyway.
    """
    if family != "mysql":
        return False
    return truncation.mysql_plan("", columns, max_bytes, ROW_CHARS, "").wrapped


def _described(conn: AsyncConnection, names: list[str] | None) -> list[Column]:
    """The last statement's columns, from its cursor description."""
    description: Sequence[Any] = conn.info.get(DESCRIPTION) or ()
    if names is not None and len(description) != len(names):
        return [Column(name) for name in names]
    return [Column(str(entry[0]), entry[1], _length(entry)) for entry in description]


def _length(entry: Sequence[Any]) -> int | None:
    size = entry[3] if len(entry) > 3 else None
    return size if isinstance(size, int) and size >= 0 else None
