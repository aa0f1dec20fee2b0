"""``mcp-server-time`` from PyPI behind the proxy, in both upstream protocol eras."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from plugbay_testing import PROTOCOL_MODES

if TYPE_CHECKING:
    from conftest import ServeGateway


def time_settings(site: Path, **extra: Any) -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
        "env": {"PYTHONPATH": str(site)},
        **extra,
    }


@pytest.mark.parametrize("mode", PROTOCOL_MODES)
@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_time_server_answers_through_the_gateway(
    gateway: ServeGateway, time_server_site: Path, mode: str, protocol: str
) -> None:
    settings = time_settings(time_server_site, protocol=protocol)
    async with gateway({"clock": settings}, mode=mode) as gw:
        state = gw.state("clock")
        assert state["upstream"] == "ready", state
        assert state["protocol"] == ("2025-11-25" if protocol == "legacy" else "2026-07-28")
        tools = {tool.name: tool for tool in (await gw.client.list_tools()).tools}
        assert set(tools) == {"clock_get_current_time", "clock_convert_time"}
        assert tools["clock_convert_time"].output_schema is not None

        now = await gw.call("clock_get_current_time", timezone="Europe/Paris")
        assert not now.is_error
        assert now.structured_content is not None
        assert now.structured_content["timezone"] == "Europe/Paris"

        converted = await gw.call(
            "clock_convert_time", source_timezone="UTC", time="12:00", target_timezone="Asia/Tokyo"
        )
        assert converted.structured_content is not None
        assert converted.structured_content["target"]["datetime"].endswith("21:00:00+09:00")

        bad = await gw.call("clock_get_current_time", timezone="Mars/Olympus")
        assert bad.is_error
        assert "Mars/Olympus" in str(bad.content)
