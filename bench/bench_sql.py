"""An indexed lookup through the SQL connector's ``query`` tool, against plain SQLAlchemy.

The same statement (``SELECT id, name, price FROM bench_items WHERE id = :id``, a primary
key lookup in a 10 000-row table) runs three ways, all in one process on one event loop,
one call at a time, on the same database:

- ``sqlalchemy``: straight through SQLAlchemy's asyncio engine (same driver, same pool
  size): ``async with engine.connect()``, ``execute``, ``fetchall``;
- ``connector``: the connector's ``query`` method, called directly: what the plugin adds
  (statement check, read-only transaction with its timeout, a server-side cursor, the
  rows as JSON values), without any MCP;
- ``mcp``: the ``<instance>_query`` tool through a real ``mcp.Client`` connected to the
  assembled plugbay server in memory (``plugbay_testing.serve``): the plugin plus
  the host (validation, structured result) and the protocol, without a network.

Each path runs ``--calls`` lookups (after ``--warmup``) with random ids, alternating
paths in ``--rounds`` rounds; the report gives the median per-call latency of each
path and its ratio to ``sqlalchemy``. Every result is checked against the expected row.

    python bench/bench_sql.py [--calls 2000] [--rounds 3] [--dialects sqlite,postgresql,mariadb]

PostgreSQL and MariaDB are used when reachable (``--postgresql-url``, ``--mariadb-url``);
the benchmark creates its own schema (MariaDB: database) and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import comma_list, lookup_parser, median_and_p99_us, print_report, timed
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from plugbay_sql import SqlConnector
from plugbay_testing import serve

ROWS = 10_000
POOL_SIZE = 5
DEFAULT_URLS = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "mariadb": "mariadb+aiomysql://root@127.0.0.1:3306/test",
}
PATHS = ("sqlalchemy", "connector", "mcp")


@dataclass
class Database:
    """One database holding the bench table."""

    dialect: str
    url: str
    schema: str
    table: str


@dataclass
class Result:
    """The measurements of one database."""

    dialect: str
    calls: int
    median_us: dict[str, float] = field(default_factory=dict)
    p99_us: dict[str, float] = field(default_factory=dict)
    ratio: dict[str, float] = field(default_factory=dict)


def _price(item_id: int) -> Decimal:
    return Decimal(item_id % 1000) / 10


async def _run_all(url: str, statements: Sequence[str]) -> None:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _fill(url: str, table: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    # sqlite3 binds no Decimal; the others take it for numeric.
    price: Callable[[Decimal], Any] = float if url.startswith("sqlite") else Decimal
    try:
        async with engine.begin() as conn:
            rows = [
                {"id": item_id, "name": f"item {item_id}", "price": price(_price(item_id))}
                for item_id in range(1, ROWS + 1)
            ]
            await conn.execute(
                text(f"INSERT INTO {table} (id, name, price) VALUES (:id, :name, :price)"),
                rows,
            )
    finally:
        await engine.dispose()


@asynccontextmanager
async def bench_database(dialect: str, url: str | None) -> AsyncIterator[Database]:
    """Create the bench table (in a schema of its own) and drop it afterwards."""
    name = f"plugbay_bench_{uuid.uuid4().hex[:8]}"
    columns = "(id integer PRIMARY KEY, name varchar(100) NOT NULL, price numeric(10, 2))"
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "bench.db"
            sqlite_url = f"sqlite+aiosqlite:///{path}"
            await _run_all(sqlite_url, [f"CREATE TABLE bench_items {columns}"])
            await _fill(sqlite_url, "bench_items")
            yield Database(dialect, f"sqlite:///{path}", "main", "bench_items")
        return
    assert url is not None
    if dialect == "postgresql":
        table = f'"{name}".bench_items'
        await _run_all(url, [f'CREATE SCHEMA "{name}"', f"CREATE TABLE {table} {columns}"])
        drop = [f'DROP SCHEMA "{name}" CASCADE']
        database_url = url
    else:
        table = f"`{name}`.bench_items"
        await _run_all(url, [f"CREATE DATABASE `{name}`", f"CREATE TABLE {table} {columns}"])
        drop = [f"DROP DATABASE `{name}`"]
        database_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        await _fill(url, table)
        await _run_all(url, [f"ANALYZE {'TABLE ' if dialect == 'mariadb' else ''}{table}"])
        yield Database(dialect, database_url, name, table)
    finally:
        await _run_all(url, drop)


async def reachable(url: str) -> bool:
    """Whether the database at ``url`` answers within a few seconds."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with asyncio.timeout(5), engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


Lookup = Callable[[int], Awaitable[list[Any]]]


def _sqlalchemy_lookup(engine: AsyncEngine, sql: str) -> Lookup:
    statement = text(sql)

    async def lookup(item_id: int) -> list[Any]:
        async with engine.connect() as conn:
            result = await conn.execute(statement, {"id": item_id})
            return [list(row) for row in result.fetchall()]

    return lookup


def _connector_lookup(connector: SqlConnector, sql: str) -> Lookup:
    async def lookup(item_id: int) -> list[Any]:
        data = await connector.query(sql, params={"id": item_id})
        return data["rows"]

    return lookup


def _mcp_lookup(call: Callable[..., Awaitable[Any]], sql: str) -> Lookup:
    async def lookup(item_id: int) -> list[Any]:
        result = await call("bench_query", {"sql": sql, "params": {"id": item_id}})
        if result.is_error:
            raise RuntimeError(result.content[0].text)
        rows: list[Any] = result.structured_content["rows"]
        return rows

    return lookup


def _expected(item_id: int) -> list[Any]:
    return [[item_id, f"item {item_id}", float(_price(item_id))]]


def _normalize(rows: list[Any]) -> list[Any]:
    return [[row[0], row[1], float(row[2])] for row in rows]


async def _timed(lookup: Lookup, ids: Sequence[int]) -> list[float]:
    return await timed(lookup, ids, lambda item_id, rows: _normalize(rows) == _expected(item_id))


async def measure(database: Database, options: argparse.Namespace) -> Result:
    """Time the three paths on one database."""
    sql = f"SELECT id, name, price FROM {database.table} WHERE id = :id"
    settings = {"url": database.url, "pool_size": POOL_SIZE}
    engine = create_async_engine(
        SqlConnector.settings_model.model_validate(settings).url,  # type: ignore[attr-defined]
        pool_size=POOL_SIZE,
        max_overflow=0,
    )
    rng = random.Random(options.seed)
    samples: dict[str, list[float]] = {path: [] for path in PATHS}
    try:
        async with serve(SqlConnector, settings=settings, instance="bench") as harness:
            connector = harness.connector
            assert isinstance(connector, SqlConnector)
            lookups = {
                "sqlalchemy": _sqlalchemy_lookup(engine, sql),
                "connector": _connector_lookup(connector, sql),
                "mcp": _mcp_lookup(harness.client.call_tool, sql),
            }
            for lookup in lookups.values():
                await _timed(lookup, [rng.randint(1, ROWS) for _ in range(options.warmup)])
            per_round = max(1, options.calls // options.rounds)
            for _round in range(options.rounds):
                for path in PATHS:
                    ids = [rng.randint(1, ROWS) for _ in range(per_round)]
                    samples[path] += await _timed(lookups[path], ids)
    finally:
        await engine.dispose()
    result = Result(database.dialect, calls=len(samples["sqlalchemy"]))
    base = statistics.median(samples["sqlalchemy"])
    for path in PATHS:
        result.median_us[path], result.p99_us[path] = median_and_p99_us(samples[path])
        result.ratio[path] = statistics.median(samples[path]) / base
    return result


def report(results: Sequence[Result]) -> None:
    """Print one table row per database and path."""
    print(f"indexed lookup of 1 row in {ROWS} by primary key, one call at a time, in process")
    print(f"{'database':<11} {'path':<11} {'median us':>10} {'p99 us':>10} {'ratio':>7}")
    for result in results:
        for path in PATHS:
            print(
                f"{result.dialect:<11} {path:<11} {result.median_us[path]:>10.0f} "
                f"{result.p99_us[path]:>10.0f} {result.ratio[path]:>7.2f}"
            )
    print("ratio: median latency / the same query straight through SQLAlchemy")


async def run(options: argparse.Namespace) -> list[Result]:
    """Measure every requested database that is reachable."""
    results = []
    urls = {"postgresql": options.postgresql_url, "mariadb": options.mariadb_url}
    for dialect in options.dialects:
        url = urls.get(dialect)
        if url is not None and not await reachable(url):
            print(f"skipping {dialect}: not reachable at {make_url(url)!r}", file=sys.stderr)
            continue
        async with bench_database(dialect, url) as database:
            results.append(await measure(database, options))
    return results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = lookup_parser(__doc__)
    parser.add_argument(
        "--dialects",
        type=comma_list,
        default=["sqlite", "postgresql", "mariadb"],
        help="comma-separated: sqlite, postgresql, mariadb",
    )
    parser.add_argument("--postgresql-url", default=DEFAULT_URLS["postgresql"])
    parser.add_argument("--mariadb-url", default=DEFAULT_URLS["mariadb"])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> list[Result]:
    """Run the benchmark and print its report."""
    options = parse_args(argv)
    results = asyncio.run(run(options))
    print_report([asdict(result) for result in results], options.json, lambda _: report(results))
    return results


if __name__ == "__main__":
    main()
