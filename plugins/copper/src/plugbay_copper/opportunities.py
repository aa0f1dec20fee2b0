"""Tools and resources for opportunities (deals)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from plugbay_copper.base import (
    SORT_BY,
    AssigneeIds,
    CopperTools,
    Filters,
    Ids,
    SortDirection,
    Tags,
    criteria,
)
from plugbay_copper.inputs import NewOpportunity, OpportunityFields
from plugbay_copper.models import Opportunity
from plugbay_copper.record_tools import RecordType

OPPORTUNITIES = RecordType("opportunities", "opportunity", Opportunity)

OpportunityStatus = Literal["Open", "Won", "Lost", "Abandoned"]
STATUS_IDS = {"Open": 0, "Won": 1, "Lost": 2, "Abandoned": 3}
"""Copper's search filters name statuses by number."""

OpportunitySort = Literal[
    "name",
    "close_date",
    "monetary_value",
    "status",
    "pipeline_stage_id",
    "date_created",
    "date_modified",
    "assignee_id",
    "company_name",
]


class OpportunityFilters(Filters):
    """The filters of search_opportunities."""

    name: str | None = Field(default=None, description="Part of the opportunity's name.")
    statuses: list[OpportunityStatus] | None = Field(
        default=None, description="Only opportunities in these statuses."
    )
    pipeline_ids: list[int] | None = Field(
        default=None,
        description="Only opportunities in these pipelines (see {tool:list_pipelines}).",
    )
    pipeline_stage_ids: list[int] | None = Field(
        default=None, description="Only opportunities in these stages."
    )
    company_ids: list[int] | None = Field(
        default=None, description="Only opportunities of these companies; -2 for none."
    )
    primary_contact_ids: list[int] | None = Field(
        default=None,
        description="Only opportunities whose main contact is one of these people.",
    )
    assignee_ids: AssigneeIds = None
    tags: Tags = None
    minimum_monetary_value: float | None = Field(
        default=None, description="The smallest value to include."
    )
    maximum_monetary_value: float | None = Field(
        default=None, description="The largest value to include."
    )
    ids: Ids = None
    sort_by: OpportunitySort = Field(default="name", description=SORT_BY)
    sort_direction: SortDirection = "asc"

    def criteria(self) -> dict[str, Any]:
        """The search body: Copper takes the statuses by number, as status_ids."""
        values = dict(self)
        statuses = values.pop("statuses")
        status_ids = [STATUS_IDS[status] for status in statuses] if statuses else None
        return criteria(name=values.pop("name"), status_ids=status_ids, **values)


class OpportunityTools(CopperTools):
    """Search, read, create, change and delete opportunities."""

    search_opportunities = OPPORTUNITIES.search_tool(OpportunityFilters)
    get_opportunity = OPPORTUNITIES.get_tool()
    create_opportunity = OPPORTUNITIES.create_tool(
        NewOpportunity,
        "Create an opportunity; it starts in the first stage of its pipeline unless told.",
    )
    update_opportunity = OPPORTUNITIES.update_tool(
        OpportunityFields,
        "Change some fields of an opportunity (move its stage, mark it Won...).\n\n"
        "The fields left out stay as they are; a field set to null is cleared.",
    )
    delete_opportunity = OPPORTUNITIES.delete_tool()
    opportunity_resource = OPPORTUNITIES.resource()
