"""``@modelcontextprotocol/server-filesystem`` (npm) beside plugbay's own filesystem connector."""

from __future__ import annotations

from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

import plugbay_filesystem
from plugbay.server import PlugbayServer
from plugbay_proxy import ProxyConnector
from plugbay_testing import PROTOCOL_MODES, build_assembly


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
async def test_vendor_and_native_filesystems_side_by_side(
    filesystem_server: str, tmp_path: Path, mode: str
) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    (root / "hello.txt").write_text("hello from disk\n")
    config = {
        "connectors": {
            "vendor": {
                "plugin": "proxy",
                "command": filesystem_server,
                "args": [str(root)],
                "deny": ["write_*", "edit_*", "move_*", "create_*"],
                "descriptions": {"read_text_file": "Read a text file (vendor server)."},
            },
            "native": {"plugin": "filesystem", "roots": [str(root)]},
        }
    }
    assembly = build_assembly(ProxyConnector, plugbay_filesystem, config=config)
    assert not assembly.problems, assembly.problems
    await assembly.start()
    try:
        async with Client(PlugbayServer(assembly).sdk, mode=mode) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert "vendor_read_text_file" in tools
            assert "native_read_text_file" in tools
            assert "vendor_write_file" not in tools
            assert "native_write_file" not in tools  # not listed without allow_writes
            assert tools["vendor_read_text_file"].description == "Read a text file (vendor server)."

            vendor = await client.call_tool(
                "vendor_read_text_file", {"path": str(root / "hello.txt")}
            )
            native = await client.call_tool("native_read_text_file", {"path": "hello.txt"})
            assert text_of(vendor) == text_of(native) == "hello from disk\n"

            outside = await client.call_tool("vendor_read_text_file", {"path": "/etc/hostname"})
            assert outside.is_error
            assert "denied" in text_of(outside).lower() or "outside" in text_of(outside).lower()

            listing = await client.call_tool("vendor_list_allowed_directories", {})
            assert str(root.resolve()) in text_of(listing)
    finally:
        await assembly.stop()
