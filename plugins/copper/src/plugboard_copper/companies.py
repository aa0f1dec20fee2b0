"""Tools and resources for companies."""

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
from plugboard_copper.inputs import CompanyFields, NewCompany
from plugboard_copper.models import Company, Deleted, SearchPage

CompanySort = Literal[
    "name", "city", "state", "date_created", "date_modified", "assignee_id", "email_domain"
]


class CompanyTools(CopperTools):
    """Search, read, create, change and delete companies."""

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=True,
        title="Search companies",
    )
    async def search_companies(
        self,
        name: str | None = None,
        email_domains: list[str] | None = None,
        phone_number: str | None = None,
        assignee_ids: AssigneeIds = None,
        contact_type_ids: list[int] | None = None,
        tags: Tags = None,
        city: str | None = None,
        state: str | None = None,
        country: str | None = None,
        ids: Ids = None,
        sort_by: CompanySort = "name",
        sort_direction: SortDirection = "asc",
        page_number: PageNumber = 1,
        page_size: PageSize = None,
    ) -> SearchPage[Company]:
        """Find companies in Copper; all the filters given must match.

        Returns one page and the total number of matches; ask for the next page_number
        while has_more is true.

        Args:
            name: Part of the company's name.
            email_domains: Email domains (acme.com), any of which matches.
            phone_number: A phone number (or part of one).
            contact_type_ids: Only companies of these contact types; -2 for none.
            city: The city of the address.
            state: The state or province of the address.
            country: The country of the address (two-letter code).
            sort_by: The field to sort by.
        """
        body = criteria(
            name=name,
            email_domains=email_domains,
            phone_number=phone_number,
            assignee_ids=assignee_ids,
            contact_type_ids=contact_type_ids,
            tags=tags,
            city=city,
            state=state,
            country=country,
            ids=ids,
            sort_by=sort_by,
            sort_direction=sort_direction,
        )
        return await self._search(
            "companies", Company, body, page_number=page_number, page_size=page_size
        )

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Get company")
    async def get_company(self, company_id: RecordId) -> Company:
        """Fetch one company by id, with all its fields."""
        return Company.model_validate(await self.copper.get("companies", company_id))

    @tool(
        read_only=False,
        destructive=False,
        idempotent=False,
        open_world=True,
        title="Create company",
    )
    async def create_company(self, company: NewCompany) -> Company:
        """Create a company. Search first (search_companies) when it may exist already.

        Args:
            company: The company's fields; only name is required.
        """
        return Company.model_validate(await self.copper.create("companies", company.body()))

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=True,
        title="Update company",
    )
    async def update_company(self, company_id: RecordId, changes: CompanyFields) -> Company:
        """Change some fields of a company; the fields left out stay as they are.

        A field set to null is cleared; lists are replaced as a whole.

        Args:
            changes: The fields to change.
        """
        body = self._changes(changes, "company")
        return Company.model_validate(await self.copper.update("companies", company_id, body))

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=True,
        title="Delete company",
    )
    async def delete_company(self, company_id: RecordId) -> Deleted:
        """Delete a company from Copper, permanently."""
        return Deleted.model_validate(await self.copper.delete("companies", company_id))

    @resource("companies/{company_id}", mime_type="application/json")
    async def company_resource(self, company_id: int) -> Company:
        """A Copper company, as JSON.

        Args:
            company_id: The company's Copper id.
        """
        return await self.get_company(company_id)
