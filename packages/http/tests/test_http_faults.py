"""Retries under injected faults, over real sockets: what is retried, what never is."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from plugbay_http import BackendUnavailable, HttpStatusError, RestClient, RetryPolicy
from plugbay_testing.fakes import free_port

from .conftest import FAST, Answer, FaultServer, ResetServer


def client_for(url: str, **options: object) -> RestClient:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 2.0)
    return RestClient(url, service="Example", **options)  # type: ignore[arg-type]


async def test_a_500_on_a_get_is_retried_until_it_succeeds(fault_server: FaultServer) -> None:
    fault_server.script("/things", Answer(500), Answer(503), Answer(200, {"ok": True}))
    async with client_for(fault_server.url) as client:
        assert await client.request_json("GET", "/things") == {"ok": True}
    assert fault_server.count("/things") == 3


async def test_a_500_on_a_post_is_never_retried(fault_server: FaultServer) -> None:
    fault_server.script("/things", Answer(500, {"message": "boom"}), Answer(200))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("POST", "/things", json={"name": "x"})
    assert fault_server.count("/things") == 1
    assert raised.value.status == 500
    assert "Example failed to handle the request (HTTP 500): boom" in str(raised.value)


async def test_a_post_flagged_idempotent_is_retried(fault_server: FaultServer) -> None:
    fault_server.script("/search", Answer(502), Answer(200, []))
    async with client_for(fault_server.url) as client:
        response = await client.request("POST", "/search", json={}, idempotent=True)
    assert response.json() == []
    assert fault_server.count("/search") == 2


async def test_a_put_flagged_not_idempotent_is_not_retried(fault_server: FaultServer) -> None:
    fault_server.script("/counter", Answer(503))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError):
            await client.request("PUT", "/counter", json={"add": 1}, idempotent=False)
    assert fault_server.count("/counter") == 1


async def test_retry_after_is_waited_out(
    fault_server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.script(
        "/limited", Answer(429, headers={"Retry-After": "1"}), Answer(200, {"ok": True})
    )
    caplog.set_level(logging.WARNING, logger="plugbay_http")
    async with client_for(fault_server.url) as client:
        assert await client.request_json("GET", "/limited") == {"ok": True}
    assert fault_server.count("/limited") == 2
    (retry,) = [
        record.getMessage() for record in caplog.records if "retrying" in record.getMessage()
    ]
    assert "after HTTP 429 in 1.00 s" in retry


async def test_a_429_on_a_write_is_retried_where_the_backend_documents_it_unprocessed(
    fault_server: FaultServer,
) -> None:
    fault_server.script(
        "/things", Answer(429, headers={"Retry-After": "0"}), Answer(201, {"id": 7})
    )
    documented = replace(FAST, unprocessed_on_429=True)
    async with client_for(fault_server.url, retry=documented) as client:
        assert await client.request_json("POST", "/things", json={"name": "x"}) == {"id": 7}
    assert fault_server.count("/things") == 2


async def test_a_429_on_a_write_is_an_unknown_outcome_by_default(
    fault_server: FaultServer,
) -> None:
    # Without the vendor's word that a 429 turns the request away (a proxy may send
    # it after the backend acted), the write is neither retried nor called refused.
    fault_server.script("/things", Answer(429, headers={"Retry-After": "0"}), Answer(201))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("POST", "/things", json={})
    assert fault_server.count("/things") == 1
    assert raised.value.maybe_applied
    assert "may have been carried out" in str(raised.value)
    assert "retry after" not in str(raised.value)


async def test_a_429_on_a_write_is_not_retried_when_the_policy_says_so(
    fault_server: FaultServer,
) -> None:
    fault_server.script("/things", Answer(429, headers={"Retry-After": "0"}))
    strict = RetryPolicy(
        attempts=4,
        initial_backoff=0.01,
        jitter=0.01,
        retry_unsent_writes=False,
        unprocessed_on_429=True,
    )
    async with client_for(fault_server.url, retry=strict) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("POST", "/things", json={})
    assert fault_server.count("/things") == 1
    assert "rate limiting requests (HTTP 429): retry after 0 s" in str(raised.value)
    assert not raised.value.maybe_applied


async def test_a_long_retry_after_ends_the_retries_and_says_how_long(
    fault_server: FaultServer,
) -> None:
    fault_server.script("/limited", Answer(429, headers={"Retry-After": "3600"}))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("GET", "/limited")
    assert fault_server.count("/limited") == 1
    assert raised.value.retry_after == 3600
    assert "retry after 3600 s" in str(raised.value)


async def test_persistent_5xx_gives_up_after_the_attempts(fault_server: FaultServer) -> None:
    fault_server.script("/down", Answer(503, {"error": "maintenance"}))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("GET", "/down")
    assert fault_server.count("/down") == FAST.attempts
    assert "(HTTP 503): maintenance after 4 attempts" in str(raised.value)


async def test_a_reset_connection_is_retried_for_a_get(reset_server: ResetServer) -> None:
    async with client_for(reset_server.url) as client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("GET", "/things")
    assert reset_server.connections == FAST.attempts
    assert "The connection to Example at 127.0.0.1 failed" in str(raised.value)
    assert raised.value.maybe_applied


async def test_a_reset_connection_is_not_retried_for_a_post_and_warns(
    reset_server: ResetServer,
) -> None:
    async with client_for(reset_server.url) as client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("POST", "/things", json={"name": "x"})
    assert reset_server.connections == 1
    assert "may have been carried out" in str(raised.value)
    assert "so as not to do it twice" in str(raised.value)


async def test_a_timeout_is_retried_for_a_get(fault_server: FaultServer) -> None:
    fault_server.script("/slow", Answer(200, delay=1.0), Answer(200, {"ok": True}))
    async with client_for(fault_server.url, timeout=0.3) as client:
        assert await client.request_json("GET", "/slow") == {"ok": True}
    assert fault_server.count("/slow") == 2


async def test_a_timeout_on_a_post_is_reported_without_retrying(fault_server: FaultServer) -> None:
    fault_server.script("/slow", Answer(200, delay=1.0))
    async with client_for(fault_server.url, timeout=0.3) as client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("POST", "/slow", json={})
    assert fault_server.count("/slow") == 1
    assert "did not answer in time" in str(raised.value)
    assert "may have been carried out" in str(raised.value)


async def test_a_body_that_stalls_counts_as_a_timeout_and_is_retried(
    fault_server: FaultServer,
) -> None:
    stalled = Answer(200, {"items": list(range(20))}, chunk_delay=1.0)
    fault_server.script("/stream", stalled, Answer(200, {"items": []}))
    async with client_for(fault_server.url, timeout=0.3) as client:
        assert await client.request_json("GET", "/stream") == {"items": []}
    assert fault_server.count("/stream") == 2


async def test_a_slow_but_steady_body_is_read_whole(fault_server: FaultServer) -> None:
    # Each read waits far less than the timeout, though the whole body takes longer.
    items = list(range(30))
    fault_server.script("/stream", Answer(200, {"items": items}, chunk_delay=0.02))
    async with client_for(fault_server.url, timeout=0.3) as client:
        assert await client.request_json("GET", "/stream") == {"items": items}
    assert fault_server.count("/stream") == 1


async def test_a_refused_connection_is_retried_even_for_a_post(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="plugbay_http")
    async with client_for(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("POST", "/things", json={})
    retries = [
        record for record in caplog.records if "retrying after ConnectError" in record.getMessage()
    ]
    assert len(retries) == FAST.attempts - 1
    assert "Could not connect to Example at 127.0.0.1 (4 attempts)" in str(raised.value)
    assert not raised.value.maybe_applied
    assert "may have been carried out" not in str(raised.value)
