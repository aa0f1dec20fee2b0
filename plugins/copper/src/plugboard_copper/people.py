"""Tools and resources for people (contacts)."""

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
from plugboard_copper.inputs import NewPerson, PersonFields
from plugboard_copper.models import Deleted, Person, SearchPage

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


class PeopleTools(CopperTools):
    """Search, read, create, change and delete people."""

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=True, title="Search people"
    )
    async def search_people(
        self,
        name: str | None = None,
        emails: list[str] | None = None,
        phone_number: str | None = None,
        company_ids: list[int] | None = None,
        assignee_ids: AssigneeIds = None,
        contact_type_ids: list[int] | None = None,
        tags: Tags = None,
        city: str | None = None,
        state: str | None = None,
        country: str | None = None,
        ids: Ids = None,
        sort_by: PeopleSort = "first_name",
        sort_direction: SortDirection = "asc",
        page_number: PageNumber = 1,
        page_size: PageSize = None,
    ) -> SearchPage[Person]:
        """Find people in Copper; all the filters given must match.

        Returns one page and the total number of matches; ask for the next page_number
        while has_more is true.

        Args:
            name: Part of the full name.
            emails: Email addresses, any of which the person has.
            phone_number: A phone number (or part of one).
            company_ids: Only people of these companies; -2 for people without one.
            contact_type_ids: Only people of these contact types; -2 for none.
            city: The city of the address.
            state: The state or province of the address.
            country: The country of the address (two-letter code).
            sort_by: The field to sort by.
        """
        body = criteria(
            name=name,
            emails=emails,
            phone_number=phone_number,
            company_ids=company_ids,
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
            "people", Person, body, page_number=page_number, page_size=page_size
        )

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Get person")
    async def get_person(self, person_id: RecordId) -> Person:
        """Fetch one person by id, with all their fields."""
        return Person.model_validate(await self.copper.get("people", person_id))

    @tool(
        read_only=False, destructive=False, idempotent=False, open_world=True, title="Create person"
    )
    async def create_person(self, person: NewPerson) -> Person:
        """Create a person. Copper refuses a second person with an email already in use.

        Search first (search_people with emails) when the person may exist already.

        Args:
            person: The person's fields; only name is required.
        """
        return Person.model_validate(await self.copper.create("people", person.body()))

    @tool(
        read_only=False, destructive=True, idempotent=True, open_world=True, title="Update person"
    )
    async def update_person(self, person_id: RecordId, changes: PersonFields) -> Person:
        """Change some fields of a person; the fields left out stay as they are.

        A field set to null is cleared. Lists (emails, phone_numbers, tags...) are
        replaced as a whole.

        Args:
            changes: The fields to change.
        """
        body = self._changes(changes, "person")
        return Person.model_validate(await self.copper.update("people", person_id, body))

    @tool(
        read_only=False, destructive=True, idempotent=True, open_world=True, title="Delete person"
    )
    async def delete_person(self, person_id: RecordId) -> Deleted:
        """Delete a person from Copper, permanently."""
        return Deleted.model_validate(await self.copper.delete("people", person_id))

    @resource("people/{person_id}", mime_type="application/json")
    async def person_resource(self, person_id: int) -> Person:
        """A Copper person, as JSON.

        Args:
            person_id: The person's Copper id.
        """
        return await self.get_person(person_id)
