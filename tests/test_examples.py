"""The runnable set-ups in ``examples/``: each configuration checks, and each example is
served and answers a call.

Each example is copied to a temporary folder first (its relative paths then start there),
so nothing is written into the repository. The team server needs PostgreSQL on
127.0.0.1:5432 and the gateway the npm peers of ``scripts/setup_peers.py``: without them
their tests skip, and under ``CI=true`` they fail. The Copper and Odoo fakes run as the
READMEs say, as ``python -m plugbay_<x>.fake`` subprocesses on a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextContent

from plugbay_testing.fakes import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PEERS_BIN = ROOT / "tests" / "peers" / "node_modules" / ".bin"
PLUGINS = ["filesystem", "sql", "proxy", "copper", "odoo", "auth", "guard"]
COPPER_KEY = "copper-fake-api-key-0123456789"
ODOO_KEY = "5f1d0c3b9a8e7d6c5b4a39281706f5e4d3c2b1a0"

VARIABLES: dict[str, dict[str, str]] = {
    "desktop": {},
    "team-server": {
        "TEAM_ALICE_KEY": "pbk_alice-example-key-0123456789abcdef",
        "TEAM_CI_KEY": "pbk_ci-bot-example-key-0123456789abcdef",
    },
    "gateway": {},
    "copper": {"COPPER_API_KEY": COPPER_KEY, "COPPER_USER_EMAIL": "owner@example.com"},
    "odoo": {"ODOO_API_KEY": ODOO_KEY},
}
"""The environment variables each example's README says to set."""

FAKE_START_TIMEOUT = 30.0


def _copy(name: str, tmp_path: Path) -> Path:
    """The example copied into ``tmp_path``; returns its ``plugbay.toml``."""
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("shop.db"))
    return target / "plugbay.toml"


def _plugbay(e2e: Any, config: Path, *args: str, **variables: str) -> Any:
    env = e2e.child_env(PLUGINS, **variables)
    return e2e.run_plugbay([*args, "--config", str(config)], cwd=config.parent, env=env)


def _tool_names(e2e: Any, config: Path, **variables: str) -> set[str]:
    done = _plugbay(e2e, config, "tools", "--json", **variables)
    assert done.returncode == 0, done.stderr
    return {tool["name"] for tool in json.loads(done.stdout)}


def _call(e2e: Any, config: Path, tool: str, *arguments: str, **variables: str) -> str:
    env = e2e.child_env(PLUGINS, **variables)
    args = ["call", "--config", str(config), tool, *arguments]
    done = e2e.run_plugbay(args, cwd=config.parent, env=env)
    assert done.returncode == 0, done.stderr
    return str(done.stdout)


def test_every_example_is_listed_and_has_a_readme() -> None:
    folders = {path.name for path in EXAMPLES.iterdir() if path.is_dir()}
    assert folders == set(VARIABLES)
    index = (EXAMPLES / "README.md").read_text()
    for name in folders:
        assert (EXAMPLES / name / "README.md").is_file()
        assert f"]({name}/)" in index


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_the_configuration_checks(e2e: Any, tmp_path: Path, name: str) -> None:
    config = _copy(name, tmp_path)
    done = _plugbay(e2e, config, "config", "check", **VARIABLES[name])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("configuration OK:")
    assert "Traceback" not in done.stderr


def test_desktop_serves_the_notes_and_the_database(e2e: Any, tmp_path: Path) -> None:
    config = _copy("desktop", tmp_path)
    subprocess.run([sys.executable, str(config.parent / "make_db.py")], check=True, timeout=60)
    names = _tool_names(e2e, config)
    assert {"notes_read_text_file", "notes_search_text", "shop_query", "shop_list_tables"} <= names
    rows = _call(e2e, config, "shop_query", "sql=SELECT name FROM customers ORDER BY id")
    assert "Ada Lovelace" in rows
    note = _call(e2e, config, "notes_read_text_file", "path=meeting-2026-12-01.md")
    assert "Follow up on delivery to London" in note


@contextmanager
def _fake(module: str) -> Iterator[int]:
    """``python -m <module> --port <free port>`` until the block ends; yields the port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + FAKE_START_TIMEOUT
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"{module} exited with {process.returncode}:\n{output}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"{module} did not listen on {port} in {FAKE_START_TIMEOUT} s")
            time.sleep(0.05)
        yield port
    finally:
        process.kill()  # a fake keeps nothing worth a graceful stop
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def test_copper_serves_against_its_fake(e2e: Any, tmp_path: Path) -> None:
    config = _copy("copper", tmp_path)
    with _fake("plugbay_copper.fake") as port:
        # The example names port 8931; the test's fake has a free port instead.
        variables = {
            **VARIABLES["copper"],
            "PLUGBAY_COPPER__BASE_URL": f"http://127.0.0.1:{port}/developer_api/v1",
        }
        names = _tool_names(e2e, config, **variables)
        account = _call(e2e, config, "copper_get_account", **variables)
    assert {"copper_search_people", "copper_get_account", "copper_create_person"} <= names
    assert "Plugbay Test Co" in account


def test_odoo_serves_against_its_fake(e2e: Any, tmp_path: Path) -> None:
    config = _copy("odoo", tmp_path)
    with _fake("plugbay_odoo.fake") as port:
        variables = {**VARIABLES["odoo"], "PLUGBAY_ODOO__URL": f"http://127.0.0.1:{port}"}
        names = _tool_names(e2e, config, **variables)
        models = _call(e2e, config, "odoo_list_models", **variables)
    assert {"odoo_search_read", "odoo_list_models", "odoo_server_info"} <= names
    assert "res.partner" in models
    assert "sale.order" in models
    assert "res.users" not in models


def test_the_gateway_serves_the_npm_servers(e2e: Any, tmp_path: Path) -> None:
    everything, files = PEERS_BIN / "mcp-server-everything", PEERS_BIN / "mcp-server-filesystem"
    if not (everything.exists() and files.exists()):
        message = "the npm peers are not installed: run scripts/setup_peers.py"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    config = _copy("gateway", tmp_path)
    # The installed servers stand in for npx (no download), as the README says.
    variables = {
        "PLUGBAY_EVERYTHING__COMMAND": str(everything),
        "PLUGBAY_EVERYTHING__ARGS": '["stdio"]',
        "PLUGBAY_FILES__COMMAND": str(files),
    }
    names = _tool_names(e2e, config, **variables)
    assert {"everything_echo", "everything_get-sum", "files_read_text_file"} <= names
    assert "everything_get-env" not in names  # denied
    assert "files_write_file" not in names  # not allowed
    welcome = str(config.parent / "shared" / "welcome.txt")
    text = _call(e2e, config, "files_read_text_file", f"path={welcome}", **variables)
    assert "through plugbay" in text
    total = _call(e2e, config, "everything_get-sum", "a=2", "b=3", **variables)
    assert "The sum of 2 and 3 is 5" in total


def _needs_postgresql() -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            return
    message = "PostgreSQL is not listening on 127.0.0.1:5432"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


async def _listed(url: str, key: str) -> tuple[set[str], str]:
    """The tools ``key``'s holder sees, and the text of one ``db_query`` call."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=10)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("db_query", {"sql": "SELECT 40 + 2 AS answer"})
    text = " ".join(part.text for part in result.content if isinstance(part, TextContent))
    return names, text


@pytest.mark.anyio
async def test_the_team_server_lets_each_key_see_what_the_policy_allows(
    e2e: Any, tmp_path: Path
) -> None:
    _needs_postgresql()
    config = _copy("team-server", tmp_path)
    variables = VARIABLES["team-server"]
    env = e2e.child_env(PLUGINS, **variables)
    # The example listens on 0.0.0.0; the test keeps to loopback.
    args = ["--config", str(config), "--host", "127.0.0.1"]
    with e2e.http_server(config.parent, env, *args) as server:
        anonymous = httpx.post(server.url, json={}, timeout=10)
        alice, answer = await _listed(server.url, variables["TEAM_ALICE_KEY"])
        bot, refused = await _listed(server.url, variables["TEAM_CI_KEY"])
    assert anonymous.status_code == 401
    assert {"db_query", "db_list_tables", "handbook_read_text_file"} <= alice
    assert "db_execute" not in alice
    assert "42" in answer
    assert "handbook_read_text_file" in bot
    assert all(name.startswith("handbook_") for name in bot)
    assert "handbook_write_file" not in bot
    assert "db_query is not available to ci-bot" in refused
