"""``plugbay serve --stdio`` started before its folder or database exists: it comes up later.

The filesystem connector refuses to start on a root that is not an existing directory,
the SQL connector on a SQLite file that does not exist. The server is started first (as
a desktop client would spawn it before a drive is mounted); once the folder or file
appears, the instance is started again in the background,
its tools appear and the client hears ``tools/list_changed``, with no restart. Every
wait is for a state, with a generous bound.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WAIT_LIMIT = 60.0


def _text(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_a_folder_that_appears_later_is_served_without_a_restart(
    e2e: Any, filesystem_plugin: str, tmp_path: Path
) -> None:
    notes = tmp_path / "later" / "notes"
    (tmp_path / "plugbay.toml").write_text(
        "[server]\nretry_initial = 0.1\nretry_max = 0.5\n"
        f"[connectors.notes]\nplugin = \"filesystem\"\nroots = ['{notes}']\n"
    )
    env = e2e.child_env([filesystem_plugin])
    heard = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.set()

    params = e2e.stdio_server(tmp_path, env, "--config", str(tmp_path / "plugbay.toml"))
    async with Client(params, mode="legacy", message_handler=on_message) as client:
        assert [tool.name for tool in (await client.list_tools()).tools] == []

        notes.mkdir(parents=True)
        (notes / "todo.txt").write_text("water the plants\n")

        with anyio.fail_after(WAIT_LIMIT):
            await heard.wait()
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "notes_read_text_file" in names
        read = await client.call_tool("notes_read_text_file", {"path": str(notes / "todo.txt")})
        assert not read.is_error, _text(read)
        assert _text(read) == "water the plants\n"


async def test_a_sqlite_file_that_appears_later_is_served_without_a_restart(
    e2e: Any, tmp_path: Path
) -> None:
    database = tmp_path / "data" / "shop.db"
    (tmp_path / "plugbay.toml").write_text(
        "[server]\nretry_initial = 0.1\nretry_max = 0.5\n"
        f'[connectors.shop]\nplugin = "sql"\nurl = "sqlite:///{database}"\n'
    )
    env = e2e.child_env(["sql"])
    heard = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.set()

    params = e2e.stdio_server(tmp_path, env, "--config", str(tmp_path / "plugbay.toml"))
    async with Client(params, mode="legacy", message_handler=on_message) as client:
        assert [tool.name for tool in (await client.list_tools()).tools] == []

        database.parent.mkdir()
        draft = database.with_suffix(".draft")
        with sqlite3.connect(draft) as db:
            db.execute("CREATE TABLE items (name TEXT)")
            db.execute("INSERT INTO items VALUES ('lamp')")
        db.close()
        os.replace(draft, database)  # whole, so no attempt opens it half-written

        with anyio.fail_after(WAIT_LIMIT):
            await heard.wait()
        assert "shop_query" in {tool.name for tool in (await client.list_tools()).tools}
        query = await client.call_tool("shop_query", {"sql": "SELECT name FROM items"})
        assert not query.is_error, _text(query)
        assert query.structured_content is not None
        assert query.structured_content["rows"] == [["lamp"]]
