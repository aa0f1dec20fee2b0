"""The ``[policy] ip_allow`` client-address allow-list in front of the real host's HTTP app:
refused before authentication, with the status and body plugbay has always sent."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import httpx2
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from plugbay import Context, Principal
from plugbay_guard import ClientAllowList

BASE = "http://127.0.0.1:8000"
JSON_RPC = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
KEY = "key-ci"
REFUSED = {"error": "forbidden", "error_description": "This address may not use this server"}


async def whoami(ctx: Context) -> dict[str, Any]:
    """Who is calling."""
    return {"name": ctx.principal.name}


async def report(request: Request) -> PlainTextResponse:
    return PlainTextResponse("report")


def toml(networks: list[str]) -> str:
    return f"[policy]\nip_allow = {networks!r}\n".replace("'", '"')


async def post(app: Any, client: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app, client=(client, 5000))
    async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
        return await http.post("/mcp", json=LIST_TOOLS, headers={**JSON_RPC, **(headers or {})})


@pytest.mark.parametrize(
    ("networks", "status"), [(["127.0.0.0/8"], 200), (["10.0.0.0/8", "192.0.2.7"], 403)]
)
async def test_the_ip_allow_list_is_checked_before_anything_else(
    build, extras, served, networks: list[str], status: int
) -> None:
    async with served(build(extras(tools=[whoami]), config=toml(networks))) as app:
        transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
            response = await http.post("/mcp", json=LIST_TOOLS, headers=JSON_RPC)
            assert response.status_code == status
            if status == 403:
                assert response.json() == REFUSED
            assert (await http.get("/healthz")).status_code == 200


async def test_an_address_from_elsewhere_learns_nothing_about_authentication(
    build, extras, key_auth, served
) -> None:
    keys = key_auth({KEY: Principal(name="ci")})
    assembly = build(extras(tools=[whoami], auth=[keys]), config=toml(["10.0.0.0/8"]))
    async with served(assembly) as app:
        inside_without_key = await post(app, "10.0.0.5")
        assert inside_without_key.status_code == 401
        assert "www-authenticate" in inside_without_key.headers
        assert (await post(app, "10.0.0.5", {"x-api-key": KEY})).status_code == 200
        for headers in ({}, {"x-api-key": KEY}, {"x-api-key": "wrong"}):
            outside = await post(app, "192.0.2.1", headers)
            assert outside.status_code == 403
            assert outside.json() == REFUSED
            assert "www-authenticate" not in outside.headers


async def test_a_plugins_private_route_is_behind_the_allow_list_and_a_public_one_is_not(
    build, extras, served
) -> None:
    routes = [
        (report, {"path": "/report"}),
        (report, {"path": "/public-report", "public": True}),
    ]
    async with served(build(extras(routes=routes), config=toml(["10.0.0.0/8"]))) as app:
        for client, private in (("10.1.1.1", 200), ("192.0.2.1", 403)):
            transport = httpx2.ASGITransport(app=app, client=(client, 5000))
            async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
                assert (await http.get("/report")).status_code == private
                assert (await http.get("/public-report")).text == "report"


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_checked(
    build, extras, served
) -> None:
    config = '[server]\ntrusted_proxies = ["127.0.0.1"]\n' + toml(["10.0.0.0/8"])
    forwarded = {"x-forwarded-for": "10.1.2.3"}
    async with served(build(extras(tools=[whoami]), config=config)) as app:
        assert (await post(app, "127.0.0.1", forwarded)).status_code == 200
        assert (await post(app, "127.0.0.1")).status_code == 403  # the proxy itself
        # From anyone but the proxy the header is ignored: no claiming an allowed address.
        assert (await post(app, "192.0.2.9", forwarded)).status_code == 403


async def test_without_ip_allow_every_address_is_let_through(build, extras, served) -> None:
    config = '[policy]\ndefault = "allow"\n'
    async with served(build(extras(tools=[whoami]), config=config)) as app:
        assert (await post(app, "203.0.113.9")).status_code == 200


def test_client_addresses_match_networks_and_mapped_addresses() -> None:
    allow = ClientAllowList([ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")])
    assert allow.allows("10.1.2.3")
    assert allow.allows("::ffff:10.1.2.3")
    assert allow.allows("2001:db8::1")
    assert not allow.allows("192.0.2.1")
    assert not allow.allows("testclient")
    assert not allow.allows(None)
    for _ in range(2):  # the second time from memory
        assert allow.allows("10.9.9.9")
        assert not allow.allows("11.0.0.1")
