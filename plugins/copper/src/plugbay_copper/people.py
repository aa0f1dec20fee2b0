"""Tools and resources for people (contacts)."""

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
from plugbay_copper.inputs import NewPerson, PersonFields
from plugbay_copper.models import Person
from plugbay_copper.record_tools import RecordType

PEOPLE = RecordType("people", "person", Person)

PeopleSort = Literal[
    "name",
    "first_name",
    "last_name",
    "title",
    "city",
    "state",
    "date_created",
    "date_modified",
    "assignee_id",
    "company_name",
]


class PeopleFilters(Filters):
    """The filters of search_people."""

    name: str | None = Field(default=None, description="Part of the full name.")
    emails: list[str] | None = Field(
        default=None, description="Email addresses, any of which the person has."
    )
    phone_number: PhoneNumberFilter = None
    company_ids: list[int] | None = Field(
        default=None, description="Only people of these companies; -2 for people without one."
    )
    assignee_ids: AssigneeIds = None
    contact_type_ids: list[int] | None = Field(
        default=None, description="Only people of these contact types; -2 for none."
    )
    tags: Tags = None
    city: City = None
    state: State = None
    country: Country = None
    ids: Ids = None
    sort_by: PeopleSort = Field(default="first_name", description=SORT_BY)
    sort_direction: SortDirection = "asc"


class PeopleTools(CopperTools):
    """Search, read, create, change and delete people."""

    search_people = PEOPLE.search_tool(PeopleFilters)
    get_person = PEOPLE.get_tool("Fetch one person by id, with all their fields.")
    create_person = PEOPLE.create_tool(
        NewPerson,
        "Create a person. Copper refuses a second person with an email already in use.\n\n"
        "Search first ({tool:search_people} with emails) when the person may exist already.",
    )
    update_person = PEOPLE.update_tool(
        PersonFields,
        "Change some fields of a person; the fields left out stay as they are.\n\n"
        "A field set to null is cleared. Lists (emails, phone_numbers, tags...) are\n"
        "replaced as a whole.",
    )
    delete_person = PEOPLE.delete_tool()
    person_resource = PEOPLE.resource()
