"""The fake Odoo on 127.0.0.1, and a shortcut to serve the connector against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from plugbay_odoo import OdooConnector
from plugbay_odoo.fake import OdooFake
from plugbay_odoo.fake.fixtures import odoo_fake, odoo_fake_server
from plugbay_testing import Harness, result_text, serve

__all__ = ["odoo_fake", "odoo_fake_server"]

ALL = ["read", "write", "create", "unlink"]
BUSINESS_MODELS = (
    "res.partner", "res.users", "product.product", "sale.order", "sale.order.line",
    "crm.lead", "crm.stage", "crm.tag", "account.move",
)  # fmt: skip
FULL_ACCESS = {model: ALL for model in BUSINESS_MODELS}
"""Every right on every business model of the fake."""
TRANSPORTS = ("xmlrpc", "jsonrpc")


@dataclass
class OdooClientHarness:
    """A served Odoo instance, the fake behind it, and shortcuts for the tests' checks."""

    harness: Harness
    fake: OdooFake

    async def ok(self, tool: str, **arguments: Any) -> Any:
        """Call a tool that must succeed; its structured content."""
        return await self.harness.call_ok(tool, **arguments)

    async def error(self, tool: str, **arguments: Any) -> str:
        """Call a tool that must fail cleanly (isError, not a crash); its message."""
        result = await self.harness.call(tool, **arguments)
        message = result_text(result)
        assert result.is_error, f"{tool}({arguments}) should have failed: {message[:300]}"
        assert "failed unexpectedly" not in message, message
        return message

    @property
    def connector(self) -> OdooConnector:
        """The running connector object."""
        connector = self.harness.connector
        assert isinstance(connector, OdooConnector)
        return connector


ServeOdoo = Callable[..., AbstractAsyncContextManager[OdooClientHarness]]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """Each protocol of the external API in turn."""
    name: str = request.param
    return name


@pytest.fixture
def serve_odoo(odoo_fake: OdooFake, transport: str) -> ServeOdoo:
    """``async with serve_odoo(login="admin", **settings) as odoo``: one instance, named erp."""

    @asynccontextmanager
    async def start(
        login: str = "admin", instance: str = "erp", **settings: Any
    ) -> AsyncIterator[OdooClientHarness]:
        options = {"models": FULL_ACCESS, "transport": transport, **settings}
        config = odoo_fake.settings(login, **options)
        async with serve(OdooConnector, settings=config, instance=instance) as harness:
            yield OdooClientHarness(harness, odoo_fake)

    return start
