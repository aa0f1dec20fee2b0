"""Tools and resources for companies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from plugbay_copper.base import (
    SORT_BY,
    AssigneeIds,
    City,
    CopperTools,
    Country,
    Filters,
    Ids,
    PhoneNumberFilter,
    SortDirection,
    State,
    Tags,
)
from plugbay_copper.inputs import CompanyFields, NewCompany
from plugbay_copper.models import Company
from plugbay_copper.record_tools import RecordType

COMPANIES = RecordType("companies", "company", Company)

CompanySort = Literal[
    "name", "city", "state", "date_created", "date_modified", "assignee_id", "email_domain"
]


class CompanyFilters(Filters):
    """The filters of search_companies."""

    name: str | None = Field(default=None, description="Part of the company's name.")
    email_domains: list[str] | None = Field(
        default=None, description="Email domains (acme.com), any of which matches."
    )
    phone_number: PhoneNumberFilter = None
    assignee_ids: AssigneeIds = None
    contact_type_ids: list[int] | None = Field(
        default=None, description="Only companies of these contact types; -2 for none."
    )
    tags: Tags = None
    city: City = None
    state: State = None
    country: Country = None
    ids: Ids = None
    sort_by: CompanySort = Field(default="name", description=SORT_BY)
    sort_direction: SortDirection = "asc"


class CompanyTools(CopperTools):
    """Search, read, create, change and delete companies."""

    search_companies = COMPANIES.search_tool(CompanyFilters)
    get_company = COMPANIES.get_tool()
    create_company = COMPANIES.create_tool(NewCompany)
    update_company = COMPANIES.update_tool(CompanyFields)
    delete_company = COMPANIES.delete_tool()
    company_resource = COMPANIES.resource()
