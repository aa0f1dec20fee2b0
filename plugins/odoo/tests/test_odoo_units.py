"""The checks, the cache and the channel, one unit at a time."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from plugbay_http import HttpStatusError
from plugbay_odoo.access import AccessPolicy
from plugbay_odoo.channel import RestChannel
from plugbay_odoo.errors import OdooUnavailable
from plugbay_odoo.schema import FieldInfo, TtlCache
from plugbay_odoo.transport import Credentials, XmlRpcTransport
from plugbay_odoo.validation import (
    ValidationProblem,
    check_domain,
    check_order,
    default_fields,
)

XML = "text/xml; charset=utf-8"
FIELDS = {
    "res.partner": {
        "name": FieldInfo("name", "char", "Name"),
        "parent_id": FieldInfo("parent_id", "many2one", "Parent", relation="res.partner"),
        "password": FieldInfo("password", "char", "Password", store=False),
        "image": FieldInfo("image", "binary", "Image"),
        "display_name": FieldInfo("display_name", "char", "Display Name", store=False),
        "total": FieldInfo("total", "float", "Total", store=False, sortable=False),
    }
}
POLICY = AccessPolicy({"res.partner": ["read"]}, [], "erp")


async def fields_of(model: str) -> Mapping[str, FieldInfo]:
    return FIELDS[model]


async def test_a_domain_that_is_not_a_list_is_explained() -> None:
    with pytest.raises(ValidationProblem) as caught:
        await check_domain("name = x", "res.partner", fields_of, POLICY)
    assert str(caught.value).startswith("The domain must be a list of [field, operator, value]")


async def test_domains_come_back_as_lists_ready_to_send() -> None:
    domain = ["|", ("name", "ilike", "a"), ["parent_id.name", "=", False], [1, "=", 1]]
    checked = await check_domain(domain, "res.partner", fields_of, POLICY)
    assert checked == ["|", ["name", "ilike", "a"], ["parent_id.name", "=", False], [1, "=", 1]]
    assert await check_domain(None, "res.partner", fields_of, POLICY) == []


def test_default_fields_leave_out_binary_sensitive_and_computed_ones() -> None:
    assert default_fields("res.partner", FIELDS["res.partner"], POLICY) == [
        "name",
        "parent_id",
        "display_name",
    ]


def test_orders_are_normalised() -> None:
    order = check_order("res.partner", " name  DESC ,parent_id", FIELDS["res.partner"], POLICY)
    assert order == "name DESC, parent_id"
    with pytest.raises(ValidationProblem):
        check_order("res.partner", " , ", FIELDS["res.partner"], POLICY)


def test_fields_get_entries_become_field_info() -> None:
    info = FieldInfo.from_odoo(
        "state",
        {"type": "selection", "string": "Status", "selection": [["draft", "Quotation"]]},
    )
    assert info.selection == (("draft", "Quotation"),)
    assert (info.store, info.sortable, info.relational) == (True, True, False)


async def test_the_cache_fetches_once_per_ttl() -> None:
    now = [100.0]
    calls: list[str] = []
    cache: TtlCache[str] = TtlCache(10, clock=lambda: now[0])

    async def fetch() -> str:
        calls.append("x")
        return f"value {len(calls)}"

    assert await cache.get("k", fetch) == "value 1"
    assert await cache.get("k", fetch) == "value 1"
    now[0] += 11
    assert cache.peek("k") is None
    assert await cache.get("k", fetch) == "value 2"
    assert len(calls) == 2


async def test_xmlrpc_calls_are_marshalled_with_nil_and_answers_unmarshalled() -> None:
    seen: list[Any] = []

    def answer(request: httpx.Request) -> httpx.Response:
        params, method = xmlrpc.client.loads(request.content)
        seen.append((request.url.path, method, params))
        body = xmlrpc.client.dumps(([{"id": 1, "date": "2024-05-02"}],), methodresponse=True)
        return httpx.Response(200, content=body.encode())

    channel = RestChannel("http://odoo.test", timeout=5, transport=httpx.MockTransport(answer))
    transport = XmlRpcTransport(channel, Credentials("db", "bot", SecretStr("key")))
    await transport.start()
    transport._uid = 7  # as if authenticated
    try:
        result = await transport.execute_kw(
            "res.partner", "search_read", [], {"domain": [], "limit": None}, idempotent=True
        )
    finally:
        await transport.aclose()
    assert result == [{"id": 1, "date": "2024-05-02"}]
    path, method, params = seen[0]
    assert (path, method) == ("/xmlrpc/2/object", "execute_kw")
    assert params == (
        "db",
        7,
        "key",
        "res.partner",
        "search_read",
        [],
        {"domain": [], "limit": None},
    )


async def test_an_answer_that_is_not_xmlrpc_is_explained() -> None:
    channel = RestChannel(
        "http://odoo.test",
        timeout=5,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, text="<html>hi")),
    )
    transport = XmlRpcTransport(channel, Credentials("db", "bot", SecretStr("key")))
    await transport.start()
    try:
        with pytest.raises(OdooUnavailable) as caught:
            await transport.version()
    finally:
        await transport.aclose()
    assert "is not XML-RPC" in str(caught.value)


async def test_a_429_is_retried_for_reads_and_honours_retry_after() -> None:
    statuses = [429, 200]

    def answer(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0)
        return httpx.Response(status, headers={"Retry-After": "0"}, content=b"ok")

    channel = RestChannel("http://odoo.test", timeout=5, transport=httpx.MockTransport(answer))
    await channel.start()
    try:
        body = await channel.post(
            "/jsonrpc", b"{}", content_type="application/json", idempotent=True
        )
    finally:
        await channel.aclose()
    assert body == b"ok"
    assert statuses == []


async def test_a_429_to_a_write_is_an_unknown_outcome() -> None:
    # Odoo documents no 429: one comes from a proxy, which may send it after Odoo acted.
    statuses = [429, 200]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0), headers={"Retry-After": "0"}, content=b"ok")

    channel = RestChannel("http://odoo.test", timeout=5, transport=httpx.MockTransport(answer))
    await channel.start()
    try:
        with pytest.raises(HttpStatusError) as caught:
            await channel.post("/jsonrpc", b"{}", content_type="application/json", idempotent=False)
    finally:
        await channel.aclose()
    assert statuses == [200]
    assert caught.value.maybe_applied
    assert "may have been carried out" in str(caught.value)


async def test_a_redirect_is_not_followed_and_names_where_it_goes() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(301, headers={"Location": "https://odoo.test/xmlrpc/2/common"})

    channel = RestChannel("http://odoo.test", timeout=5, transport=httpx.MockTransport(answer))
    await channel.start()
    try:
        with pytest.raises(HttpStatusError) as caught:
            await channel.post("/xmlrpc/2/common", b"<x/>", content_type=XML, idempotent=True)
    finally:
        await channel.aclose()
    assert str(caught.value) == (
        "Odoo at http://odoo.test answered HTTP 301 to POST /xmlrpc/2/common. It redirects to "
        "https://odoo.test/xmlrpc/2/common: set the url setting to that address."
    )
    assert len(seen) == 1
    assert seen[0].headers["Content-Type"] == XML
    assert seen[0].headers["Accept"] == "text/xml"
    assert seen[0].headers["User-Agent"] == "plugbay-odoo"


async def test_a_retry_after_too_long_to_wait_is_reported_with_the_wait() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": "60"}, text="Too Many Requests")

    channel = RestChannel("http://odoo.test", timeout=5, transport=httpx.MockTransport(answer))
    await channel.start()
    try:
        with pytest.raises(HttpStatusError) as caught:
            await channel.post("/jsonrpc", b"{}", content_type="application/json", idempotent=True)
    finally:
        await channel.aclose()
    assert len(calls) == 1
    assert caught.value.retry_after == 60
    assert "Odoo is limiting the rate of requests: wait 60 s and try again." in str(caught.value)
