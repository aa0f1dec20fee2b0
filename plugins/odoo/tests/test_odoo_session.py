"""One session per instance: authenticate once, pooled connections, cached schemas, safe retries."""

from __future__ import annotations

import anyio
import pytest
from pydantic import SecretStr

from plugbay_odoo.channel import RestChannel
from plugbay_odoo.fake import ADMIN_API_KEY, OdooFake
from plugbay_odoo.transport import TRANSPORTS, Credentials

from .conftest import ServeOdoo


async def test_the_instance_authenticates_once_and_reuses_its_connections(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo() as odoo:
        opened = set(odoo_fake.connections)
        for _ in range(20):
            await odoo.ok("search_read", model="res.partner", fields=["name"], limit=5)
            await odoo.ok("count", model="sale.order")
    assert odoo_fake.count("authenticate") == 1
    assert odoo_fake.count(model_method="search_read", model="res.partner") == 20
    # Every call after the start went over a connection that was already open.
    assert odoo_fake.connections == opened


@pytest.mark.parametrize("name", sorted(TRANSPORTS))
async def test_concurrent_first_calls_share_one_login(odoo_fake: OdooFake, name: str) -> None:
    channel = RestChannel(odoo_fake.url, timeout=10)
    transport = TRANSPORTS[name](
        channel, Credentials(odoo_fake.database, "admin", SecretStr(ADMIN_API_KEY))
    )
    await transport.start()
    results: list[int] = []

    async def count() -> None:
        results.append(
            await transport.execute_kw(
                "res.partner", "search_count", [], {"domain": []}, idempotent=True
            )
        )

    try:
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(count)
    finally:
        await transport.aclose()
    assert results == [11] * 10
    assert odoo_fake.count("authenticate") == 1
    assert transport.uid == 2


async def test_the_pool_opens_at_most_max_connections(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo(max_connections=2) as odoo:
        odoo_fake.latency = 0.05

        async def count() -> None:
            await odoo.ok("count", model="res.partner")

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(count)
        odoo_fake.latency = 0.0
    assert odoo_fake.count(model_method="search_count", model="res.partner") == 8
    # Eight concurrent calls waited for the two connections instead of opening more.
    assert len(odoo_fake.connections) == 2


async def test_model_fields_are_cached_for_the_ttl(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo() as odoo:
        for _ in range(3):
            await odoo.ok("describe_model", model="crm.lead")
            await odoo.ok("search_read", model="crm.lead", domain=[["priority", "=", "2"]])
    # Fetched once, when the instance started (crm.lead is in the models setting).
    assert odoo_fake.count(model="crm.lead", model_method="fields_get") == 1

    async with serve_odoo(cache_ttl=0) as odoo:
        before = odoo_fake.count(model="crm.lead", model_method="fields_get")
        for _ in range(3):
            await odoo.ok("describe_model", model="crm.lead")
    assert odoo_fake.count(model="crm.lead", model_method="fields_get") - before == 3


async def test_reads_are_retried_after_a_gateway_error(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo() as odoo:
        before = odoo_fake.requests
        odoo_fake.inject(502, times=2)
        page = await odoo.ok("count", model="res.partner")
        after = odoo_fake.requests
    assert page["count"] == 11
    assert after - before == 3


async def test_writes_are_not_sent_twice(serve_odoo: ServeOdoo, odoo_fake: OdooFake) -> None:
    async with serve_odoo() as odoo:
        before = odoo_fake.requests
        odoo_fake.inject(502)
        message = await odoo.error("create", model="crm.tag", values={"name": "Once"})
        after = odoo_fake.requests
    assert f"Odoo at {odoo_fake.url} answered HTTP 502 to POST" in message
    assert "Its outcome is unknown: the POST request may have been carried out" in message
    assert "try again later" not in message
    assert after - before == 1
    assert [tag for tag in odoo_fake.records("crm.tag") if tag["name"] == "Once"] == []


async def test_slow_answers_time_out_with_a_warning_for_writes(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo(timeout=0.2, max_attempts=1) as odoo:
        odoo_fake.latency = 0.6
        read = await odoo.error("count", model="res.partner")
        write = await odoo.error("create", model="crm.tag", values={"name": "Slow"})
        odoo_fake.latency = 0.0
    assert read == (
        f"Odoo at {odoo_fake.url} did not answer in time (ReadTimeout). Try again; if it keeps "
        "happening, raise the timeout setting."
    )
    assert "Its outcome is unknown: the POST request may have been carried out" in write


async def test_listed_models_odoo_lacks_are_logged_at_start(
    serve_odoo: ServeOdoo, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="plugbay_odoo"):
        async with serve_odoo(models={"res.partner": ["read"], "mrp.production": ["read"]}) as odoo:
            message = await odoo.error("count", model="mrp.production")
    assert "Odoo has no model 'mrp.production'" in message
    assert any(
        "model mrp.production of the models setting" in record.getMessage()
        for record in caplog.records
    )
