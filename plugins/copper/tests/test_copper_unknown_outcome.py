"""Writes whose outcome is unknown: Copper carried them out, the connector never heard so.

A :class:`FaultProxy` in front of the fake Copper lets each write through (the record
is made) and then answers a 5xx, resets or closes the connection, never answers, or
answers half a body. Every such result must say the record may exist and how to find
it, the fake must have received the write exactly once (no retry, no duplicate), and
no traceback or secret may reach the result or the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from plugbay import ToolError
from plugbay_copper.base import CopperTools
from plugbay_copper.client import CopperClient
from plugbay_copper.fake import CopperFake
from plugbay_copper.models import Person
from plugbay_copper.settings import CopperSettings
from plugbay_testing import result_text
from plugbay_testing.fakes import Fault, FaultProxy

from .conftest import ServeCopper

API = "/developer_api/v1"
FAULTS: list[Fault] = [500, 502, 503, 504, "reset", "close", "hang", "garbage", "truncated"]


@dataclass(frozen=True)
class Write:
    """A write tool, its arguments, where it posts, and what its error must tell."""

    tool: str
    arguments: dict[str, Any]
    path: str
    check: str


def _writes(fake: CopperFake) -> list[Write]:
    person = fake.records("people")[0]
    lead = fake.records("leads")[0]
    return [
        Write(
            "create_person",
            {"person": {"name": "Maybe Twice", "emails": [{"email": "twice@example.com"}]}},
            "/people",
            "The person may exist: copper_search_people for it by email or name before creating it",
        ),
        Write(
            "create_company",
            {"company": {"name": "Twice Ltd"}},
            "/companies",
            "The company may exist: copper_search_companies for it by name before creating it "
            "again.",
        ),
        Write(
            "log_activity",
            {"parent_type": "person", "parent_id": person["id"], "details": "Called once"},
            "/activities",
            "The activity may have been logged: copper_search_activities on its parent record",
        ),
        Write(
            "convert_lead",
            {"lead_id": lead["id"]},
            f"/leads/{lead['id']}/convert",
            "The lead may have been converted: copper_get_lead (a converted lead is gone)",
        ),
    ]


WRITE_TOOLS = ["create_person", "create_company", "log_activity", "convert_lead"]


@pytest.fixture
def proxy(copper_fake: CopperFake) -> Iterator[FaultProxy]:
    """A fault proxy in front of this test's fake Copper."""
    assert copper_fake.base_url is not None
    with FaultProxy(copper_fake.base_url) as running:
        yield running


def _made(fake: CopperFake, before: dict[str, int]) -> dict[str, int]:
    """How many records of each kind the write added."""
    return {
        kind: len(fake.records(kind)) - count
        for kind, count in before.items()
        if len(fake.records(kind)) != count
    }


def _counts(fake: CopperFake) -> dict[str, int]:
    return {kind: len(fake.records(kind)) for kind in ("people", "companies", "activities")}


@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_write_carried_out_then_lost_says_it_may_exist_and_is_sent_once(
    serve_copper: ServeCopper,
    copper_fake: CopperFake,
    proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
    tool: str,
    fault: Fault,
) -> None:
    write = next(item for item in _writes(copper_fake) if item.tool == tool)
    before = _counts(copper_fake)
    # A short timeout only where the proxy keeps silent: "hang" ends when it expires.
    timeout = 1.0 if fault == "hang" else 10.0
    caplog.set_level(logging.DEBUG)
    async with serve_copper(base_url=proxy.url + API, timeout=timeout) as h:
        proxy.spoil(fault, method="POST", path=API + write.path)
        result = await h.call(tool, **write.arguments)
    message = result_text(result)
    assert result.is_error, message
    assert "may have been carried out by Copper" in message
    assert write.check in message
    assert "try again later" not in message.lower()
    assert "failed unexpectedly" not in message
    assert "Traceback" not in message
    assert copper_fake.api_key not in message
    # Exactly one request reached Copper, and the write happened once.
    assert proxy.count("POST", API + write.path) == 1
    assert copper_fake.count("POST", write.path) == 1
    made = _made(copper_fake, before)
    if tool == "convert_lead":
        assert made.get("people") == 1
    else:
        assert made == {write.path.strip("/"): 1}
    # The connector's own log: the fake's server thread logs its clients' disconnects.
    ours = [record for record in caplog.records if record.name.startswith("plugbay")]
    assert not [record for record in ours if record.exc_info]
    assert copper_fake.api_key not in caplog.text


async def test_the_check_the_error_names_finds_the_record(
    serve_copper: ServeCopper, copper_fake: CopperFake, proxy: FaultProxy
) -> None:
    async with serve_copper(base_url=proxy.url + API) as h:
        proxy.spoil(502, method="POST", path=API + "/people")
        failed = await h.call("create_person", person={"name": "Maybe Twice"})
        found = await h.call_ok("search_people", name="Maybe Twice")
    assert failed.is_error
    assert found["total"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_with_retry_after_to_a_create_is_not_retried(
    serve_copper: ServeCopper, copper_fake: CopperFake, status: int
) -> None:
    # Copper documents a 429 as turning a call away, and says nothing of the kind for a
    # 5xx: even one that asks to come back later leaves the outcome unknown.
    copper_fake.inject(status, times=1, method="POST", path="/people", retry_after=0)
    async with serve_copper() as h:
        result = await h.call("create_person", person={"name": "Maybe Later"})
    message = result_text(result)
    assert result.is_error
    assert message.startswith(f"Copper failed to handle the request (HTTP {status})")
    assert "The person may exist" in message
    assert copper_fake.count("POST", "/people") == 1


async def test_a_created_record_of_an_unexpected_shape_is_not_called_a_failure(
    serve_copper: ServeCopper, copper_fake: CopperFake, proxy: FaultProxy
) -> None:
    # The fake's answer cut in half is not JSON; a JSON answer without an id is the
    # other unreadable case, covered by the kit's tests.
    async with serve_copper(base_url=proxy.url + API) as h:
        proxy.spoil("garbage", method="POST", path=API + "/tasks")
        result = await h.call("create_task", task={"name": "Only once"})
    message = result_text(result)
    assert result.is_error
    assert "Copper answered POST /developer_api/v1/tasks with HTTP 200, but the answer" in message
    assert "The task may exist: copper_search_tasks for it by name" in message
    assert [task["name"] for task in copper_fake.records("tasks")].count("Only once") == 1


async def test_an_update_whose_answer_was_lost_is_sent_again_to_the_same_end(
    serve_copper: ServeCopper, copper_fake: CopperFake, proxy: FaultProxy
) -> None:
    # A partial update sets the same values however often it is sent: retried.
    person = copper_fake.records("people")[0]
    path = f"/people/{person['id']}"
    async with serve_copper(base_url=proxy.url + API) as h:
        proxy.spoil("reset", method="PUT", path=API + path)
        updated = await h.call_ok(
            "update_person", person_id=person["id"], changes={"title": "Countess"}
        )
    assert updated["title"] == "Countess"
    assert copper_fake.count("PUT", path) == 2
    stored = copper_fake.record("people", person["id"])
    assert stored is not None
    assert stored["title"] == "Countess"


async def test_a_delete_whose_answer_was_lost_says_it_most_likely_happened(
    serve_copper: ServeCopper, copper_fake: CopperFake, proxy: FaultProxy
) -> None:
    # A delete is retried too; the retry finds nothing, and says why rather than
    # "check the id".
    person = copper_fake.records("people")[0]
    path = f"/people/{person['id']}"
    async with serve_copper(base_url=proxy.url + API) as h:
        proxy.spoil(502, method="DELETE", path=API + path)
        result = await h.call("delete_person", person_id=person["id"])
    assert result.is_error
    assert result_text(result) == (
        f"Copper has no person with id {person['id']} (HTTP 404 after 2 attempts): an "
        "earlier attempt whose answer was lost may have deleted it; if none got through, "
        "check the id."
    )
    assert copper_fake.count("DELETE", path) == 2
    assert copper_fake.record("people", person["id"]) is None


def _client_answering(answer: httpx.Response) -> CopperClient:
    settings = CopperSettings(api_key="copper-key-0123456789", user_email="me@example.com")
    return CopperClient(
        settings, instance="crm", transport=httpx.MockTransport(lambda request: answer)
    )


async def test_a_create_answered_without_an_id_may_exist() -> None:
    client = _client_answering(httpx.Response(200, json={"name": "No Id"}))
    await client.start()
    try:
        with pytest.raises(ToolError) as raised:
            await client.create("people", {"name": "No Id"})
    finally:
        await client.aclose()
    message = str(raised.value)
    assert message.startswith("Copper's answer to the create names no person id.")
    # The host names the tool by its catalog name when the error reaches the model.
    assert "The person may exist: {tool:search_people} for it by email or name" in message


def test_a_created_record_of_another_shape_is_reported_as_created() -> None:
    with pytest.raises(ToolError) as raised:
        CopperTools._created(
            Person,
            {"id": 1000099, "name": "Ada", "emails": "not a list"},
            "Copper created the person with id 1000099",
            "get_person shows it",
        )
    assert str(raised.value) == (
        "Copper created the person with id 1000099, but its answer does not have the "
        "expected shape: get_person shows it. Do not send it again."
    )


@pytest.mark.parametrize(
    "answer", [httpx.Response(200, text="<html>"), httpx.Response(200, json={})]
)
async def test_a_search_answered_with_something_else_is_a_clear_error(
    answer: httpx.Response,
) -> None:
    client = _client_answering(answer)
    await client.start()
    try:
        with pytest.raises(ToolError) as raised:
            await client.search("people", {"name": "Ada"})
    finally:
        await client.aclose()
    assert str(raised.value).startswith(
        "Copper answered POST /developer_api/v1/people/search with HTTP 200, but the answer is"
    )
    assert "Check the base_url setting" in str(raised.value)
