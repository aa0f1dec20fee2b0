"""Raw request bodies (XML-RPC and the like): sent as they are, retried only when idempotent."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import httpx
import pytest

from plugbay_http import HttpStatusError, RestClient

from .conftest import FAST, Answer, FaultServer

XML = "text/xml; charset=utf-8"
SECRET = "odoo_key_0123456789abcdef"


def rpc_body(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, method, allow_none=True).encode("utf-8")


async def test_raw_content_is_sent_byte_for_byte_with_its_content_type(
    fault_server: FaultServer,
) -> None:
    body = rpc_body("version")
    async with RestClient(fault_server.url, service="Odoo", retry=FAST) as client:
        response = await client.request(
            "POST", "/xmlrpc/2/common", content=body, headers={"Content-Type": XML}
        )
    assert response.json() == {"path": "/xmlrpc/2/common"}
    assert fault_server.bodies["/xmlrpc/2/common"] == [body]
    assert fault_server.headers[0]["content-type"] == XML
    assert fault_server.headers[0]["content-length"] == str(len(body))


async def test_an_idempotent_raw_post_is_retried_after_a_503_with_the_same_body(
    fault_server: FaultServer,
) -> None:
    body = rpc_body("execute_kw", "db", 2, "key", "res.partner", "search_read", [], {})
    fault_server.script("/xmlrpc/2/object", Answer(503), Answer(200, {"ok": True}))
    async with RestClient(fault_server.url, service="Odoo", retry=FAST) as client:
        response = await client.request(
            "POST",
            "/xmlrpc/2/object",
            content=body,
            headers={"Content-Type": XML},
            idempotent=True,
        )
    assert response.json() == {"ok": True}
    assert fault_server.bodies["/xmlrpc/2/object"] == [body, body]


async def test_a_raw_post_not_flagged_idempotent_is_not_retried_after_a_503(
    fault_server: FaultServer,
) -> None:
    body = rpc_body("execute_kw", "db", 2, "key", "crm.tag", "create", [{"name": "Once"}], {})
    fault_server.script("/xmlrpc/2/object", Answer(503), Answer(200, {"ok": True}))
    async with RestClient(fault_server.url, service="Odoo", retry=FAST) as client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request(
                "POST",
                "/xmlrpc/2/object",
                content=body,
                headers={"Content-Type": XML},
                idempotent=False,
            )
    assert raised.value.status == 503
    assert "Odoo failed to handle the request (HTTP 503)" in str(raised.value)
    assert "attempts" not in str(raised.value)
    assert fault_server.bodies["/xmlrpc/2/object"] == [body]


async def test_request_json_decodes_the_answer_to_raw_content(fault_server: FaultServer) -> None:
    fault_server.script("/jsonrpc", Answer(200, {"jsonrpc": "2.0", "id": 1, "result": 2}))
    async with RestClient(fault_server.url, service="Odoo", retry=FAST) as client:
        reply = await client.request_json(
            "POST",
            "/jsonrpc",
            content=b'{"jsonrpc":"2.0","method":"call","id":1}',
            headers={"Content-Type": "application/json"},
            idempotent=True,
        )
    assert reply == {"jsonrpc": "2.0", "id": 1, "result": 2}


async def test_json_and_content_together_are_refused_before_anything_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = RestClient(
        "https://api.example.com", service="Example", transport=httpx.MockTransport(handler)
    )
    async with client:
        with pytest.raises(ValueError, match="not both"):
            await client.request("POST", "/x", json={"a": 1}, content=b"{}")
    assert seen == []


async def test_secrets_sent_in_a_body_are_redacted_when_the_backend_echoes_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A proxy's error page quoting the request it refused.
        return httpx.Response(400, text=f"bad request: {request.content.decode()}")

    client = RestClient(
        "https://odoo.example.com",
        service="Odoo",
        secrets=[SECRET],
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )
    async with client:
        with pytest.raises(HttpStatusError) as raised:
            await client.request(
                "POST", "/jsonrpc", content=f'{{"key": "{SECRET}"}}'.encode(), idempotent=True
            )
    assert raised.value.status == 400
    assert SECRET not in str(raised.value)
    assert '{"key": "[REDACTED]"}' in str(raised.value)
    assert client.redactor.redact(SECRET) == "[REDACTED]"
