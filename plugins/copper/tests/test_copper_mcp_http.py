"""A real MCP client over streamable HTTP to plugbay, and plugbay over HTTP to the fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp import Client

import plugbay_copper
from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.transports import http_app
from plugbay_copper.fake import CopperFake
from plugbay_testing import result_text
from plugbay_testing.fakes import LocalServer


@pytest.fixture
def plugbay_url(copper_fake: CopperFake) -> Iterator[str]:
    """plugbay serving one Copper instance over HTTP on 127.0.0.1, started by its lifespan."""
    config = parse_config(
        {"connectors": {"crm": {"plugin": "copper", **copper_fake.settings()}}}, environ={}
    )
    registry = load_plugins({}, extra={"copper": plugbay_copper}, entry_points=False)
    assembly = assemble(registry, config)
    assert not assembly.problems, assembly.problems
    with LocalServer(http_app(assembly), lifespan="on") as server:
        yield f"{server.url}/mcp"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_client_over_http_lists_and_calls_copper_tools(
    plugbay_url: str, copper_fake: CopperFake, mode: str
) -> None:
    async with Client(plugbay_url, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        found = await client.call_tool("crm_search_people", {"name": "grace"})
        created = await client.call_tool("crm_create_person", {"person": {"name": "Over The Wire"}})
        person_id = created.structured_content["id"] if created.structured_content else None
        read = await client.read_resource(f"copper://crm/people/{person_id}")
        missing = await client.call_tool("crm_get_person", {"person_id": 999})
    assert len(tools) == 36
    delete = tools["crm_delete_person"].annotations
    assert delete is not None
    assert delete.destructive_hint is True
    search = tools["crm_search_people"].annotations
    assert search is not None
    assert (search.read_only_hint, search.open_world_hint) == (True, True)
    assert not found.is_error
    assert found.structured_content is not None
    assert [p["name"] for p in found.structured_content["items"]] == ["Grace Hopper"]
    assert not created.is_error
    assert "Over The Wire" in read.contents[0].text  # type: ignore[union-attr]
    assert missing.is_error
    assert result_text(missing).startswith("Copper has no person with id 999 (HTTP 404)")
    assert copper_fake.count("POST", "/people") == 1
