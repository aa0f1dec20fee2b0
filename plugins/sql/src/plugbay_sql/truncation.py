"""Long values cut by the database server, so that they never reach this process whole.

A query's statement is wrapped in a common table expression whose select list cuts
each column that can be long (text, binary, JSON, arrays...) to one byte or character
more than ``max_cell_bytes``: enough for :class:`~plugbay_sql.values.CellWriter` to
see that it was cut, never more. Columns of short types (numbers, dates, booleans)
pass through unchanged, and a statement whose columns are all short runs as sent::

    WITH plugbay_result(plugbay_c1, plugbay_c2) AS (<the caller's statement>
    ) SELECT plugbay_c1, left(CAST(plugbay_c2 AS text), 4097) FROM plugbay_result

The caller's text sits inside the parentheses; whatever it holds, the top-level
select list is this module's (a statement that closed the parenthesis early would
leave ``) SELECT ...`` where no query can continue, which the database refuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugbay import ToolError

CTE = "plugbay_result"
"""The name of the wrapping common table expression."""
SHORT_CELL_BYTES = 64
"""What a cell of a short type (a number, a date) is counted as, for batch sizes."""
MIN_CELL_BYTES = 16
"""The least a long column keeps, however many a row has."""
MYSQL_LONG_COLUMNS = 256
"""The most long columns MariaDB/MySQL results may have: wrapping them makes the server
build a temporary table, and MariaDB 10.11 crashes on one with about 600 such columns."""

# PostgreSQL types whose values are short: passed through as they are.
_POSTGRES_SHORT = frozenset(
    {
        16, 18, 20, 21, 23, 26, 27, 28, 29,  # bool, char, integers, oid, tid, xid, cid
        650, 700, 701, 774, 790, 829, 869,  # cidr, floats, macaddr8, money, macaddr, inet
        1082, 1083, 1114, 1184, 1186, 1266,  # dates, times, intervals
        2950, 3220,  # uuid, pg_lsn (numeric is not here: it can have 147,455 digits)
        2202, 2203, 2204, 2205, 2206, 3734, 3769, 4089, 4096, 4191,  # reg* names
    }
)  # fmt: skip
# PostgreSQL types that arrive as Python text: cut as text.
_POSTGRES_TEXT = frozenset({19, 25, 114, 142, 705, 1043, 3802})  # name text json xml unknown
_POSTGRES_BYTEA = 17
_POSTGRES_NESTED = frozenset({"array", "composite"})
"""asyncpg's kinds of types that it decodes to lists and tuples."""
# MariaDB/MySQL field types whose values are strings or bytes (MYSQL_TYPE_*): the
# others (numbers, dates, bits) are short.
_MYSQL_STRINGS = frozenset({15, 245, 247, 248, 249, 250, 251, 252, 253, 254, 255})


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a statement's result, as the database describes it before running it.

    Attributes:
        name: Its name.
        type_code: The driver's type code (PostgreSQL type OID, MySQL field type), if any.
        length: The most bytes its values can have, where the database says (MySQL).
        kind: What kind of type it is, where the driver says (asyncpg: ``scalar``,
            ``array``, ``composite``, ``range``...).
    """

    name: str
    type_code: Any = None
    length: int | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The statement to run for a query, and how its rows map back to the caller's columns.

    Attributes:
        sql: The statement to run: the caller's, or the caller's wrapped.
        columns: The caller's columns.
        picks: Per caller column, the index of its value in a row of ``sql``, and the
            index of its cut text when the value was too long to send (else ``None``).
        limits: Per caller column, the bytes of a value to keep: ``max_cell_bytes``,
            or less when a row has so many long columns that they share
            ``row_chars``.
        row_bytes: About the most bytes one row of ``sql`` can hold once cut.
        wrapped: Whether ``sql`` wraps the caller's statement.
    """

    sql: str
    columns: tuple[Column, ...]
    picks: tuple[tuple[int, int | None], ...]
    limits: tuple[int, ...]
    row_bytes: int
    wrapped: bool

    def values(self, row: Sequence[Any]) -> list[Any]:
        """The caller's values, in the caller's column order, from one row of ``sql``."""
        values = []
        for value, long in self.picks:
            cut = row[long] if long is not None else None
            values.append(cut if cut is not None else row[value])
        return values


def as_sent(sql: str, columns: Sequence[Column], max_bytes: int, row_bytes: int) -> Plan:
    """A plan that runs ``sql`` unchanged."""
    picks = tuple((index, None) for index in range(len(columns)))
    limits = (max_bytes,) * len(columns)
    return Plan(sql, tuple(columns), picks, limits, max(row_bytes, 1), wrapped=False)


def _limit(max_bytes: int, row_chars: int, long_columns: int) -> int:
    """The bytes each long column of a row keeps: ``max_bytes``, less in very wide rows."""
    if long_columns == 0:
        return max_bytes
    return min(max_bytes, max(MIN_CELL_BYTES, row_chars // long_columns))


def _name(index: int) -> str:
    return f"plugbay_c{index + 1}"


def _wrap(sql: str, count: int, expressions: Sequence[str], tail: str = "") -> str:
    names = ", ".join(_name(index) for index in range(count))
    # The newline ends a trailing "--" comment of the caller's.
    # The caller's own checked statement, inside names and numbers of ours.
    select = ", ".join(expressions)
    return f"WITH {CTE}({names}) AS ({sql}\n{tail}) SELECT {select} FROM {CTE}"  # noqa: S608


def postgres_plan(
    sql: str, columns: Sequence[Column], max_bytes: int, row_chars: int, *, count: bool = False
) -> Plan:
    """Cut PostgreSQL text with ``left``, ``bytea`` with ``substring``, the rest as JSON.

    A value of any other type (an array, a record, a range, ``hstore``...) is sent
    whole when its text is at most the limit, and otherwise as its text (an array's or
    a record's JSON text), cut: a second select-list entry carries that cut text, and
    :meth:`Plan.values` picks it.

    With ``count``, the statement is always wrapped, and a last select-list entry
    holds the number of rows the statement returns in all (``count(*) OVER ()``).
    """
    long = [column.type_code not in _POSTGRES_SHORT for column in columns]
    limit = _limit(max_bytes, row_chars, sum(long))
    if not any(long) and not count:
        return as_sent(sql, columns, max_bytes, SHORT_CELL_BYTES * len(columns))
    keep = limit + 1
    expressions: list[str] = []
    picks: list[tuple[int, int | None]] = []
    limits: list[int] = []
    row_bytes = 0
    for index, column in enumerate(columns):
        name = _name(index)
        code = column.type_code
        limits.append(limit if long[index] else max_bytes)
        row_bytes += 4 * keep if long[index] else SHORT_CELL_BYTES
        if not long[index]:
            expressions.append(name)
        elif code in _POSTGRES_TEXT:
            expressions.append(f"left(CAST({name} AS text), {keep})")
        elif code == _POSTGRES_BYTEA:
            expressions.append(f"substring({name} FROM 1 FOR {keep})")
        else:
            # Arrays and records come back as lists and objects: cut, they are JSON
            # text, as the connector writes them; other types as their text.
            nested = column.kind in _POSTGRES_NESTED
            text = f"CAST(to_json({name}) AS text)" if nested else f"CAST({name} AS text)"
            size = f"octet_length(CAST({name} AS text))"
            expressions.append(f"CASE WHEN {size} <= {limit} THEN {name} END")
            expressions.append(f"CASE WHEN {size} > {limit} THEN left({text}, {keep}) END")
            picks.append((len(expressions) - 2, len(expressions) - 1))
            continue
        picks.append((len(expressions) - 1, None))
    if count:
        expressions.append("count(*) OVER ()")
    wrapped = _wrap(sql, len(columns), expressions)
    return Plan(wrapped, tuple(columns), tuple(picks), tuple(limits), row_bytes, wrapped=True)


def mysql_plan(
    sql: str, columns: Sequence[Column], max_bytes: int, row_chars: int, tail: str
) -> Plan:
    """Cut MariaDB/MySQL strings and binary strings that can be long with ``LEFT``.

    Args:
        sql: The caller's statement.
        columns: Its columns, with the most bytes each can hold.
        max_bytes: ``max_cell_bytes``.
        row_chars: The most characters the long columns of a row keep together.
        tail: Text that goes after the caller's statement inside the parentheses
            (``LIMIT n``: a derived table without one loses its ``ORDER BY``), or an
            empty string when the statement has a ``LIMIT`` of its own.
    """
    long = [
        column.type_code in _MYSQL_STRINGS and (column.length is None or column.length > max_bytes)
        for column in columns
    ]
    short_bytes = sum(max(column.length or 0, SHORT_CELL_BYTES) for column in columns)
    if not any(long):
        return as_sent(sql, columns, max_bytes, short_bytes)
    if sum(long) > MYSQL_LONG_COLUMNS:
        raise ToolError(
            f"the query returns {sum(long)} columns that can hold long values (text, "
            f"binary, JSON); this database cuts at most {MYSQL_LONG_COLUMNS} of them "
            "before sending: select fewer columns"
        )
    limit = _limit(max_bytes, row_chars, sum(long))
    keep = limit + 1
    expressions = [
        f"LEFT({_name(index)}, {keep})" if long[index] else _name(index)
        for index in range(len(columns))
    ]
    limits = tuple(limit if each else max_bytes for each in long)
    row_bytes = short_bytes + 4 * keep * sum(long)
    picks = tuple((index, None) for index in range(len(columns)))
    wrapped = _wrap(sql, len(columns), expressions, tail)
    return Plan(wrapped, tuple(columns), picks, limits, row_bytes, wrapped=True)


def sqlite_plan(sql: str, columns: Sequence[Column], max_bytes: int, row_chars: int) -> Plan:
    """Cut SQLite text and blobs with ``substr``; SQLite types values, not columns."""
    if not columns:
        return as_sent(sql, columns, max_bytes, 1)
    limit = _limit(max_bytes, row_chars, len(columns))
    keep = limit + 1
    expressions = [
        f"CASE WHEN typeof({name}) IN ('text', 'blob') THEN substr({name}, 1, {keep}) "
        f"ELSE {name} END"
        for name in (_name(index) for index in range(len(columns)))
    ]
    picks = tuple((index, None) for index in range(len(columns)))
    limits = (limit,) * len(columns)
    wrapped = _wrap(sql, len(columns), expressions)
    return Plan(wrapped, tuple(columns), picks, limits, 4 * keep * len(columns), wrapped=True)
