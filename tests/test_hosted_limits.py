"""Limits across processes: two ``plugbay serve`` processes share one rate limit through the
real Redis, and a server asked to stop lets the call in flight finish."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY = "pbk_shared-limit-0123456789abcdefghijklmnopqrstu"


def text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def search(url: str, query: str) -> types.CallToolResult:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        return await client.call_tool("desk_search", {"query": query})


@pytest.fixture
def two_servers(
    e2e: Any, hosted_site: Path, redis_prefix: str, tmp_path: Path
) -> Iterator[list[Any]]:
    (tmp_path / "plugbay.toml").write_text(
        f"""
[connectors.desk]
plugin = "desk"

[[auth.api_keys]]
name = "ci-bot"
key = "${{CI_KEY}}"

[limits]
per_tool = "3/minute"
storage = "redis://127.0.0.1:6379/0"
key_prefix = "{redis_prefix}"
"""
    )
    env = e2e.child_env(["hosted_desk", "auth", "guard"], [hosted_site], CI_KEY=KEY)
    with ExitStack() as stack:
        yield [stack.enter_context(e2e.http_server(tmp_path, env)) for _ in range(2)]


async def test_two_processes_share_one_rate_limit_through_redis(two_servers: list[Any]) -> None:
    first, second = two_servers
    outcomes = []
    for number, server in enumerate([first, second, first, second, first]):
        result = await search(server.url, f"q{number}")
        outcomes.append(text(result) if not result.is_error else text(result).split(";")[0])
    assert outcomes == [
        "found q0 on desk",
        "found q1 on desk",
        "found q2 on desk",
        "Rate limit reached: ci-bot may call desk_search 3 times per minute",
        "Rate limit reached: ci-bot may call desk_search 3 times per minute",
    ]
    refused = await search(second.url, "again")
    assert "retry in" in text(refused)
    for server in two_servers:
        assert KEY not in server.output()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_call_in_flight_finishes_when_the_server_is_stopped(
    e2e: Any, hosted_site: Path, tmp_path: Path, mode: str
) -> None:
    (tmp_path / "plugbay.toml").write_text(
        '[connectors.desk]\nplugin = "desk"\n[server]\nshutdown_grace = 20\n'
    )
    answers: list[types.CallToolResult] = []
    with e2e.http_server(tmp_path, e2e.child_env(["hosted_desk"], [hosted_site])) as server:
        try:
            async with Client(server.url, mode=mode) as client:
                # Listed first: the client would list the tools after the call otherwise
                # (to check its output), on a server that no longer accepts requests.
                await client.list_tools()

                async def slow_call() -> None:
                    answers.append(await client.call_tool("desk_wait", {"seconds": 1.5}))

                async with anyio.create_task_group() as group:
                    group.start_soon(slow_call)
                    await anyio.sleep(0.5)
                    server.process.send_signal(signal.SIGTERM)
        except* httpx2.ConnectError:
            pass  # closing the session afterwards finds the server gone, as it should
        assert [text(answer) for answer in answers] == ["waited 1.5s"]
        assert await anyio.to_thread.run_sync(server.process.wait, 20) == 0
        # It waited for the call, and the call finished within the grace period.
        assert "waiting up to 20s for 1 call(s) to finish" in server.output()
        assert "still running after" not in server.output()
