"""Tools and resources for opportunities (deals)."""

# Arguments whose types carry their descriptions are not repeated in the docstrings.
# ruff: noqa: D417

from __future__ import annotations

from typing import Literal

from plugboard import resource, tool
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
from plugboard_copper.inputs import NewOpportunity, OpportunityFields
from plugboard_copper.models import Deleted, Opportunity, SearchPage

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


class OpportunityTools(CopperTools):
    """Search, read, create, change and delete opportunities."""

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=True,
        title="Search opportunities",
    )
    async def search_opportunities(
        self,
        name: str | None = None,
        statuses: list[OpportunityStatus] | None = None,
        pipeline_ids: list[int] | None = None,
        pipeline_stage_ids: list[int] | None = None,
        company_ids: list[int] | None = None,
        primary_contact_ids: list[int] | None = None,
        assignee_ids: AssigneeIds = None,
        tags: Tags = None,
        minimum_monetary_value: float | None = None,
        maximum_monetary_value: float | None = None,
        ids: Ids = None,
        sort_by: OpportunitySort = "name",
        sort_direction: SortDirection = "asc",
        page_number: PageNumber = 1,
        page_size: PageSize = None,
    ) -> SearchPage[Opportunity]:
        """Find opportunities in Copper; all the filters given must match.

        Returns one page and the total number of matches; ask for the next page_number
        while has_more is true.

        Args:
            name: Part of the opportunity's name.
            statuses: Only opportunities in these statuses.
            pipeline_ids: Only opportunities in these pipelines (see list_pipelines).
            pipeline_stage_ids: Only opportunities in these stages.
            company_ids: Only opportunities of these companies; -2 for none.
            primary_contact_ids: Only opportunities whose main contact is one of these people.
            minimum_monetary_value: The smallest value to include.
            maximum_monetary_value: The largest value to include.
            sort_by: The field to sort by.
        """
        body = criteria(
            name=name,
            status_ids=[STATUS_IDS[status] for status in statuses] if statuses else None,
            pipeline_ids=pipeline_ids,
            pipeline_stage_ids=pipeline_stage_ids,
            company_ids=company_ids,
            primary_contact_ids=primary_contact_ids,
            assignee_ids=assignee_ids,
            tags=tags,
            minimum_monetary_value=minimum_monetary_value,
            maximum_monetary_value=maximum_monetary_value,
            ids=ids,
            sort_by=sort_by,
            sort_direction=sort_direction,
        )
        return await self._search(
            "opportunities", Opportunity, body, page_number=page_number, page_size=page_size
        )

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=True,
        title="Get opportunity",
    )
    async def get_opportunity(self, opportunity_id: RecordId) -> Opportunity:
        """Fetch one opportunity by id, with all its fields."""
        return Opportunity.model_validate(await self.copper.get("opportunities", opportunity_id))

    @tool(
        read_only=False,
        destructive=False,
        idempotent=False,
        open_world=True,
        title="Create opportunity",
    )
    async def create_opportunity(self, opportunity: NewOpportunity) -> Opportunity:
        """Create an opportunity; it starts in the first stage of its pipeline unless told.

        Args:
            opportunity: The opportunity's fields; only name is required.
        """
        created = await self.copper.create("opportunities", opportunity.body())
        return Opportunity.model_validate(created)

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=True,
        title="Update opportunity",
    )
    async def update_opportunity(
        self, opportunity_id: RecordId, changes: OpportunityFields
    ) -> Opportunity:
        """Change some fields of an opportunity (move its stage, mark it Won...).

        The fields left out stay as they are; a field set to null is cleared.

        Args:
            changes: The fields to change.
        """
        body = self._changes(changes, "opportunity")
        updated = await self.copper.update("opportunities", opportunity_id, body)
        return Opportunity.model_validate(updated)

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=True,
        title="Delete opportunity",
    )
    async def delete_opportunity(self, opportunity_id: RecordId) -> Deleted:
        """Delete an opportunity from Copper, permanently."""
        return Deleted.model_validate(await self.copper.delete("opportunities", opportunity_id))

    @resource("opportunities/{opportunity_id}", mime_type="application/json")
    async def opportunity_resource(self, opportunity_id: int) -> Opportunity:
        """A Copper opportunity, as JSON.

        Args:
            opportunity_id: The opportunity's Copper id.
        """
        return await self.get_opportunity(opportunity_id)
