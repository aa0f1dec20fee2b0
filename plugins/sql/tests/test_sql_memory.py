"""Long values are cut by the database, so a huge cell never reaches this process whole.

Memory is measured with tracemalloc around the call (a bound on what was allocated,
not a timing): a query whose one cell is tens of megabytes must leave the process's
peak allocation at a small fraction of that.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio

CELL = 4096
HUGE = 40_000_000
"""Bytes in the huge cells: under MariaDB's default max_allowed_packet (16 MiB) there."""
MARIADB_HUGE = 15_000_000


def _huge_text(db: TestDatabase) -> tuple[str, int]:
    """A statement whose one cell is a very long text of 'x', and the cell's size."""
    if db.dialect == "postgresql":
        return f"SELECT repeat('x', {HUGE}) AS big", HUGE
    if db.dialect == "mariadb":
        return f"SELECT REPEAT('x', {MARIADB_HUGE}) AS big", MARIADB_HUGE
    return f"SELECT printf('%.*c', {HUGE}, 'x') AS big", HUGE


def _huge_binary(db: TestDatabase) -> tuple[str, int]:
    """A statement whose one cell is a very long binary value of zero bytes."""
    if db.dialect == "postgresql":
        return f"SELECT decode(repeat('00', {HUGE}), 'hex') AS big", HUGE
    if db.dialect == "mariadb":
        return f"SELECT CAST(REPEAT(x'00', {MARIADB_HUGE}) AS BINARY) AS big", MARIADB_HUGE
    return f"SELECT zeroblob({HUGE}) AS big", HUGE


@asynccontextmanager
async def _peak() -> AsyncIterator[list[int]]:
    """The peak of Python allocations inside the block, in bytes (appended on exit)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        yield peak
        _, top = tracemalloc.get_traced_memory()
        peak.append(top - start)
    finally:
        tracemalloc.stop()


async def test_a_huge_text_cell_is_cut_before_it_is_sent(db: TestDatabase) -> None:
    statement, size = _huge_text(db)
    async with db.serve(max_cell_bytes=CELL) as sql:
        async with _peak() as peak:
            data = await sql.query(statement)
        assert data["rows"] == [["x" * CELL + "…"]]
        assert data["cells_truncated"] == 1
        assert [column["name"] for column in data["columns"]] == ["big"]
        assert sql.checked_out() == 0
    (allocated,) = peak
    assert allocated < size // 10, f"{allocated} bytes allocated for a {size}-byte cell"


async def test_a_huge_binary_cell_is_cut_before_it_is_sent(db: TestDatabase) -> None:
    statement, size = _huge_binary(db)
    async with db.serve(max_cell_bytes=CELL) as sql:
        async with _peak() as peak:
            data = await sql.query(statement)
        assert data["rows"] == [["\\x" + "00" * ((CELL - 2) // 2) + "…"]]
        assert data["cells_truncated"] == 1
    (allocated,) = peak
    assert allocated < size // 10, f"{allocated} bytes allocated for a {size}-byte cell"


async def test_a_huge_stored_value_is_cut_before_it_is_sent(db: TestDatabase) -> None:
    """A long value in a table, read with the table's other columns and rows."""
    table = db.table("big_values")
    size = MARIADB_HUGE if db.dialect == "mariadb" else HUGE
    kind = {"postgresql": "text", "mariadb": "longtext", "sqlite": "TEXT"}[db.dialect]
    fill = {
        "postgresql": f"repeat('y', {size})",
        "mariadb": f"REPEAT('y', {size})",
        "sqlite": f"printf('%.*c', {size}, 'y')",
    }[db.dialect]
    await db.admin(f"CREATE TABLE {table} (id integer PRIMARY KEY, body {kind})")
    try:
        await db.admin(f"INSERT INTO {table} VALUES (1, 'short'), (2, {fill}), (3, NULL)")
        async with (
            db.serve(max_cell_bytes=CELL, allow_writes=db.dialect == "sqlite") as sql,
            _peak() as peak,
        ):
            data = await sql.query(f"SELECT id, body FROM {table} ORDER BY id DESC")
        assert data["rows"] == [[3, None], [2, "y" * CELL + "…"], [1, "short"]]
        assert data["cells_truncated"] == 1
        (allocated,) = peak
        assert allocated < size // 10, f"{allocated} bytes allocated for a {size}-byte cell"
    finally:
        await db.admin(f"DROP TABLE {table}")


async def test_a_comment_left_open_does_not_make_rows_whole(db: TestDatabase) -> None:
    """SQLite lets an open /* swallow what follows: what the connector adds, too."""
    statement, size = _huge_text(db)
    numbers = db.table("numbers")
    async with db.serve(max_cell_bytes=CELL) as sql:
        async with _peak() as peak:
            await sql.error("query", sql=f"{statement} FROM {numbers} WHERE n <= 5 /*")
        assert sql.checked_out() == 0
    (allocated,) = peak
    assert allocated < size // 10, f"{allocated} bytes allocated for a {size}-byte cell"


async def test_every_kind_of_value_keeps_its_form(db: TestDatabase) -> None:
    """Short values come back as before; long ones of every kind are cut and marked."""
    long_text = "z" * 200
    async with db.serve(max_cell_bytes=100) as sql:
        if db.dialect == "postgresql":
            data = await sql.query(
                "SELECT 42 AS i, 2.5::numeric AS n, true AS b, DATE '2024-01-15' AS d, "
                "'{\"a\": 1}'::jsonb AS j, '[1, 2]'::json AS js, ARRAY[1, 2, 3] AS a, "
                "'\\x00ff'::bytea AS bin, 'short' AS t, "
                "'8d3f6b0e-1c2a-4e5f-9a7b-0c1d2e3f4a5b'::uuid AS u, interval '1 day' AS iv, "
                ":long AS lt, array_fill(7, ARRAY[100]) AS la, "
                "json_build_object('k', CAST(:long AS text)) AS lj, "
                "decode(repeat('ab', 200), 'hex') AS lb, CAST(:long AS bpchar) AS lbp, "
                "CAST(repeat('9', 300) AS numeric) AS ln",
                params={"long": long_text},
            )
            (row,) = data["rows"]
            assert row[:11] == [
                42, 2.5, True, "2024-01-15", '{"a": 1}', "[1, 2]", [1, 2, 3], "\\x00ff",
                "short", "8d3f6b0e-1c2a-4e5f-9a7b-0c1d2e3f4a5b", "1 day, 0:00:00",
            ]  # fmt: skip
            long_text_cell, long_array, long_json, long_bytes, long_padded, long_number = row[11:]
            assert long_text_cell == "z" * 100 + "…"
            assert long_array == "[" + ",".join(["7"] * 100)[:99] + "…"
            assert long_json == '{"k" : "' + "z" * 92 + "…"
            assert long_bytes == "\\x" + "ab" * 49 + "…"
            assert long_padded == "z" * 100 + "…"  # other scalar types: their text, cut
            assert long_number == "9" * 100 + "…"  # numeric has up to 147,455 digits
            assert data["cells_truncated"] == 6
            types = [column["type"] for column in data["columns"]]
            assert types[:8] == [
                "integer", "numeric", "boolean", "date", "jsonb", "json", "integer[]", "bytea",
            ]  # fmt: skip
        elif db.dialect == "mariadb":
            data = await sql.query(
                "SELECT 42 AS i, 2.5 AS n, DATE '2024-01-15' AS d, JSON_OBJECT('a', 1) AS j, "
                "x'00ff' AS bin, 'short' AS t, :long AS lt, REPEAT(x'ab', 200) AS lb, "
                "JSON_OBJECT('k', REPEAT('z', 200)) AS lj",
                params={"long": long_text},
            )
            (row,) = data["rows"]
            assert row[:6] == [42, 2.5, "2024-01-15", '{"a": 1}', "\\x00ff", "short"]
            assert row[6] == "z" * 100 + "…"
            assert row[7] == "\\x" + "ab" * 49 + "…"
            assert row[8] == '{"k": "' + "z" * 93 + "…"
            assert data["cells_truncated"] == 3
        else:
            data = await sql.query(
                "SELECT 42 AS i, 2.5 AS r, NULL AS nil, 'short' AS t, x'00ff' AS bin, "
                ":long AS lt, randomblob(300) AS lb",
                params={"long": long_text},
            )
            (row,) = data["rows"]
            assert row[:5] == [42, 2.5, None, "short", "\\x00ff"]
            assert row[5] == "z" * 100 + "…"
            assert len(row[6]) == 2 + 98 + 1
            assert row[6].endswith("…")
            assert data["cells_truncated"] == 2


async def test_order_names_and_limits_survive_the_cut(db: TestDatabase) -> None:
    blobs, numbers = db.table("blobs"), db.table("numbers")
    async with db.serve(max_cell_bytes=16) as sql:
        # ORDER BY without a LIMIT, with one, and under WITH: the order is the caller's.
        for tail in ("", " LIMIT 5"):
            data = await sql.query(
                f"SELECT n, b.body FROM {numbers} CROSS JOIN {blobs} b "
                f"WHERE n <= 5 ORDER BY n DESC{tail}"
            )
            assert [row[0] for row in data["rows"]] == [5, 4, 3, 2, 1]
            assert data["rows"][0][1] == db.big_text[:16] + "…"
        data = await sql.query(
            f"WITH picked AS (SELECT n FROM {numbers} WHERE n <= 4) "
            f"SELECT p.n, b.body FROM picked p CROSS JOIN {blobs} b ORDER BY p.n DESC"
        )
        assert [row[0] for row in data["rows"]] == [4, 3, 2, 1]
        # two columns of one name keep their names
        data = await sql.query(f"SELECT a.body, b.body FROM {blobs} a CROSS JOIN {blobs} b")
        assert [column["name"] for column in data["columns"]] == ["body", "body"]
        assert data["rows"] == [[db.big_text[:16] + "…"] * 2]
        # the row limit holds on wrapped statements, with or without their own LIMIT
        for tail in ("", f" LIMIT {db.numbers}"):
            limited = await sql.query(
                f"SELECT n, b.body FROM {numbers} CROSS JOIN {blobs} b ORDER BY n{tail}",
                limit=3,
            )
            assert [row[0] for row in limited["rows"]] == [1, 2, 3]
            assert limited["truncated"] is True
        assert sql.checked_out() == 0


async def test_a_row_of_many_long_columns_shares_its_budget(db: TestDatabase) -> None:
    """Two hundred long columns are cut shorter than max_cell_bytes, and still marked.

    Compared with the same row of values that need no cutting, reading the long row
    costs nowhere near its size: the database never sent it whole.
    """
    columns, length = 200, 20_000
    kept = 256 * 1024 // columns
    repeat = {"postgresql": "repeat('w', {n})", "mariadb": "REPEAT('w', {n})"}.get(
        db.dialect, "printf('%.*c', {n}, 'w')"
    )
    peaks = []
    async with db.serve(max_cell_bytes=CELL) as sql:
        for n in (kept, length):
            select = ", ".join(f"{repeat.format(n=n)} AS c{index}" for index in range(columns))
            async with _peak() as peak:
                data = await sql.query(f"SELECT {select}")
            peaks += peak
    (row,) = data["rows"]
    assert data["cells_truncated"] == columns
    assert row[0] == "w" * kept + "…"
    assert all(value == row[0] for value in row)
    short, long = peaks
    # Read whole, the long row alone would be 4 MB of text (and as much again in bytes);
    # the cut one costs a little more than the short: its "…" makes each text two bytes
    # a character.
    assert long - short < columns * length // 2, peaks


async def test_results_stop_at_max_result_bytes(db: TestDatabase) -> None:
    """Rows of 4 kB each stop at about 64 kB, marked truncated like at the row limit."""
    numbers, blobs = db.table("numbers"), db.table("blobs")
    async with db.serve(max_cell_bytes=CELL, max_result_bytes=64 * 1024) as sql:
        data = await sql.query(f"SELECT n, b.body FROM {numbers} CROSS JOIN {blobs} b ORDER BY n")
        assert data["truncated"] is True
        assert 10 <= data["row_count"] <= 16
        assert [row[0] for row in data["rows"]] == list(range(1, data["row_count"] + 1))
        assert data["cells_truncated"] == data["row_count"]
        assert sql.checked_out() == 0
        # a single row larger than the budget still comes back
        one: dict[str, Any] = await sql.query(f"SELECT body FROM {blobs}")
        assert one["row_count"] == 1


async def test_mariadb_refuses_what_it_cannot_cut(mariadb: TestDatabase) -> None:
    """What MariaDB cannot wrap to cut is refused with a way out, never sent whole.

    With a LIMIT of its own and two columns of one name (a wrapped statement must name
    its columns apart), or with more long columns than it can wrap safely.
    """
    blobs, customers = mariadb.table("blobs"), mariadb.table("customers")
    async with mariadb.serve(max_cell_bytes=16) as sql:
        message = await sql.error(
            "query", sql=f"SELECT a.body, b.body FROM {blobs} a CROSS JOIN {blobs} b LIMIT 1"
        )
        assert "give every column its own name" in message
        # short columns need no cutting, so the same shape runs
        data = await sql.query(
            f"SELECT a.id, b.id FROM {customers} a CROSS JOIN {customers} b "
            "ORDER BY a.id, b.id LIMIT 2"
        )
        assert data["rows"] == [[1, 1], [1, 2]]
        # more long columns than MariaDB can wrap safely are refused, not sent whole
        wide = ", ".join(f"REPEAT('w', 10000) AS c{index}" for index in range(300))
        message = await sql.error("query", sql=f"SELECT {wide}")
        assert "300 columns that can hold long values" in message
        # distinct names make it work
        named = await sql.query(
            f"SELECT a.body AS first, b.body AS second FROM {blobs} a CROSS JOIN {blobs} b LIMIT 1"
        )
        assert named["rows"] == [[mariadb.big_text[:16] + "…"] * 2]
        assert sql.checked_out() == 0


async def test_postgresql_cuts_what_a_change_returns(postgresql: TestDatabase) -> None:
    """RETURNING runs inside the wrapping: cut there, counted there, never read whole."""
    table = postgresql.table("returned")
    await postgresql.admin(f"CREATE TABLE {table} (id integer PRIMARY KEY, body text)")
    try:
        async with postgresql.serve(allow_writes=True, max_cell_bytes=CELL, row_limit=3) as sql:
            async with _peak() as peak:
                done = await sql.ok(
                    "execute",
                    sql=f"INSERT INTO {table} VALUES (1, repeat('v', {HUGE})) RETURNING id, body",
                )
            assert done["rows"] == [[1, "v" * CELL + "…"]]
            assert (done["rows_affected"], done["truncated"], done["cells_truncated"]) == (
                1,
                False,
                1,
            )
            assert [column["name"] for column in done["columns"]] == ["id", "body"]
            # more rows than the row limit: all are changed and counted, three come back
            many = await sql.ok(
                "execute",
                sql=f"INSERT INTO {table} SELECT n, 'short' FROM generate_series(2, 10) AS n "
                "RETURNING id",
            )
            assert (many["rows_affected"], many["truncated"]) == (9, True)
            assert many["rows"] == [[2], [3], [4]]
            # a change that returns nothing runs as before
            plain = await sql.ok("execute", sql=f"DELETE FROM {table} WHERE id > 5")
            assert (plain["rows_affected"], plain["rows"]) == (5, [])
        assert await postgresql.admin(f"SELECT count(*) FROM {table}") == [(5,)]
        (allocated,) = peak
        assert allocated < HUGE // 10, f"{allocated} bytes allocated for a {HUGE}-byte cell"
    finally:
        await postgresql.admin(f"DROP TABLE {table}")
