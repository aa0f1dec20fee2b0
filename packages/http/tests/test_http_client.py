"""The client's life cycle, requests and idempotency rules, and the shared settings."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import ValidationError

from plugbay import Settings
from plugbay_http import (
    HttpClientSettings,
    RateLimit,
    RestClient,
    RetryPolicy,
    is_idempotent,
    parse_retry_after,
)


def recording_transport(seen: list[httpx.Request], status: int = 200) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content) if request.content else None
        return httpx.Response(status, json={"path": request.url.path, "body": body})

    return httpx.MockTransport(handler)


async def test_requests_go_below_the_base_url_with_the_default_headers() -> None:
    seen: list[httpx.Request] = []
    client = RestClient(
        "https://api.example.com/v1/",
        service="Example",
        headers={"X-Tenant": "t1"},
        transport=recording_transport(seen),
        rate_limit=RateLimit(100, per_seconds=1),
    )
    async with client:
        body = await client.request_json("POST", "/people", json={"name": "Ada"})
        await client.request("GET", "people/1", params={"fields": "name"}, headers={"X-Extra": "1"})
    assert body == {"path": "/v1/people", "body": {"name": "Ada"}}
    assert str(seen[1].url) == "https://api.example.com/v1/people/1?fields=name"
    assert seen[1].headers["X-Tenant"] == "t1"
    assert seen[1].headers["X-Extra"] == "1"
    assert seen[1].headers["User-Agent"] == "plugbay-http"


async def test_an_empty_body_decodes_to_none() -> None:
    client = RestClient(
        "https://api.example.com",
        service="Example",
        transport=httpx.MockTransport(lambda request: httpx.Response(204)),
    )
    async with client:
        assert await client.request_json("DELETE", "/people/1") is None


async def test_the_client_must_be_started_and_closes_twice_safely() -> None:
    client = RestClient("https://api.example.com", service="Example")
    with pytest.raises(RuntimeError, match="not started"):
        await client.request("GET", "/x")
    await client.start()
    await client.start()  # a second start keeps the same pool
    first = client.client
    await client.start()
    assert client.client is first
    await client.aclose()
    await client.aclose()


@pytest.mark.parametrize(
    ("method", "flag", "expected"),
    [
        ("GET", None, True),
        ("head", None, True),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("OPTIONS", None, True),
        ("POST", None, False),
        ("PATCH", None, False),
        ("POST", True, True),
        ("PUT", False, False),
    ],
)
def test_idempotency(method: str, flag: bool | None, expected: bool) -> None:
    assert is_idempotent(method, flag) is expected


def test_retry_after_takes_seconds_and_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_a_policy_makes_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


class ExampleSettings(HttpClientSettings):
    base_url: str = "https://api.example.com/v1/"


def test_settings_normalize_the_base_url_and_build_a_policy() -> None:
    settings = ExampleSettings(base_url=" https://api.example.com/v1/ ", max_attempts=2)
    assert isinstance(settings, Settings)
    assert settings.base_url == "https://api.example.com/v1"
    assert settings.retry_policy().attempts == 2
    assert settings.retry_policy(initial_backoff=0.1).initial_backoff == 0.1
    with pytest.raises(ValidationError, match="must start with https://"):
        ExampleSettings(base_url="api.example.com")
    with pytest.raises(ValidationError):
        ExampleSettings(timeout=0)
