"""The rolling-window limiter: it keeps a burst under a server that enforces the same window."""

from __future__ import annotations

import contextlib
import time

import anyio
import pytest

from plugbay_http import RateLimit, RateLimiter, RestClient

from .conftest import FAST, FaultServer


async def test_a_window_holds_the_limit_and_no_more() -> None:
    limiter = RateLimiter(RateLimit(3, per_seconds=1))
    try:
        for _ in range(3):
            async with limiter.slot() as waited:
                assert waited < 0.05
        assert await limiter.remaining() == 0
        # The fourth has to wait for the first to leave the window.
        async with limiter.slot() as waited:
            assert waited > 0.5
    finally:
        await limiter.close()


async def test_requests_in_flight_hold_their_slots() -> None:
    limiter = RateLimiter(RateLimit(2, per_seconds=60))
    try:
        await limiter.acquire()
        await limiter.acquire()
        assert (limiter.in_flight, await limiter.remaining()) == (2, 0)
        with anyio.move_on_after(0.2) as scope:
            await limiter.acquire()
        assert scope.cancelled_caught, "a third request must wait while two are in flight"
        await limiter.release()
        # Finished requests stay in the window: still nothing free for a minute.
        assert (limiter.in_flight, await limiter.remaining()) == (1, 0)
    finally:
        await limiter.close()


async def test_every_window_of_the_period_holds_at_most_the_limit() -> None:
    limiter = RateLimiter(RateLimit(4, per_seconds=1))
    spans: list[tuple[float, float]] = []

    async def request() -> None:
        async with limiter.slot():
            sent = time.monotonic()
            await anyio.sleep(0.05)  # the request is on the wire
            spans.append((sent, time.monotonic()))

    try:
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(request)
    finally:
        await limiter.close()
    sends = sorted(sent for sent, _ in spans)
    finishes = sorted(finished for _, finished in spans)
    # The 5th request goes out a full window after the 1st one *finished*: the backend,
    # which counts arrivals (between send and finish), never sees 5 in one second.
    assert all(sends[i + 4] - finishes[i] >= 1.0 for i in range(len(sends) - 4))


async def test_limiters_with_different_keys_have_separate_budgets() -> None:
    limiter = RateLimiter(RateLimit(2, per_seconds=60), key="account-1")
    other = RateLimiter(RateLimit(2, per_seconds=60), key="account-2")
    try:
        for _ in range(2):
            async with limiter.slot():
                pass
        assert await limiter.remaining() == 0
        assert await other.remaining() == 2
        await limiter.reset()
        assert await limiter.remaining() == 2
    finally:
        await limiter.close()
        await other.close()


async def test_the_client_limiter_keeps_a_burst_under_the_servers_limit(
    fault_server: FaultServer,
) -> None:
    fault_server.limit(5, per_seconds=1.0)
    results: list[int] = []
    async with RestClient(
        fault_server.url, service="Example", rate_limit=RateLimit(5, per_seconds=1), retry=FAST
    ) as client:

        async def fetch(index: int) -> None:
            response = await client.request("GET", f"/items/{index}")
            results.append(response.status_code)

        async with anyio.create_task_group() as group:
            for index in range(12):
                group.start_soon(fetch, index)
    assert results == [200] * 12
    # Not one request bounced off the server's limit: the client waited instead.
    assert fault_server.rejected == 0


async def test_without_a_limiter_the_same_burst_bounces(fault_server: FaultServer) -> None:
    fault_server.limit(5, per_seconds=10.0)
    client = RestClient(fault_server.url, service="Example", retry=FAST)
    async with client, anyio.create_task_group() as group:
        for index in range(8):
            group.start_soon(_ignore_errors, client, f"/items/{index}")
    assert fault_server.rejected > 0


async def _ignore_errors(client: RestClient, path: str) -> None:
    # The server's count of rejections is what the test checks, not each outcome.
    with contextlib.suppress(Exception):
        await client.request("GET", path)


@pytest.mark.parametrize(("requests", "seconds"), [(0, 1), (1, 0)])
def test_a_limit_needs_room_for_a_request(requests: int, seconds: int) -> None:
    with pytest.raises(ValueError, match="at least"):
        RateLimit(requests, per_seconds=seconds)


def test_a_sync_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="async"):
        RateLimiter(RateLimit(1), storage_uri="memory://")
