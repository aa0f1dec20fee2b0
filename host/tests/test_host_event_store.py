"""The Redis event store: SSE events kept per session and stream, replayed after a break.

These tests talk to a real Redis on 127.0.0.1:6379. Without one they are skipped (run
``docker run -p 6379:6379 redis:7`` or ``redis-server`` to enable them); under
``CI=true`` a missing Redis fails them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import mcp_types as types
import pytest
import uvicorn
from mcp import Client
from starlette.applications import Starlette

from plugbay import Context
from plugbay.hosting.event_store import UNSTORED, RedisEventStore
from plugbay.transports import http_app
from plugbay_testing.fakes import free_port

pytestmark = pytest.mark.anyio

redis_asyncio = pytest.importorskip("redis.asyncio", reason="needs plugbay[redis]")


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisEventStore]:
    """A store under a prefix of its own, whose keys are deleted afterwards."""
    prefix = f"plugbay-test:{uuid.uuid4().hex}"
    root = RedisEventStore.from_url(redis_url, prefix=prefix, ttl=60, max_events=1000)
    try:
        yield root
    finally:
        keys = [key async for key in root.client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await root.client.delete(*keys)
        await root.aclose()


def _request(request_id: int, method: str = "tools/call") -> types.JSONRPCMessage:
    return types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params={"n": 1})


def _progress(step: int) -> types.JSONRPCMessage:
    return types.JSONRPCNotification(
        jsonrpc="2.0",
        method="notifications/progress",
        params={"progressToken": 1, "progress": step},
    )


class Replayed:
    """A ``send_callback`` that keeps what it is sent."""

    def __init__(self) -> None:
        self.events: list[tuple[str | None, dict[str, object]]] = []

    async def __call__(self, event: object) -> None:
        message = getattr(event, "message")  # noqa: B009 - an EventMessage
        dumped = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        self.events.append((getattr(event, "event_id"), dumped))  # noqa: B009


async def test_events_replay_in_order_after_the_last_one_seen(store: RedisEventStore) -> None:
    session = store.for_session("session-a")
    priming = await session.store_event("7", None)
    ids = [await session.store_event("7", _progress(step)) for step in (1, 2, 3)]
    assert len(set([priming, *ids])) == 4

    everything = Replayed()
    assert await session.replay_events_after(priming, everything) == "7"
    assert [event_id for event_id, _ in everything.events] == ids
    assert [dumped["params"]["progress"] for _, dumped in everything.events] == [1, 2, 3]  # type: ignore[index]

    rest = Replayed()
    assert await session.replay_events_after(ids[1], rest) == "7"
    assert [event_id for event_id, _ in rest.events] == [ids[2]]

    nothing = Replayed()
    assert await session.replay_events_after(ids[2], nothing) == "7"
    assert nothing.events == []


async def test_streams_and_sessions_are_kept_apart(store: RedisEventStore) -> None:
    alice, bob = store.for_session("alice"), store.for_session("bob")
    first = await alice.store_event("1", None)
    await alice.store_event("2", _request(2))
    await alice.store_event("1", _progress(1))
    await alice.store_event("2", _progress(2))
    await alice.store_event("1", _progress(3))
    # Bob's client numbers its requests the same way: same stream id, other session.
    bobs = await bob.store_event("1", None)
    await bob.store_event("1", _progress(99))

    replayed = Replayed()
    assert await alice.replay_events_after(first, replayed) == "1"
    assert [dumped["params"]["progress"] for _, dumped in replayed.events] == [1, 3]  # type: ignore[index]

    # An event id from another session replays nothing, in either direction.
    stolen = Replayed()
    assert await bob.replay_events_after(first, stolen) is None
    assert await alice.replay_events_after(bobs, stolen) is None
    assert stolen.events == []
    own = Replayed()
    assert await bob.replay_events_after(bobs, own) == "1"
    assert [dumped["params"]["progress"] for _, dumped in own.events] == [99]  # type: ignore[index]


@pytest.mark.parametrize("stream_id", ["_GET_stream", "req/7 ü", "0", "a.b:c"])
async def test_any_stream_id_round_trips(store: RedisEventStore, stream_id: str) -> None:
    session = store.for_session("s")
    first = await session.store_event(stream_id, None)
    await session.store_event(stream_id, _request(5))
    replayed = Replayed()
    assert await session.replay_events_after(first, replayed) == stream_id
    assert [dumped["method"] for _, dumped in replayed.events] == ["tools/call"]


@pytest.mark.parametrize(
    "event_id",
    ["", "nonsense", "MQ.1-0", "MQ.not-an-id", "!!!.1-0", UNSTORED, "MQ.1-0 +", "a.MQ.1-0", "..."],
)
async def test_unknown_and_malformed_ids_replay_nothing(
    store: RedisEventStore, event_id: str
) -> None:
    session = store.for_session("s")
    await session.store_event("1", _progress(1))
    replayed = Replayed()
    assert await session.replay_events_after(event_id, replayed) is None
    assert replayed.events == []


async def test_events_expire(redis_url: str) -> None:
    prefix = f"plugbay-test:{uuid.uuid4().hex}"
    store = RedisEventStore.from_url(redis_url, prefix=prefix, ttl=0.3).for_session("s")
    try:
        first = await store.store_event("1", None)
        await store.store_event("1", _progress(1))
        remaining = await store.client.pttl(store.key("1"))
        assert 0 < remaining <= 300
        await anyio.sleep(0.45)
        assert await store.client.exists(store.key("1")) == 0
        assert await store.replay_events_after(first, Replayed()) is None
    finally:
        await store.aclose()


async def test_long_streams_are_trimmed_and_lost_events_are_not_papered_over(
    store: RedisEventStore,
) -> None:
    short = RedisEventStore(store.client, prefix=store.prefix, max_events=10, scope="s")
    first = await short.store_event("1", None)
    for step in range(400):
        await short.store_event("1", _progress(step))
    length = await short.client.xlen(short.key("1"))
    assert length < 400  # trimmed (approximately, in whole Redis stream nodes)
    # The client's last event was trimmed away: nothing is replayed, rather than a gap.
    assert await short.replay_events_after(first, Replayed()) is None


async def test_a_redis_outage_degrades_to_unresumable_streams() -> None:
    store = RedisEventStore.from_url("redis://127.0.0.1:9/0").for_session("s")
    try:
        with anyio.fail_after(5):
            assert await store.store_event("1", _progress(1)) == UNSTORED
            assert await store.replay_events_after("MQ.1-0", Replayed()) is None
    finally:
        await store.aclose()


@asynccontextmanager
async def _serving(app: Starlette) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            server.should_exit = True


async def interrupted(ctx: Context) -> str:
    """Report progress, lose the client's stream half-way, then finish."""
    await ctx.report_progress(1, 2, "before the break")
    sdk_context = ctx._request  # the SDK's request context: tests may reach in
    assert sdk_context.close_sse_stream is not None, "no event store: the stream cannot resume"
    await sdk_context.close_sse_stream()
    # Sent while the client is away (it waits sse_retry_ms): only Redis has it, and the
    # client gets it by replay when it reconnects with Last-Event-ID.
    await ctx.report_progress(2, 2, "while the client was away")
    await anyio.sleep(0.5)
    return sdk_context.request.headers["mcp-session-id"]


async def test_a_broken_stream_resumes_from_redis(build, bundle, redis_url: str) -> None:
    toml = f'[server]\nevent_store = "{redis_url}"\nsse_retry_ms = 100\n'
    app = http_app(build(bundle(tools=[interrupted]), toml=toml))
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    async with _serving(app) as url:
        with anyio.fail_after(15):
            async with Client(url, mode="legacy") as client:
                result = await client.call_tool("interrupted", {}, progress_callback=on_progress)
    assert not result.is_error
    assert isinstance(result.content[0], types.TextContent)
    session = result.content[0].text
    assert progress == ["before the break", "while the client was away"]

    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"plugbay:events:{session}:*")]
        assert keys, "the session's events were not kept in Redis"
        await client.delete(*keys)
    finally:
        await client.aclose()
