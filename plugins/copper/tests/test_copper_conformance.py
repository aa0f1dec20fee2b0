"""The plugbay conformance suite, run against the Copper connector and the fake Copper API."""

from __future__ import annotations

from typing import Any

from plugbay_copper import CopperConnector
from plugbay_copper.fake import CopperFake
from plugbay_testing import ConnectorConformance


def _first_id(fake: CopperFake, kind: str) -> int:
    record_id: int = fake.records(kind)[0]["id"]
    return record_id


class TestCopperConformance(ConnectorConformance):
    connector = CopperConnector
    entry_point = "copper"  # loaded as plugbay serve loads it

    def config(self, copper_fake: CopperFake) -> dict[str, Any]:
        return copper_fake.settings()

    def sample_calls(self, copper_fake: CopperFake) -> dict[str, dict[str, Any]]:
        person = _first_id(copper_fake, "people")
        return {
            "search_people": {"name": "ada", "page_size": 5},
            "get_person": {"person_id": person},
            "search_companies": {"tags": ["customer"]},
            "get_company": {"company_id": _first_id(copper_fake, "companies")},
            "search_opportunities": {"statuses": ["Open"]},
            "get_opportunity": {"opportunity_id": _first_id(copper_fake, "opportunities")},
            "search_leads": {},
            "get_lead": {"lead_id": _first_id(copper_fake, "leads")},
            "search_tasks": {"statuses": ["Open"]},
            "get_task": {"task_id": _first_id(copper_fake, "tasks")},
            "search_activities": {"parent_type": "person", "parent_id": person},
            "get_activity": {"activity_id": _first_id(copper_fake, "activities")},
            "get_account": {},
            "list_users": {},
            "list_pipelines": {},
            "list_activity_types": {},
            "list_custom_fields": {},
            "create_person": {"person": {"name": "Conformance Person"}},
            "log_activity": {"parent_type": "person", "parent_id": person, "details": "hello"},
        }

    def resource_uris(self, copper_fake: CopperFake) -> list[str]:
        return [
            f"people/{_first_id(copper_fake, 'people')}",
            f"companies/{_first_id(copper_fake, 'companies')}",
            f"opportunities/{_first_id(copper_fake, 'opportunities')}",
            f"leads/{_first_id(copper_fake, 'leads')}",
            f"tasks/{_first_id(copper_fake, 'tasks')}",
        ]
