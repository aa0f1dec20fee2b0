"""Writes whose outcome is unknown: Odoo carried out the create, the connector never heard so.

A :class:`FaultProxy` in front of the fake Odoo lets the ``create`` call through (the
record is made) and then answers a 5xx, resets or closes the connection, never
answers, or answers half a body, over XML-RPC and JSON-RPC. The tool's error must say
the record may exist and how to find it; Odoo must have received the create exactly
once; no traceback or API key may reach the result or the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from plugbay_odoo.fake import OdooFake
from plugbay_testing.fakes import Fault, FaultProxy

from .conftest import ServeOdoo

FAULTS: list[Fault] = [500, 502, 503, 504, "reset", "close", "hang", "garbage", "truncated"]
_MARKERS = {"xmlrpc": b"<string>create</string>", "jsonrpc": b'"create"'}
"""How a create call shows in each protocol's request body (its method name)."""


@pytest.fixture
def proxy(odoo_fake: OdooFake) -> Iterator[FaultProxy]:
    """A fault proxy in front of the fake Odoo."""
    with FaultProxy(odoo_fake.url) as running:
        yield running


def _tags(fake: OdooFake, name: str) -> int:
    return sum(1 for tag in fake.records("crm.tag") if tag["name"] == name)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
async def test_a_create_carried_out_then_lost_says_it_may_exist_and_is_sent_once(
    serve_odoo: ServeOdoo,
    odoo_fake: OdooFake,
    proxy: FaultProxy,
    transport: str,
    caplog: pytest.LogCaptureFixture,
    fault: Fault,
) -> None:
    timeout = 1.0 if fault == "hang" else 10.0
    api_key = odoo_fake.settings()["api_key"]
    caplog.set_level(logging.DEBUG)
    async with serve_odoo(url=proxy.url, timeout=timeout) as odoo:
        before = odoo_fake.count(model="crm.tag", model_method="create")
        proxy.spoil(fault, method="POST", body_contains=_MARKERS[transport])
        message = await odoo.error("create", model="crm.tag", values={"name": "Once"})
        created = odoo_fake.count(model="crm.tag", model_method="create") - before
    assert "Its outcome is unknown: the POST request may have been carried out by Odoo" in message
    assert (
        "The crm.tag record may exist: erp_search_read crm.tag for it (by name or another field "
        "that identifies it) before creating it again."
    ) in message
    assert "try again later" not in message.lower()
    assert "Traceback" not in message
    assert api_key not in message
    # One create reached Odoo, through the proxy, and made one record.
    assert created == 1
    assert sum(1 for request in proxy.requests if request.fault is not None) == 1
    assert _tags(odoo_fake, "Once") == 1
    # The connector's own log: the fake's server thread logs its clients' disconnects.
    ours = [record for record in caplog.records if record.name.startswith("plugbay")]
    assert not [record for record in ours if record.exc_info]
    assert api_key not in caplog.text


async def test_a_business_method_whose_answer_was_lost_is_not_called_again(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake, proxy: FaultProxy, transport: str
) -> None:
    marker = b"<string>action_confirm</string>" if transport == "xmlrpc" else b'"action_confirm"'
    async with serve_odoo(url=proxy.url, allow_methods=["sale.order.action_confirm"]) as odoo:
        before = odoo_fake.count(model="sale.order", model_method="action_confirm")
        proxy.spoil(502, method="POST", body_contains=marker)
        message = await odoo.error(
            "call_method", model="sale.order", method="action_confirm", ids=[3]
        )
        calls = odoo_fake.count(model="sale.order", model_method="action_confirm") - before
    assert calls == 1
    assert "may have been carried out by Odoo" in message
    assert "Read the records sale.order.action_confirm works on (erp_search_read)" in message


async def test_a_read_whose_answer_was_lost_is_retried(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake, proxy: FaultProxy, transport: str
) -> None:
    marker = b"<string>search_count</string>" if transport == "xmlrpc" else b'"search_count"'
    async with serve_odoo(url=proxy.url) as odoo:
        proxy.spoil("reset", method="POST", body_contains=marker)
        page = await odoo.ok("count", model="res.partner")
    assert page["count"] == 11
    assert sum(1 for request in proxy.requests if request.fault is not None) == 1


async def test_an_unlink_whose_answer_was_lost_is_retried_and_says_what_that_means(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake, proxy: FaultProxy, transport: str
) -> None:
    # Deleting twice deletes nothing more, so unlink is retried; the retry then finds
    # the records gone, and the error says the first attempt may have deleted them.
    marker = b"<string>unlink</string>" if transport == "xmlrpc" else b'"unlink"'
    tag = odoo_fake.records("crm.tag")[0]
    async with serve_odoo(url=proxy.url) as odoo:
        before = odoo_fake.count(model="crm.tag", model_method="unlink")
        proxy.spoil("reset", method="POST", body_contains=marker)
        message = await odoo.error("unlink", model="crm.tag", ids=[tag["id"]])
        calls = odoo_fake.count(model="crm.tag", model_method="unlink") - before
    assert odoo_fake.record("crm.tag", tag["id"]) is None
    assert calls == 2
    assert "Odoo could not find the records of crm.tag.unlink" in message
    assert "by an earlier attempt of this call whose answer was lost" in message
