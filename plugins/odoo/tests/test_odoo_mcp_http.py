"""A real MCP client over streamable HTTP to plugbay, and plugbay over HTTP to the fake Odoo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp import Client

import plugbay_odoo
from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.transports import http_app
from plugbay_odoo.fake import OdooFake
from plugbay_testing import result_text
from plugbay_testing.fakes import LocalServer


@pytest.fixture
def plugbay_url(odoo_fake: OdooFake) -> Iterator[str]:
    """plugbay serving one Odoo instance over HTTP on 127.0.0.1, started by its lifespan."""
    table = {
        "plugin": "odoo",
        **odoo_fake.settings(transport="jsonrpc", allow_methods=["sale.order.action_confirm"]),
        "models": {"res.partner": ["read"], "sale.order": ["read", "write"]},
    }
    config = parse_config({"connectors": {"erp": table}}, environ={})
    registry = load_plugins({}, extra={"odoo": plugbay_odoo}, entry_points=False)
    assembly = assemble(registry, config)
    assert not assembly.problems, assembly.problems
    with LocalServer(http_app(assembly), lifespan="on") as server:
        yield f"{server.url}/mcp"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_client_over_http_uses_odoo_tools_and_resources(
    plugbay_url: str, odoo_fake: OdooFake, mode: str
) -> None:
    async with Client(plugbay_url, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        found = await client.call_tool(
            "erp_search_read",
            {"model": "sale.order", "domain": [["state", "=", "draft"]], "fields": ["name"]},
        )
        confirmed = await client.call_tool(
            "erp_call_method", {"model": "sale.order", "method": "action_confirm", "ids": [1]}
        )
        refused = await client.call_tool("erp_unlink", {"model": "res.partner", "ids": [12]})
        record = await client.read_resource("odoo://erp/res.partner/10")
    assert len(tools) == 12
    unlink = tools["erp_unlink"].annotations
    assert unlink is not None
    assert unlink.destructive_hint is True
    search = tools["erp_search_read"].annotations
    assert search is not None
    assert (search.read_only_hint, search.open_world_hint) == (True, False)
    assert found.structured_content is not None
    assert found.structured_content["records"] == [{"id": 1, "name": "S00001"}]
    assert confirmed.structured_content is not None
    assert confirmed.structured_content["result"] is True
    assert refused.is_error
    assert "may not delete res.partner records" in result_text(refused)
    assert '"name":"Azure Interior"' in record.contents[0].text  # type: ignore[union-attr]
    assert odoo_fake.count("authenticate") == 1
    assert odoo_fake.count(model_method="action_confirm") == 1
    assert {call.protocol for call in odoo_fake.calls} == {"jsonrpc"}
