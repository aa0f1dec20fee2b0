"""Writes whose outcome is unknown: sent once, and reported as possibly carried out.

A request that is not idempotent (a POST create) may have been carried out when it
fails with anything but a refusal: a 5xx, a reset or timeout after it went out, a
redirect, an answer that cannot be read. It is never retried, and the error says
that it may have happened and how to check, instead of "try again later".
"""

from __future__ import annotations

import gzip

import httpx
import pytest

from plugbay_http import (
    BackendUnavailable,
    HttpStatusError,
    RestClient,
    RetryPolicy,
    UnreadableAnswer,
)

from .conftest import FAST, Answer, FaultServer, ResetServer

CHECK = "The thing may exist: search for it by name before creating it again."
SECRET = "sk-live-0123456789abcdef"


def client_for(url: str, **options: object) -> RestClient:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 2.0)
    options.setdefault("headers", {"Authorization": f"Bearer {SECRET}"})
    return RestClient(url, service="Example", **options)  # type: ignore[arg-type]


def assert_unknown_outcome(message: str) -> None:
    assert "Its outcome is unknown: the POST request may have been carried out" in message
    assert "so it was not retried" in message
    assert CHECK in message
    assert "try again later" not in message.lower()
    assert "Traceback" not in message
    assert SECRET not in message


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 507, 520])
async def test_a_5xx_to_a_post_is_sent_once_and_may_have_been_carried_out(
    fault_server: FaultServer, status: int
) -> None:
    fault_server.script("/things", Answer(status, {"message": "upstream hiccup"}), Answer(201))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request_json("POST", "/things", json={"name": "x"}, check=CHECK)
    assert fault_server.count("/things") == 1
    assert raised.value.maybe_applied
    assert raised.value.status == status
    message = str(raised.value)
    assert message.startswith(f"Example failed to handle the request (HTTP {status})")
    assert_unknown_outcome(message)


async def test_a_503_with_retry_after_to_a_post_is_not_retried(fault_server: FaultServer) -> None:
    fault_server.script("/things", Answer(503, headers={"Retry-After": "0"}), Answer(201))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("POST", "/things", json={}, check=CHECK)
    assert fault_server.count("/things") == 1
    assert_unknown_outcome(str(raised.value))


async def test_a_refusal_to_a_post_is_not_an_unknown_outcome(fault_server: FaultServer) -> None:
    fault_server.script("/things", Answer(422, {"message": "name is required"}))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("POST", "/things", json={}, check=CHECK)
    assert fault_server.count("/things") == 1
    assert not raised.value.maybe_applied
    assert "may have been carried out" not in str(raised.value)


async def test_a_5xx_to_a_get_still_says_try_again_later(fault_server: FaultServer) -> None:
    fault_server.script("/things", Answer(502))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("GET", "/things")
    assert fault_server.count("/things") == FAST.attempts
    assert not raised.value.maybe_applied
    assert "try again later" in str(raised.value)


async def test_a_reset_after_a_post_was_sent_names_the_check(reset_server: ResetServer) -> None:
    async with client_for(reset_server.url) as client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("POST", "/things", json={"name": "x"}, check=CHECK)
    assert reset_server.connections == 1
    assert raised.value.maybe_applied
    assert_unknown_outcome(str(raised.value))


async def test_a_read_timeout_after_a_post_names_the_check(fault_server: FaultServer) -> None:
    fault_server.script("/slow", Answer(201, {"id": 1}, delay=1.0))
    async with client_for(fault_server.url, timeout=0.3) as client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("POST", "/slow", json={}, check=CHECK)
    assert fault_server.count("/slow") == 1
    assert "did not answer in time" in str(raised.value)
    assert_unknown_outcome(str(raised.value))


def _mock(answer: httpx.Response) -> tuple[RestClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    client = client_for("https://api.example.com", transport=httpx.MockTransport(handle))
    return client, seen


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (httpx.Response(200, text="<html>maintenance</html>"), "is not JSON"),
        (httpx.Response(201, text='{"id": 12'), "is not JSON"),
        (httpx.Response(201, json=["not", "a", "record"]), "is not a JSON object"),
        (httpx.Response(204), "is not JSON"),
    ],
)
async def test_an_unreadable_success_to_a_post_was_most_likely_carried_out(
    answer: httpx.Response, problem: str
) -> None:
    client, seen = _mock(answer)
    async with client:
        with pytest.raises(UnreadableAnswer) as raised:
            await client.request_json("POST", "/things", json={}, expect=dict, check=CHECK)
    assert len(seen) == 1
    assert raised.value.maybe_applied
    message = str(raised.value)
    assert f"Example answered POST /things with HTTP {answer.status_code}" in message
    assert f"but the answer {problem}." in message
    assert_unknown_outcome(message)


async def test_a_redirect_after_a_post_may_mean_it_was_carried_out() -> None:
    # "303 See Other" is how some APIs answer a create; the redirect is not followed.
    client, seen = _mock(httpx.Response(303, headers={"Location": "/things/12"}))
    async with client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request_json("POST", "/things", json={}, check=CHECK)
    assert len(seen) == 1
    assert raised.value.maybe_applied
    assert_unknown_outcome(str(raised.value))


async def test_an_answer_that_cannot_be_decoded_is_an_unknown_outcome() -> None:
    # Claims gzip, is not: httpx raises DecodingError, which is not a TransportError.
    broken = httpx.Response(
        201, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
    )
    client, seen = _mock(broken)
    async with client:
        with pytest.raises(BackendUnavailable) as raised:
            await client.request("POST", "/things", json={}, check=CHECK)
    assert len(seen) == 1
    assert raised.value.maybe_applied
    assert str(raised.value).startswith("The answer of Example at api.example.com could not")
    assert_unknown_outcome(str(raised.value))


async def test_a_decodable_gzip_answer_is_read() -> None:
    packed = httpx.Response(
        201, headers={"Content-Encoding": "gzip"}, content=gzip.compress(b'{"id": 3}')
    )
    client, _seen = _mock(packed)
    async with client:
        assert await client.request_json("POST", "/things", json={}, expect=dict) == {"id": 3}


async def test_a_retried_delete_that_finds_nothing_says_it_was_probably_deleted(
    fault_server: FaultServer,
) -> None:
    fault_server.script("/things/9", Answer(502), Answer(404, {"message": "not found"}))
    async with client_for(fault_server.url) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("DELETE", "/things/9", subject="thing with id 9")
    assert fault_server.count("/things/9") == 2
    assert str(raised.value) == (
        "Example has no thing with id 9 (HTTP 404 after 2 attempts): an earlier attempt "
        "whose answer was lost may have deleted it; if none got through, check the id."
    )


@pytest.mark.parametrize(
    ("status", "documented", "acted"),
    [
        (200, False, True),
        (303, False, True),
        (400, False, False),
        (409, False, False),
        (422, False, False),
        (429, False, True),
        (429, True, False),
        (500, False, True),
        (503, True, True),
        (599, False, True),
    ],
)
def test_which_answers_leave_a_write_s_outcome_unknown(
    status: int, documented: bool, acted: bool
) -> None:
    policy = RetryPolicy(unprocessed_on_429=documented)
    assert policy.may_have_acted(status) is acted
