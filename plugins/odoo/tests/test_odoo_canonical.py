"""A record URI has one spelling, so a server's policy on record URIs cannot be walked
around with another spelling of the same number."""

from __future__ import annotations

import pytest
from mcp import MCPError


@pytest.mark.parametrize("spelling", ["014", "0", "%D9%A1%D9%A4", "\u0661\u0664", "+14", "14.0"])
async def test_a_record_is_read_only_by_the_plain_spelling_of_its_id(
    serve_odoo, spelling: str
) -> None:
    async with serve_odoo() as odoo:
        assert "Deco Addict" in (await odoo.harness.read("odoo://erp/res.partner/14"))[0].text
        with pytest.raises(MCPError, match="is not a record id"):
            await odoo.harness.read(f"odoo://erp/res.partner/{spelling}")
