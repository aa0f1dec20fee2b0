"""Rate limits, retries and failures: Copper's limit is kept, 429s recover, writes are sent once."""

from __future__ import annotations

import anyio
import pytest

from plugbay_copper.fake import CopperFake
from plugbay_testing import result_text
from plugbay_testing.fakes import free_port

from .conftest import ServeCopper


async def test_a_429_recovers_for_a_read(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    copper_fake.inject(429, times=2, path="/people/search", retry_after=0)
    async with serve_copper() as h:
        page = await h.call_ok("search_people", name="ada")
    assert page["items"][0]["name"] == "Ada Lovelace"
    assert copper_fake.count("POST", "/people/search") == 3


async def test_a_429_recovers_for_a_write_and_creates_one_record(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    # Copper turns a rate-limited request away before acting on it: retrying is safe.
    copper_fake.inject(429, times=1, method="POST", path="/people", retry_after=0)
    async with serve_copper() as h:
        await h.call_ok("create_person", person={"name": "Once Only"})
    assert copper_fake.count("POST", "/people") == 2
    assert [p["name"] for p in copper_fake.records("people")].count("Once Only") == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_failed_create_is_never_sent_twice(
    serve_copper: ServeCopper, copper_fake: CopperFake, status: int
) -> None:
    copper_fake.inject(status, times=1, method="POST", path="/people")
    async with serve_copper() as h:
        result = await h.call("create_person", person={"name": "Maybe Duplicate"})
    assert result.is_error
    assert f"Copper failed to handle the request (HTTP {status})" in result_text(result)
    assert "The person may exist: copper_search_people for it" in result_text(result)
    assert "try again later" not in result_text(result)
    assert copper_fake.count("POST", "/people") == 1


async def test_a_failed_conversion_and_activity_are_never_sent_twice(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    lead = copper_fake.records("leads")[0]
    person = copper_fake.records("people")[0]
    copper_fake.inject(500, times=1, path=f"/leads/{lead['id']}/convert")
    copper_fake.inject(503, times=1, path="/activities")
    async with serve_copper() as h:
        converted = await h.call("convert_lead", lead_id=lead["id"])
        logged = await h.call(
            "log_activity", parent_type="person", parent_id=person["id"], details="once"
        )
    assert "The lead may have been converted" in result_text(converted)
    assert "The activity may have been logged" in result_text(logged)
    assert copper_fake.count("POST", f"/leads/{lead['id']}/convert") == 1
    assert copper_fake.count("POST", "/activities") == 1


async def test_reads_and_idempotent_writes_are_retried_after_5xx(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    person = copper_fake.records("people")[0]
    copper_fake.inject(503, times=1, method="GET")
    copper_fake.inject(500, times=1, method="PUT")
    async with serve_copper() as h:
        await h.call_ok("get_person", person_id=person["id"])
        await h.call_ok("update_person", person_id=person["id"], changes={"title": "Countess"})
    assert copper_fake.count("GET", f"/people/{person['id']}") == 2
    assert copper_fake.count("PUT", f"/people/{person['id']}") == 2


async def test_the_limiter_keeps_under_copper_s_rolling_window(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    # The fake enforces 5 requests per rolling second; the connector is told the same.
    copper_fake.set_rate_limit(5, 1.0)
    person = copper_fake.records("people")[0]
    async with serve_copper(rate_limit_requests=5, rate_limit_window_seconds=1) as h:

        async def fetch() -> None:
            await h.call_ok("get_person", person_id=person["id"])

        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(fetch)
    statuses = [request.status for request in copper_fake.requests]
    assert len(statuses) == 12
    assert 429 not in statuses


async def test_an_exhausted_rate_limit_says_so(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    copper_fake.inject(429, times=10, retry_after=1000)
    async with serve_copper() as h:
        result = await h.call("list_pipelines")
    assert result.is_error
    assert result_text(result) == (
        "Copper is rate limiting requests (HTTP 429): retry after 1000 s."
    )
    assert copper_fake.count() == 1


async def test_bad_credentials_name_the_settings_to_fix(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    async with serve_copper(api_key="wrong-key-123456") as h:
        result = await h.call("get_account")
    assert result.is_error
    message = result_text(result)
    assert message.startswith("Copper rejected the credentials (HTTP 401): Invalid credentials.")
    assert "PLUGBAY_COPPER__API_KEY" in message
    assert "PLUGBAY_COPPER__USER_EMAIL" in message
    assert "wrong-key-123456" not in message
    assert copper_fake.count() == 1


async def test_an_unreachable_copper_is_reported(serve_copper: ServeCopper) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/developer_api/v1"
    async with serve_copper(base_url=base_url, max_attempts=1) as h:
        result = await h.call("get_account")
    assert result.is_error
    assert result_text(result).startswith("Could not connect to Copper at 127.0.0.1")
