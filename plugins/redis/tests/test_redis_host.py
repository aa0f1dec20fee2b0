"""plugbay-redis in a real plugbay server: resumed streams, ``/readyz``, the table's errors.

The server is assembled by the host from a real configuration, with the plugin loaded
in-process, and served by uvicorn on 127.0.0.1 in stateful mode; the client speaks the
wire format itself (``wire.py``) so that it can cut a stream after a chosen event and pick
its request ids.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import anyio
import httpx
import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from starlette.testclient import TestClient

import plugbay_redis
from plugbay import Context, hookimpl
from plugbay.assembly import Assembly
from plugbay.errors import ConfigError
from plugbay.transports import http_app
from plugbay_testing.harness import build_assembly

pytestmark = pytest.mark.anyio

LOCAL = ("127.0.0.1", 50000)
"""A client on this machine, which sees /readyz's details."""


class Tools:
    """A plugin with one tool that reports progress around a break the test makes."""

    def __init__(self) -> None:
        self.released = anyio.Event()

    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        released = self.released

        async def slow(label: str, ctx: Context) -> str:
            """Report progress, wait for the test to cut the stream, report more, answer."""
            await ctx.report_progress(1, 2, f"{label}: before the break")
            await released.wait()
            await ctx.report_progress(2, 2, f"{label}: while the client was away")
            return f"{label}: done"

        register(slow)


def _assembly(tools: Tools, **redis: Any) -> Assembly:
    return build_assembly(plugbay_redis, tools, config={"redis": redis})


def _texts(wire: ModuleType, received: list[Any]) -> list[str]:
    out = []
    for message in wire.messages(received):
        if "result" in message:
            out.append(message["result"]["content"][0]["text"])
        else:
            out.append(message["params"]["message"])
    return out


async def test_a_stream_cut_mid_call_resumes_from_redis_with_last_event_id(
    redis_url: str, key_prefix: str, redis_keys: Redis, serve: Any, wire: ModuleType
) -> None:
    tools = Tools()
    assembly = _assembly(tools, url=redis_url, key_prefix=key_prefix, ttl=60)
    assert not assembly.problems
    app = http_app(assembly, stateless=False)
    with anyio.fail_after(20):
        async with serve(app) as base, httpx.AsyncClient(timeout=10) as http:
            url = f"{base}/mcp"
            alice = await wire.open_session(http, url)
            bob = await wire.open_session(http, url)
            seen: dict[str, str] = {}
            for label, session in (("alice", alice), ("bob", bob)):
                # Both sessions call with request id 2: the SDK names both streams "2".
                async with wire.calling(session, 2, "slow", {"label": label}) as stream:
                    async for event in stream:
                        message = event.message
                        if message and message.get("method") == "notifications/progress":
                            seen[label] = event.id
                            break
            tools.released.set()
            await anyio.sleep(0.3)  # the calls end while their clients are away

            assert wire.messages(await wire.resume(bob, seen["alice"])) == []
            alice_got = await wire.resume(alice, seen["alice"])
            bob_got = await wire.resume(bob, seen["bob"])

            ready = await http.get(f"{base}/readyz")
    assert _texts(wire, alice_got) == ["alice: while the client was away", "alice: done"]
    assert _texts(wire, bob_got) == ["bob: while the client was away", "bob: done"]
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"] == {"ready": True}

    keys = [key.decode() async for key in redis_keys.scan_iter(match=f"{key_prefix}:events:*")]
    assert len({key.split(":")[2] for key in keys}) == 2  # a key space per session
    for key in keys:
        assert 0 < await redis_keys.pttl(key) <= 60_000


def test_an_unreachable_redis_makes_the_server_not_ready() -> None:
    assembly = _assembly(Tools(), url="redis://127.0.0.1:9/0")
    with TestClient(http_app(assembly), base_url="http://127.0.0.1:8000", client=LOCAL) as http:
        response = http.get("/readyz")
    assert response.status_code == 503
    check = response.json()["checks"]["redis"]
    assert check["ready"] is False
    assert check["reason"].startswith("health check failed (")


def test_a_stateless_server_keeps_no_events(redis_url: str, key_prefix: str) -> None:
    assembly = _assembly(Tools(), url=redis_url, key_prefix=key_prefix)
    assert isinstance(assembly.extensions.event_store, plugbay_redis.RedisEventStore)
    app = http_app(assembly, stateless=True)
    with TestClient(app, base_url="http://127.0.0.1:8000", client=LOCAL) as http:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        }
        answer = http.post(
            "/mcp", json=body, headers={"accept": "application/json, text/event-stream"}
        )
    assert answer.status_code == 200
    assert '"result"' in answer.text
    assert "mcp-session-id" not in answer.headers
    client = SyncRedis.from_url(redis_url)
    try:
        assert client.keys(f"{key_prefix}*") == []
    finally:
        client.close()


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"url": "http://:hunter2@cache:6379"}, "[redis] url: must be a redis://, rediss://"),
        ({"url": "redis://cache", "event_store_ttl": 5}, "event_store_ttl"),
    ],
)
def test_table_errors_name_the_setting(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _assembly(Tools(), **table)
    assert any(problem in line for line in raised.value.problems), raised.value.problems
    assert "hunter2" not in str(raised.value.problems)
