"""Tools and resources for leads, and their conversion into people."""

# Arguments whose types carry their descriptions are not repeated in the docstrings.
# ruff: noqa: D417

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plugbay import ToolError, tool
from plugbay_copper.base import (
    SORT_BY,
    AssigneeIds,
    City,
    CopperTools,
    Country,
    Filters,
    Ids,
    PhoneNumberFilter,
    RecordId,
    SortDirection,
    State,
    Tags,
    criteria,
)
from plugbay_copper.inputs import LeadFields, NewLead
from plugbay_copper.models import Lead, LeadConversion
from plugbay_copper.record_tools import RecordType

LEADS = RecordType("leads", "lead", Lead)

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


class LeadFilters(Filters):
    """The filters of search_leads."""

    name: str | None = Field(default=None, description="Part of the lead's full name.")
    emails: list[str] | None = Field(
        default=None, description="Email addresses, any of which the lead has."
    )
    phone_number: PhoneNumberFilter = None
    status_ids: list[int] | None = Field(
        default=None, description="Only leads in these lead statuses."
    )
    customer_source_ids: list[int] | None = Field(
        default=None, description="Only leads from these customer sources."
    )
    assignee_ids: AssigneeIds = None
    tags: Tags = None
    city: City = None
    state: State = None
    country: Country = None
    ids: Ids = None
    sort_by: LeadSort = Field(default="name", description=SORT_BY)
    sort_direction: SortDirection = "asc"


class LeadTools(CopperTools):
    """Search, read, create, change, delete and convert leads."""

    search_leads = LEADS.search_tool(LeadFilters)
    get_lead = LEADS.get_tool()
    create_lead = LEADS.create_tool(NewLead)
    update_lead = LEADS.update_tool(LeadFields)
    delete_lead = LEADS.delete_tool()
    lead_resource = LEADS.resource()

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
        done = f"Copper converted the lead with id {lead_id}"
        return self._created(LeadConversion, converted, done, "search_people finds the person")
