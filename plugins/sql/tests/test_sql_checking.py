"""Statements are checked off the event loop, and refused past max_statement_bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import pytest

from plugbay_sql import checking
from plugbay_sql.statements import Statement

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio


def _long_sum(terms: int) -> str:
    """A valid SELECT that counts ``terms`` rows of VALUES: 5 bytes a term, slow to split."""
    return "SELECT count(*) AS total FROM (VALUES " + ", ".join(["(1)"] * terms) + ")"


def _note_each_parse(monkeypatch: pytest.MonkeyPatch, note: Callable[[str], None]) -> None:
    """Call ``note`` with every statement the connector parses, where it parses it."""
    parse = checking.parse_statement

    def noted(sql: str) -> Statement:
        note(sql)
        return parse(sql)

    monkeypatch.setattr(checking, "parse_statement", noted)


def _in_worker_thread() -> bool:
    try:
        anyio.from_thread.check_cancelled()
    except RuntimeError:  # not in a worker thread
        return False
    return True


async def test_a_long_statement_is_parsed_while_the_loop_keeps_running(
    sqlite: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = 0
    seen: list[tuple[int, int]] = []
    parse = checking.parse_statement

    def observed(sql: str) -> Statement:
        # Ticks of the loop before and after the parse: equal if it ran on the loop.
        start = ticks
        statement = parse(sql)
        seen.append((start, ticks))
        return statement

    monkeypatch.setattr(checking, "parse_statement", observed)
    terms = 18_000  # about 90 kB
    async with sqlite.serve() as sql:
        done = anyio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await anyio.sleep(0)

        async with anyio.create_task_group() as group:
            group.start_soon(tick)
            data = await sql.query(_long_sum(terms))
            done.set()
    assert data["rows"] == [[terms]]
    ((start, end),) = seen
    assert end > start, "the loop ran other tasks while the statement was parsed"


async def test_short_statements_are_checked_on_the_loop(
    sqlite: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[bool] = []
    _note_each_parse(monkeypatch, lambda sql: threads.append(_in_worker_thread()))
    async with sqlite.serve() as sql:
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]
        assert (await sql.query(_long_sum(500)))["rows"] == [[500]]
    assert threads == [False, True]


async def test_statements_over_max_statement_bytes_are_refused_unparsed(
    sqlite: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    _note_each_parse(monkeypatch, lambda sql: parsed.append(len(sql)))
    statement = _long_sum(30_000)  # about 150 kB
    assert len(statement.encode()) > 100_000
    async with sqlite.serve() as sql:
        for tool in ("query", "explain"):
            message = await sql.error(tool, sql=statement)
            assert "max_statement_bytes" in message
            assert "100000 bytes" in message
        # multi-byte characters count as bytes: 30,000 characters of 4 bytes each
        message = await sql.error("query", sql="SELECT '" + "😀" * 30_000 + "' AS wide")
        assert "max_statement_bytes" in message
    async with sqlite.serve(allow_writes=True) as sql:
        message = await sql.error("execute", sql=statement)
        assert "max_statement_bytes" in message
    assert parsed == []
    async with sqlite.serve(max_statement_bytes=200_000) as sql:
        assert (await sql.query(statement))["rows"] == [[30_000]]
    assert parsed == [len(statement)]
