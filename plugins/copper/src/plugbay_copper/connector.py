"""The Copper connector: Copper CRM's people, companies, deals, leads, tasks and activities."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from plugbay import Connector
from plugbay_copper.activities import ActivityTools
from plugbay_copper.client import CopperClient
from plugbay_copper.companies import CompanyTools
from plugbay_copper.leads import LeadTools
from plugbay_copper.lookups import LookupTools
from plugbay_copper.opportunities import OpportunityTools
from plugbay_copper.people import PeopleTools
from plugbay_copper.settings import CopperSettings
from plugbay_copper.tasks import TaskTools


class CopperConnector(
    PeopleTools,
    CompanyTools,
    OpportunityTools,
    LeadTools,
    TaskTools,
    ActivityTools,
    LookupTools,
    Connector[CopperSettings],
):
    """Copper CRM: search, read and change people, companies, opportunities, leads and tasks.

    Also logs activities, converts leads, and lists users, pipelines, activity types
    and custom fields. Requests stay under Copper's rate limit (180 a minute on a
    rolling window) and writes are never sent twice.
    """

    name = "copper"
    uri_scheme = "copper"

    def __init__(self, instance: str, settings: CopperSettings) -> None:
        super().__init__(instance, settings)
        self._copper: CopperClient | None = None

    def instance_facts(self) -> str:
        """Whose Copper account this instance works in, for tool descriptions."""
        return f"This instance: the Copper account of {self.settings.user_email}."

    async def start(self) -> None:
        """Open the connection pool to Copper (no request is sent)."""
        client = CopperClient(self.settings, instance=self.instance)
        await client.start()
        self._copper = client

    async def stop(self) -> None:
        """Close the connection pool."""
        client, self._copper = self._copper, None
        if client is not None:
            await client.aclose()

    async def check_health(self) -> None:
        """Raise unless Copper answers ``GET /account`` with these credentials."""
        await self.copper.get_json("/account")

    @classmethod
    def demo(cls) -> AbstractAsyncContextManager[Mapping[str, Any]]:
        """The bundled fake Copper API, with its sample account, on a loopback port."""
        return _demo()


@asynccontextmanager
async def _demo() -> AsyncIterator[Mapping[str, Any]]:
    # Imported here: the connector itself never needs the fake (plugbay-copper[fake]).
    from plugbay.demo import serve_on_loopback
    from plugbay_copper.fake import CopperFake

    fake = CopperFake()
    async with serve_on_loopback(fake.app) as url:
        fake.base_url = url
        yield fake.settings()
