"""``plugbay serve --demo``: the SaaS connectors against their bundled fakes, no account.

A real subprocess, a real MCP client: the tools are listed with a description that
says they are a demo, and a call reaches the fake's sample data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def env(e2e: Any) -> dict[str, str]:
    return e2e.child_env(["copper", "odoo", "filesystem"])


async def test_demo_over_stdio_lists_and_calls_copper_and_odoo(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    async with Client(e2e.stdio_server(tmp_path, env, "--demo")) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        people = await client.call_tool("copper_search_people", {"name": "grace"})
        server = await client.call_tool("odoo_server_info", {})
    # Only the connectors with a demo are served (the filesystem has none).
    assert {name.split("_", 1)[0] for name in tools} == {"copper", "odoo"}
    for tool in tools.values():
        assert tool.description is not None
        assert "Demo: this instance talks to a fake" in tool.description, tool.name
    assert not people.is_error
    assert people.structured_content is not None
    assert [p["name"] for p in people.structured_content["items"]] == ["Grace Hopper"]
    assert not server.is_error
    assert server.structured_content is not None
    assert server.structured_content["url"].startswith("http://127.0.0.1:")


def test_demo_over_http_says_so_in_the_banner(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    with e2e.http_server(tmp_path, env, "--demo") as server:
        assert httpx.get(f"{server.base}/readyz", timeout=10).status_code == 200
        log = server.output()
    assert (
        "plugbay: DEMO: copper, odoo run against fakes on this machine with sample data; "
        "nothing reaches a real account"
    ) in log.splitlines()
    assert "plugbay: copper (copper): 36 tools" in log


def test_demo_refuses_a_config_file(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "team.toml").write_text("")
    done = e2e.run_plugbay(
        ["serve", "--demo", "--config", str(tmp_path / "team.toml")], cwd=tmp_path, env=env
    )
    assert done.returncode == 2
    assert "--demo serves its own connectors: drop --config" in done.stderr
