"""Tools and resources for leads, and their conversion into people."""

# Arguments whose types carry their descriptions are not repeated in the docstrings.
# ruff: noqa: D417

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plugboard import ToolError, resource, tool
from plugboard_copper.base import (
    AssigneeIds,
    CopperTools,
    Ids,
    PageNumber,
    PageSize,
    RecordId,
    SortDirection,
    Tags,
    criteria,
)
from plugboard_copper.inputs import LeadFields, NewLead
from plugboard_copper.models import Deleted, Lead, LeadConversion, SearchPage

LeadSort = Literal[
    "name",
    "first_name",
    "last_name",
    "title",
    "company_name",
    "status",
    "monetary_value",
    "city",
    "state",
    "date_created",
    "date_modified",
    "assignee_id",
]


class ConvertedOpportunity(BaseModel):
    """The opportunity to create while converting a lead."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The opportunity's name.")
    pipeline_id: int | None = Field(default=None, description="The pipeline; the first by default.")
    pipeline_stage_id: int | None = Field(
        default=None, description="The stage; the pipeline's first stage by default."
    )
    monetary_value: float | None = Field(default=None, description="The expected value.")
    assignee_id: int | None = Field(default=None, description="The owner's user id.")


class LeadTools(CopperTools):
    """Search, read, create, change, delete and convert leads."""

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Search leads")
    async def search_leads(
        self,
        name: str | None = None,
        emails: list[str] | None = None,
        phone_number: str | None = None,
        status_ids: list[int] | None = None,
        customer_source_ids: list[int] | None = None,
        assignee_ids: AssigneeIds = None,
        tags: Tags = None,
        city: str | None = None,
        state: str | None = None,
        country: str | None = None,
        ids: Ids = None,
        sort_by: LeadSort = "name",
        sort_direction: SortDirection = "asc",
        page_number: PageNumber = 1,
        page_size: PageSize = None,
    ) -> SearchPage[Lead]:
        """Find leads in Copper; all the filters given must match.

        Returns one page and the total number of matches; ask for the next page_number
        while has_more is true.

        Args:
            name: Part of the lead's full name.
            emails: Email addresses, any of which the lead has.
            phone_number: A phone number (or part of one).
            status_ids: Only leads in these lead statuses.
            customer_source_ids: Only leads from these customer sources.
            city: The city of the address.
            state: The state or province of the address.
            country: The country of the address (two-letter code).
            sort_by: The field to sort by.
        """
        body = criteria(
            name=name,
            emails=emails,
            phone_number=phone_number,
            status_ids=status_ids,
            customer_source_ids=customer_source_ids,
            assignee_ids=assignee_ids,
            tags=tags,
            city=city,
            state=state,
            country=country,
            ids=ids,
            sort_by=sort_by,
            sort_direction=sort_direction,
        )
        return await self._search("leads", Lead, body, page_number=page_number, page_size=page_size)

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Get lead")
    async def get_lead(self, lead_id: RecordId) -> Lead:
        """Fetch one lead by id, with all its fields."""
        return Lead.model_validate(await self.copper.get("leads", lead_id))

    @tool(
        read_only=False, destructive=False, idempotent=False, open_world=True, title="Create lead"
    )
    async def create_lead(self, lead: NewLead) -> Lead:
        """Create a lead. Search first (search_leads) when it may exist already.

        Args:
            lead: The lead's fields; only name is required.
        """
        return Lead.model_validate(await self.copper.create("leads", lead.body()))

    @tool(read_only=False, destructive=True, idempotent=True, open_world=True, title="Update lead")
    async def update_lead(self, lead_id: RecordId, changes: LeadFields) -> Lead:
        """Change some fields of a lead; the fields left out stay as they are.

        A field set to null is cleared; lists are replaced as a whole.

        Args:
            changes: The fields to change.
        """
        body = self._changes(changes, "lead")
        return Lead.model_validate(await self.copper.update("leads", lead_id, body))

    @tool(read_only=False, destructive=True, idempotent=True, open_world=True, title="Delete lead")
    async def delete_lead(self, lead_id: RecordId) -> Deleted:
        """Delete a lead from Copper, permanently."""
        return Deleted.model_validate(await self.copper.delete("leads", lead_id))

    @tool(
        read_only=False, destructive=True, idempotent=False, open_world=True, title="Convert lead"
    )
    async def convert_lead(
        self,
        lead_id: RecordId,
        person_name: str | None = None,
        assignee_id: int | None = None,
        contact_type_id: int | None = None,
        company_id: int | None = None,
        company_name: str | None = None,
        opportunity: ConvertedOpportunity | None = None,
    ) -> LeadConversion:
        """Convert a lead into a person, optionally with a company and an opportunity.

        Copper removes the lead afterwards. The person gets the lead's details. The
        company is the one given by id, else an existing company with the given name
        (or the lead's company name), else a new one; an empty company_name links none.

        Args:
            person_name: The new person's name; the lead's by default.
            assignee_id: The new person's owner; the lead's by default.
            contact_type_id: The new person's contact type.
            company_id: Link the person to this existing company.
            company_name: Link the person to the company of this name (created if need
                be); "" for no company.
            opportunity: Also create this opportunity, with the person as main contact.
        """
        if company_id is not None and company_name is not None:
            raise ToolError("give company_id or company_name, not both")
        person: dict[str, Any] = criteria(
            name=person_name, assignee_id=assignee_id, contact_type_id=contact_type_id
        )
        details: dict[str, Any] = {"person": person}
        if company_id is not None:
            details["company"] = {"id": company_id}
        elif company_name is not None:
            details["company"] = {"name": company_name}
        if opportunity is not None:
            details["opportunity"] = opportunity.model_dump(exclude_none=True)
        converted = await self.copper.convert_lead(lead_id, details)
        return LeadConversion.model_validate(converted)

    @resource("leads/{lead_id}", mime_type="application/json")
    async def lead_resource(self, lead_id: int) -> Lead:
        """A Copper lead, as JSON.

        Args:
            lead_id: The lead's Copper id.
        """
        return await self.get_lead(lead_id)
