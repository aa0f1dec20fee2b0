"""The Redis event store: SSE events kept per session and stream, replayed after a break.

These tests talk to a real Redis on 127.0.0.1:6379 (see conftest.py). Sessions are
entered with :func:`plugbay_redis.bound_session`, as the ASGI wrapper does per request.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import mcp_types as types
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from plugbay_redis import UNSTORED, RedisEventStore, SessionKeys, bound_session

pytestmark = pytest.mark.anyio


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
        self.events: list[tuple[str | None, dict[str, Any]]] = []

    async def __call__(self, event: Any) -> None:
        dumped = event.message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        self.events.append((event.event_id, dumped))

    @property
    def steps(self) -> list[Any]:
        """The ``progress`` of each replayed notification, in order."""
        return [dumped["params"]["progress"] for _, dumped in self.events]


async def test_events_replay_in_order_after_the_last_one_seen(store: RedisEventStore) -> None:
    with bound_session(SessionKeys()):
        priming = await store.store_event("7", None)
        ids = [await store.store_event("7", _progress(step)) for step in (1, 2, 3)]
        assert len({priming, *ids}) == 4

        everything = Replayed()
        assert await store.replay_events_after(priming, everything) == "7"
        assert [event_id for event_id, _ in everything.events] == ids
        assert everything.steps == [1, 2, 3]

        rest = Replayed()
        assert await store.replay_events_after(ids[1], rest) == "7"
        assert [event_id for event_id, _ in rest.events] == [ids[2]]

        nothing = Replayed()
        assert await store.replay_events_after(ids[2], nothing) == "7"
        assert nothing.events == []


async def test_priming_events_on_the_way_are_not_replayed(store: RedisEventStore) -> None:
    """A resumed stream gets a priming event of its own; a later replay skips it."""
    with bound_session(SessionKeys()):
        first = await store.store_event("3", None)
        await store.store_event("3", _progress(1))
        resumed = await store.store_event("3", None)
        await store.store_event("3", _progress(2))
        replayed = Replayed()
        assert await store.replay_events_after(first, replayed) == "3"
        assert replayed.steps == [1, 2]
        assert resumed not in [event_id for event_id, _ in replayed.events]


async def test_sessions_reusing_request_ids_each_replay_only_their_own(
    store: RedisEventStore,
) -> None:
    alice, bob = SessionKeys(), SessionKeys()
    with bound_session(alice):
        first = await store.store_event("1", None)
        await store.store_event("2", _request(2))
        await store.store_event("1", _progress(1))
        await store.store_event("2", _progress(2))
        await store.store_event("1", _progress(3))
    # Bob's client numbers its requests the same way: same stream id, other session.
    with bound_session(bob):
        bobs = await store.store_event("1", None)
        await store.store_event("1", _progress(99))

    with bound_session(alice):
        replayed = Replayed()
        assert await store.replay_events_after(first, replayed) == "1"
        assert replayed.steps == [1, 3]
        # An event id from another session replays nothing, in either direction.
        assert await store.replay_events_after(bobs, replayed) is None
    with bound_session(bob):
        stolen = Replayed()
        assert await store.replay_events_after(first, stolen) is None
        assert stolen.events == []
        own = Replayed()
        assert await store.replay_events_after(bobs, own) == "1"
        assert own.steps == [99]
    assert store.key("1", alice) != store.key("1", bob)


async def test_a_forged_id_reaches_only_the_forgers_own_streams(
    store: RedisEventStore,
) -> None:
    alice, mallory = SessionKeys(), SessionKeys()
    with bound_session(alice):
        first = await store.store_event("1", None)
        await store.store_event("1", _progress(1))
    with bound_session(mallory):
        await store.store_event("1", None)
        await store.store_event("1", _progress(666))
        # Mallory knows her own tag, and Alice's entry id is a time she can guess; but the
        # id is looked up in Mallory's own streams, so at most her own events come back
        # (Redis numbers each stream's entries by the clock, so hers may share the id).
        forged = ".".join([mallory.tag, *first.split(".")[1:]])
        replayed = Replayed()
        await store.replay_events_after(forged, replayed)
        assert 1 not in replayed.steps
        assert set(replayed.steps) <= {666}


@pytest.mark.parametrize("stream_id", ["_GET_stream", "req/7 ü", "0", "a.b:c"])
async def test_any_stream_id_round_trips(store: RedisEventStore, stream_id: str) -> None:
    with bound_session(SessionKeys()):
        first = await store.store_event(stream_id, None)
        await store.store_event(stream_id, _request(5))
        replayed = Replayed()
        assert await store.replay_events_after(first, replayed) == stream_id
    assert [dumped["method"] for _, dumped in replayed.events] == ["tools/call"]


@pytest.mark.parametrize(
    "event_id",
    ["", "nonsense", "MQ.1-0", "MQ.not-an-id", "!!!.1-0", UNSTORED, "MQ.1-0 +", "a.MQ.1-0", "..."],
)
async def test_unknown_and_malformed_ids_replay_nothing(
    store: RedisEventStore, event_id: str
) -> None:
    session = SessionKeys()
    with bound_session(session):
        await store.store_event("1", _progress(1))
        replayed = Replayed()
        assert await store.replay_events_after(event_id, replayed) is None
        # With the session's own tag but a stream id that is not base64 text.
        assert await store.replay_events_after(f"{session.tag}.!!!.1-0", replayed) is None
        assert await store.replay_events_after(f"{session.tag}.gA.1-0", replayed) is None
    assert replayed.events == []


async def test_outside_a_session_nothing_is_stored_or_replayed(
    store: RedisEventStore, redis_keys: Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with bound_session(SessionKeys()):
        kept = await store.store_event("1", None)
    with caplog.at_level(logging.WARNING, logger="plugbay_redis.event_store"):
        assert await store.store_event("1", _progress(1)) == UNSTORED
        assert await store.store_event("1", _progress(2)) == UNSTORED
        assert await store.replay_events_after(kept, Replayed()) is None
    assert [record.getMessage() for record in caplog.records] == [
        "an SSE event outside any known MCP session was not stored "
        "(is the plugbay-redis ASGI wrapper installed?)"
    ]
    keys = [key async for key in redis_keys.scan_iter(match=f"{key_prefix}*")]
    assert len(keys) == 1
    assert await redis_keys.xlen(keys[0]) == 1  # the priming event only


async def test_events_expire(redis_url: str, key_prefix: str, redis_keys: Redis) -> None:
    store = RedisEventStore.from_url(redis_url, prefix=key_prefix, ttl=0.3)
    session = SessionKeys()
    try:
        with bound_session(session):
            first = await store.store_event("1", None)
            await store.store_event("1", _progress(1))
            remaining = await store.client.pttl(store.key("1", session))
            assert 0 < remaining <= 300
            await anyio.sleep(0.45)
            assert await store.client.exists(store.key("1", session)) == 0
            assert await store.replay_events_after(first, Replayed()) is None
    finally:
        await store.aclose()


async def test_long_streams_are_trimmed_and_lost_events_are_not_papered_over(
    store: RedisEventStore,
) -> None:
    short = RedisEventStore(store.client, prefix=store.prefix, max_events=10)
    session = SessionKeys()
    with bound_session(session):
        first = await short.store_event("1", None)
        for step in range(400):
            await short.store_event("1", _progress(step))
        length = await short.client.xlen(short.key("1", session))
        assert length < 400  # trimmed (approximately, in whole Redis stream nodes)
        # The client's last event was trimmed away: nothing is replayed, rather than a gap.
        assert await short.replay_events_after(first, Replayed()) is None


async def test_a_redis_outage_degrades_to_unresumable_streams() -> None:
    store = RedisEventStore.from_url("redis://127.0.0.1:9/0")
    session = SessionKeys()
    try:
        with anyio.fail_after(5), bound_session(session):
            assert await store.store_event("1", _progress(1)) == UNSTORED
            assert await store.replay_events_after(f"{session.tag}.MQ.1-0", Replayed()) is None
            with pytest.raises(RedisConnectionError):
                await store.ping()
    finally:
        await store.aclose()


def test_event_ids_never_show_the_session_token() -> None:
    session = SessionKeys()
    assert session.token not in repr(session)
    assert len(session.token) == 32
    assert session.tag != session.token[:12]
    assert SessionKeys().token != session.token
