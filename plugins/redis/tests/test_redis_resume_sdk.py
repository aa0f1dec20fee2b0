"""Resumption through the SDK's own session manager, with the plugin's wrapper in front.

No plugbay host here: the SDK's ``MCPServer`` serves a tool over streamable HTTP with the
Redis store, and :func:`plugbay_redis.session_scoped` wraps the application, as the host
does with every ``register_asgi_wrappers`` wrapper. This pins what the store relies on in
the SDK: every place it calls ``store_event`` and ``replay_events_after`` (the request
that opens a session, the session's own tasks, later requests) runs in the context of a
request of that session. If an SDK release broke that, these tests fail (and the store
would refuse to store rather than mix sessions).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from redis.asyncio import Redis

from plugbay_redis import RedisEventStore, session_scoped

pytestmark = pytest.mark.anyio


class Gate:
    """Holds each call, by its label, until the test has cut the client's stream."""

    def __init__(self) -> None:
        self.events: dict[str, anyio.Event] = {}

    def __getitem__(self, label: str) -> anyio.Event:
        return self.events.setdefault(label, anyio.Event())


def _server(gate: Gate) -> MCPServer:
    server = MCPServer("resumable")

    @server.tool()
    async def slow(label: str, ctx: Context) -> str:
        """Report progress, wait for the test to cut the stream, report more, answer."""
        await ctx.report_progress(1, 2, f"{label}: before the break")
        await gate[label].wait()
        # Sent while the client is away: only Redis has it, until the client resumes.
        await ctx.report_progress(2, 2, f"{label}: while the client was away")
        return f"{label}: done"

    return server


@pytest.fixture
async def url(store: RedisEventStore, serve: Any, gate: Gate) -> AsyncIterator[str]:
    app = _server(gate).streamable_http_app(event_store=store, retry_interval=100)
    async with serve(session_scoped(app)) as base:
        yield f"{base}/mcp"


@pytest.fixture
def gate() -> Gate:
    return Gate()


async def _cut_after_first_progress(wire: ModuleType, session: Any, label: str) -> str:
    """Call ``slow`` as request 2 and drop the stream after its first progress event."""
    async with wire.calling(session, 2, "slow", {"label": label}) as stream:
        async for event in stream:
            message = event.message
            if message is not None and message.get("method") == "notifications/progress":
                assert message["params"]["message"] == f"{label}: before the break"
                assert event.id is not None
                return str(event.id)
    raise AssertionError("the stream ended before the first progress event")


def _texts(received: list[Any], wire: ModuleType) -> list[str]:
    out = []
    for message in wire.messages(received):
        if "result" in message:
            out.append(message["result"]["content"][0]["text"])
        else:
            out.append(message["params"]["message"])
    return out


async def test_two_sessions_with_the_same_request_ids_each_resume_their_own(
    url: str, wire: ModuleType, gate: Gate, redis_keys: Redis, key_prefix: str
) -> None:
    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            alice = await wire.open_session(http, url)
            bob = await wire.open_session(http, url)
            assert alice.id != bob.id
            # Both clients number their requests alike: initialize was 1, the call is 2.
            alice_seen = await _cut_after_first_progress(wire, alice, "alice")
            bob_seen = await _cut_after_first_progress(wire, bob, "bob")
            gate["alice"].set()
            gate["bob"].set()
            await anyio.sleep(0.3)  # both calls finish while their clients are away

            # Another session's event id replays nothing, even from a valid session.
            assert wire.messages(await wire.resume(bob, alice_seen)) == []
            assert wire.messages(await wire.resume(alice, bob_seen)) == []

            alice_got = await wire.resume(alice, alice_seen)
            bob_got = await wire.resume(bob, bob_seen)
    assert _texts(alice_got, wire) == ["alice: while the client was away", "alice: done"]
    assert _texts(bob_got, wire) == ["bob: while the client was away", "bob: done"]
    assert all(message["id"] == 2 for message in wire.messages(alice_got) if "id" in message)

    keys = [key.decode() async for key in redis_keys.scan_iter(match=f"{key_prefix}:*")]
    sessions = {key.split(":")[1] for key in keys}
    assert len(sessions) == 2  # one key space each; request "2" is a stream in both
    assert alice.id not in " ".join(keys)  # keys do not reveal session ids


async def test_a_session_resumes_the_stream_that_opened_it(
    url: str, wire: ModuleType, gate: Gate
) -> None:
    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            session = await wire.open_session(http, url)
            async with wire.calling(session, 2, "slow", {"label": "x"}) as stream:
                priming = await anext(stream)
            assert priming.message is None
            assert priming.id
            gate["x"].set()
            got = await wire.resume(session, priming.id)
    assert _texts(got, wire) == [
        "x: before the break",
        "x: while the client was away",
        "x: done",
    ]


async def test_the_sdk_client_resumes_a_stream_the_server_closed(
    store: RedisEventStore, serve: Any
) -> None:
    """The SDK's own client reconnects with ``Last-Event-ID`` and gets the rest from Redis."""
    server = MCPServer("closing")

    @server.tool()
    async def interrupted(ctx: Context) -> str:
        """Report progress, close the client's stream, report more while it is away."""
        await ctx.report_progress(1, 2, "before the break")
        await ctx.close_sse_stream()
        # The client waits retry_interval before it reconnects: only Redis has this.
        await ctx.report_progress(2, 2, "while the client was away")
        await anyio.sleep(0.3)
        return "done"

    notes: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append(message)

    app = server.streamable_http_app(event_store=store, retry_interval=100)
    async with serve(session_scoped(app)) as base:
        with anyio.fail_after(15):
            async with Client(f"{base}/mcp", mode="legacy") as client:
                result = await client.call_tool("interrupted", {}, progress_callback=on_progress)
    assert not result.is_error
    assert [getattr(block, "text", None) for block in result.content] == ["done"]
    assert notes == ["before the break", "while the client was away"]
