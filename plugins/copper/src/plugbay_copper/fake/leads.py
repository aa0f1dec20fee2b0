"""Converting a lead into a person, a company and an opportunity."""

from __future__ import annotations

import copy
import time
from typing import Any

from plugbay_copper.fake.errors import CopperError, invalid, not_found
from plugbay_copper.fake.fields import (
    check_str,
)
from plugbay_copper.fake.state import AccountState


class LeadConversion(AccountState):
    """Converting a lead into a person, a company and an opportunity."""

    # -- lead conversion --------------------------------------------------------------

    def _convert(self, lead_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Convert a lead; all or nothing (a failure leaves every record as it was)."""
        lead = self._records["leads"].get(lead_id)
        if lead is None:
            raise not_found("leads", lead_id)
        details = body.get("details", {}) if isinstance(body, dict) else None
        if not isinstance(details, dict):
            raise invalid("details must be an object")
        snapshot = (copy.deepcopy(self._records), dict(self._next_id))
        try:
            return self._convert_records(lead, details)
        except CopperError:
            self._records, self._next_id = snapshot
            raise

    def _convert_records(self, lead: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
        wanted_person = details.get("person") or {}
        if not isinstance(wanted_person, dict):
            raise invalid("person must be an object")
        company = self._convert_company(lead, details.get("company"))
        person = self._create(
            "people",
            {
                "name": wanted_person.get("name") or lead["name"],
                "assignee_id": wanted_person.get("assignee_id", lead["assignee_id"]),
                "contact_type_id": wanted_person.get("contact_type_id", 600_001),
                "title": lead["title"],
                "details": lead["details"],
                "address": lead["address"],
                "phone_numbers": lead["phone_numbers"],
                "socials": lead["socials"],
                "websites": lead["websites"],
                "tags": lead["tags"],
                "emails": [lead["email"]] if lead["email"] else [],
                "company_id": company["id"] if company else None,
                "custom_fields": [
                    item
                    for item in lead["custom_fields"]
                    if self._definition_on(item["custom_field_definition_id"], "person")
                ],
            },
        )
        stored_person = self._records["people"][person["id"]]
        stored_person["leads_converted_from"] = [
            {"lead_id": lead["id"], "converted_timestamp": int(time.time())}
        ]
        stored_person["date_lead_created"] = lead["date_created"]
        opportunity = None
        wanted_opportunity = details.get("opportunity")
        if wanted_opportunity is not None:
            if not isinstance(wanted_opportunity, dict) or not wanted_opportunity.get("name"):
                raise invalid("opportunity.name is required to create an opportunity")
            allowed = ("name", "pipeline_id", "pipeline_stage_id", "monetary_value", "assignee_id")
            opportunity_body = {
                key: wanted_opportunity[key] for key in allowed if key in wanted_opportunity
            }
            if "pipeline_id" in opportunity_body and "pipeline_stage_id" not in opportunity_body:
                pipeline = self._pipeline(opportunity_body["pipeline_id"])
                opportunity_body["pipeline_stage_id"] = pipeline["stages"][0]["id"]
            opportunity_body["primary_contact_id"] = person["id"]
            if company is not None:
                opportunity_body["company_id"] = company["id"]
            opportunity = self._create("opportunities", opportunity_body)
        del self._records["leads"][lead["id"]]
        return {
            "person": self._render("people", stored_person),
            "company": self._render("companies", company) if company else None,
            "opportunity": opportunity,
        }

    def _definition_on(self, definition_id: int, entity: str) -> bool:
        return any(
            item["id"] == definition_id and entity in item["available_on"]
            for item in self.custom_field_definitions
        )

    def _convert_company(self, lead: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        if wanted is None:
            name = lead.get("company_name") or ""
            wanted = {"name": name}
        if not isinstance(wanted, dict):
            raise invalid("company must be an object with id or name")
        if "id" in wanted and "name" in wanted:
            raise invalid("company: give id or name, not both")
        if "id" in wanted:
            return self._require("companies", wanted["id"], "company.id")
        name = wanted.get("name")
        if not name:
            return None
        check_str("company.name", name)
        for company in self._records["companies"].values():
            if company["name"].lower() == name.lower():
                return company
        created = self._create("companies", {"name": name})
        return self._records["companies"][created["id"]]
