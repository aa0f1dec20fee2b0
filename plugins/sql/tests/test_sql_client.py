"""``plugbay serve`` with the installed SQL plugin, over HTTP, through a real MCP client.

One server process serves three instances at once (SQLite, PostgreSQL and MariaDB),
configured in a ``plugbay.toml`` with the password from the environment. The client
speaks streamable HTTP in both protocol eras.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import mcp_types as types
import pytest
from mcp import Client

from plugbay_testing.fakes import free_port

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "pg-Secret-9f2c-never-shown"
START_TIMEOUT = 30.0


@pytest.fixture
def server(
    tmp_path: Path, sqlite: TestDatabase, postgresql: TestDatabase, mariadb: TestDatabase
) -> Iterator[tuple[str, Path]]:
    """A ``plugbay serve`` subprocess with one instance per database; its URL and log."""
    if not metadata.entry_points(group="plugbay", name="sql"):
        pytest.fail("plugbay-sql is not installed: pip install -e plugins/sql")
    config = tmp_path / "plugbay.toml"
    config.write_text(
        f"""
[connectors.notes]
plugin = "sql"
url = "{sqlite.url}"

[connectors.shop]
plugin = "sql"
url = "{postgresql.url}"
password = "${{SHOP_PASSWORD}}"
schemas = ["{postgresql.schema}"]
row_limit = 2

[connectors.legacy]
plugin = "sql"
url = "{mariadb.url}"
"""
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLUGBAY_")}
    env.update(PLUGBAY_PLUGINS="sql", SHOP_PASSWORD=SECRET)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "plugbay.cli",
                "serve",
                "--port",
                str(port),
                "--config",
                str(config),
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp", log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_three_databases_behind_one_server(
    server: tuple[str, Path], postgresql: TestDatabase, mariadb: TestDatabase, mode: str
) -> None:
    url, log = server
    outputs: list[str] = []
    async with Client(url, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        for instance in ("notes", "shop", "legacy"):
            for name in ("list_schemas", "list_tables", "describe_table", "query", "explain"):
                assert tools[f"{instance}_{name}"].annotations.read_only_hint is True
            # Read-only instances do not list execute: it could only fail there.
            assert f"{instance}_execute" not in tools
        # Each tool says which database it reaches, so the model can tell them apart.
        assert tools["notes_query"].description.endswith("; read-only.")
        assert "This instance: SQLite, file " in tools["notes_query"].description
        assert "This instance: PostgreSQL, database " in tools["shop_list_tables"].description
        assert "This instance: MariaDB/MySQL, database " in tools["legacy_explain"].description

        notes = await client.call_tool("notes_query", {"sql": "SELECT name FROM customers"})
        shop = await client.call_tool(
            "shop_query",
            {
                "sql": f"SELECT id FROM {postgresql.table('orders')} WHERE amount > :least",
                "params": {"least": 1},
            },
        )
        legacy = await client.call_tool(
            "legacy_describe_table", {"table": "orders", "schema": mariadb.schema}
        )
        for result in (notes, shop, legacy):
            assert not result.is_error, result.content
            outputs.append(result.model_dump_json())
        assert notes.structured_content is not None
        assert notes.structured_content["rows"] == [["Ada"], ["Grace"], ["Linus"]]
        assert shop.structured_content is not None
        assert (shop.structured_content["row_count"], shop.structured_content["truncated"]) == (
            2,
            True,
        )
        assert legacy.structured_content is not None
        assert legacy.structured_content["primary_key"] == ["id"]

        refused = await client.call_tool(
            "shop_query", {"sql": f"DELETE FROM {postgresql.table('orders')}"}
        )
        assert refused.is_error
        outputs.append(refused.model_dump_json())

        read = await client.read_resource(f"sql://legacy/tables/{mariadb.schema}/customers")
        (contents,) = read.contents
        assert isinstance(contents, types.TextResourceContents)
        assert '"name":"customers"' in contents.text.replace(" ", "")
        prompt = await client.get_prompt("notes_explore_database")
        assert prompt.messages
    assert await postgresql.count("orders") == 3
    outputs.append(log.read_text(errors="replace"))
    assert not [output for output in outputs if SECRET in output]
