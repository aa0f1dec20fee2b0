"""The seed data: the account, its users, lookups and a few records."""

from __future__ import annotations

from typing import Any

from plugbay_copper.fake.state import AccountState


class SeedData(AccountState):
    """The seed data: the account, its users, lookups and a few records."""

    # -- seed data --------------------------------------------------------------------

    def _seed(self) -> None:
        self.account: dict[str, Any] = {
            "id": 100_001,
            "name": "Plugbay Test Co",
            "primary_timezone": "America/New_York",
            "settings": {"setting_team_permissions_enabled": False, "setting_enable_leads": True},
        }
        self.users: list[dict[str, Any]] = [
            {
                "id": 200_001,
                "name": "Olive Owner",
                "email": self.user_email,
                "groups": [{"id": 1, "name": "Sales"}],
            },
            {
                "id": 200_002,
                "name": "Sam Seller",
                "email": "sam@example.com",
                "groups": [{"id": 1, "name": "Sales"}],
            },
            {"id": 200_003, "name": "Rita Rep", "email": "rita@example.com", "groups": []},
        ]
        self.pipelines: list[dict[str, Any]] = [
            {
                "id": 300_001,
                "name": "Sales",
                "stages": [
                    {"id": 310_001, "name": "Qualified", "win_probability": 5},
                    {"id": 310_002, "name": "Follow-up", "win_probability": 10},
                    {"id": 310_003, "name": "Presentation", "win_probability": 20},
                    {"id": 310_004, "name": "Contract Sent", "win_probability": 40},
                    {"id": 310_005, "name": "Negotiation", "win_probability": 80},
                ],
            },
            {
                "id": 300_002,
                "name": "Partnerships",
                "stages": [
                    {"id": 310_006, "name": "First Meeting", "win_probability": 10},
                    {"id": 310_007, "name": "Partner Meeting", "win_probability": 25},
                    {"id": 310_008, "name": "Negotiation", "win_probability": 60},
                ],
            },
        ]
        self.activity_types: dict[str, list[dict[str, Any]]] = {
            "user": [
                {
                    "id": 0,
                    "category": "user",
                    "name": "Note",
                    "is_disabled": False,
                    "count_as_interaction": False,
                },
                {
                    "id": 400_001,
                    "category": "user",
                    "name": "Phone Call",
                    "is_disabled": False,
                    "count_as_interaction": True,
                },
                {
                    "id": 400_002,
                    "category": "user",
                    "name": "Meeting",
                    "is_disabled": False,
                    "count_as_interaction": True,
                },
            ],
            "system": [
                {
                    "id": 1,
                    "category": "system",
                    "name": "Property Changed",
                    "is_disabled": False,
                    "count_as_interaction": False,
                },
                {
                    "id": 3,
                    "category": "system",
                    "name": "Pipeline Stage Changed",
                    "is_disabled": False,
                    "count_as_interaction": False,
                },
            ],
        }
        self.custom_field_definitions: list[dict[str, Any]] = [
            {
                "id": 500_001,
                "name": "Referral Source",
                "canonical_name": "referral_source",
                "data_type": "String",
                "available_on": ["person", "company", "lead", "opportunity"],
                "is_filterable": True,
            },
            {
                "id": 500_002,
                "name": "Deal Size",
                "canonical_name": "deal_size",
                "data_type": "Dropdown",
                "available_on": ["opportunity", "lead"],
                "is_filterable": True,
                "options": [
                    {"id": 510_001, "name": "Small", "rank": 0},
                    {"id": 510_002, "name": "Medium", "rank": 1},
                    {"id": 510_003, "name": "Large", "rank": 2},
                ],
            },
            {
                "id": 500_003,
                "name": "Renewal Date",
                "canonical_name": "renewal_date",
                "data_type": "Date",
                "available_on": ["company", "opportunity"],
                "is_filterable": True,
            },
        ]
        self.contact_types: list[dict[str, Any]] = [
            {"id": 600_001, "name": "Potential Customer"},
            {"id": 600_002, "name": "Current Customer"},
            {"id": 600_003, "name": "Uncategorized"},
        ]
        self.customer_sources: list[dict[str, Any]] = [
            {"id": 700_001, "name": "Email"},
            {"id": 700_002, "name": "Cold Call"},
            {"id": 700_003, "name": "Advertising"},
        ]
        self.lead_statuses: list[dict[str, Any]] = [
            {"id": 800_001, "name": "New", "order": 1, "is_default": True},
            {"id": 800_002, "name": "Unqualified", "order": 2, "is_default": False},
            {"id": 800_003, "name": "Contacted", "order": 3, "is_default": False},
            {"id": 800_004, "name": "Qualified", "order": 4, "is_default": False},
        ]
        acme = self._create(
            "companies",
            {
                "name": "Acme Corp",
                "email_domain": "acme.example",
                "address": {"city": "Springfield", "state": "IL", "country": "US"},
                "assignee_id": 200_001,
                "tags": ["customer"],
                "phone_numbers": [{"number": "415-555-0100", "category": "work"}],
            },
        )
        ada = self._create(
            "people",
            {
                "name": "Ada Lovelace",
                "title": "Chief Analyst",
                "company_id": acme["id"],
                "emails": [{"email": "ada@acme.example", "category": "work"}],
                "phone_numbers": [{"number": "415-555-0101", "category": "mobile"}],
                "address": {"city": "Springfield", "state": "IL", "country": "US"},
                "assignee_id": 200_001,
                "tags": ["vip"],
            },
        )
        self._create(
            "people",
            {
                "name": "Grace Hopper",
                "title": "Rear Admiral",
                "emails": [{"email": "grace@navy.example", "category": "work"}],
                "assignee_id": 200_002,
            },
        )
        self._create(
            "opportunities",
            {
                "name": "Acme renewal",
                "company_id": acme["id"],
                "primary_contact_id": ada["id"],
                "monetary_value": 12000,
                "assignee_id": 200_001,
                "close_date": "12/31/2030",
            },
        )
        self._create(
            "leads",
            {
                "name": "Linus Lead",
                "company_name": "Penguin Labs",
                "email": {"email": "linus@penguin.example", "category": "work"},
                "monetary_value": 5000,
            },
        )
        self._create(
            "tasks",
            {
                "name": "Call Ada about the renewal",
                "related_resource": {"id": ada["id"], "type": "person"},
                "assignee_id": 200_001,
                "due_date": 1_900_000_000,
            },
        )
        self._create(
            "activities",
            {
                "parent": {"id": ada["id"], "type": "person"},
                "type": {"category": "user", "id": 0},
                "details": "Met at the conference; interested in the renewal.",
            },
        )
