"""Tools for activities: notes, calls and meetings logged on records."""

# Arguments whose types carry their descriptions are not repeated in the docstrings.
# ruff: noqa: D417

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from plugboard import ToolError, tool
from plugboard_copper.base import CopperTools, PageNumber, PageSize, RecordId, criteria
from plugboard_copper.inputs import ActivityChanges
from plugboard_copper.models import Activity, ActivityTypeRef, Deleted, ParentType, SearchPage

NOTE_TYPE_ID = 0
"""Copper's built-in "Note" activity type has the fixed id 0."""

ParentId = Annotated[int, Field(ge=1, description="The id of the record the activity is on.")]
ParentTypeArgument = Annotated[
    ParentType, Field(description="The type of that record: person, company, lead, ...")
]


class ActivityTools(CopperTools):
    """Search, read, log, change and delete activities."""

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=True,
        title="Search activities",
    )
    async def search_activities(
        self,
        parent_type: ParentType | None = None,
        parent_id: int | None = None,
        activity_types: list[ActivityTypeRef] | None = None,
        minimum_activity_date: int | None = None,
        maximum_activity_date: int | None = None,
        page_number: PageNumber = 1,
        page_size: PageSize = None,
    ) -> SearchPage[Activity]:
        """Find activities, newest first: those on one record, of some types, in a period.

        Args:
            parent_type: Only activities on a record of this type (with parent_id).
            parent_id: Only activities on the record with this id (with parent_type).
            activity_types: Only these activity types, as {id, category} (see
                list_activity_types; a note is {"id": 0, "category": "user"}).
            minimum_activity_date: Only activities at or after this Unix timestamp.
            maximum_activity_date: Only activities at or before this Unix timestamp.
        """
        if (parent_type is None) != (parent_id is None):
            raise ToolError("give parent_type and parent_id together, or neither")
        parent = {"id": parent_id, "type": parent_type} if parent_id is not None else None
        body = criteria(
            parent=parent,
            activity_types=[item.model_dump() for item in activity_types]
            if activity_types
            else None,
            minimum_activity_date=minimum_activity_date,
            maximum_activity_date=maximum_activity_date,
        )
        return await self._search(
            "activities", Activity, body, page_number=page_number, page_size=page_size
        )

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Get activity")
    async def get_activity(self, activity_id: RecordId) -> Activity:
        """Fetch one activity by id; a deleted one comes back as a stub with is_deleted."""
        return Activity.model_validate(await self.copper.get("activities", activity_id))

    @tool(
        read_only=False, destructive=False, idempotent=False, open_world=True, title="Log activity"
    )
    async def log_activity(
        self,
        parent_type: ParentTypeArgument,
        parent_id: ParentId,
        details: Annotated[str, Field(min_length=1)],
        activity_type_id: int = NOTE_TYPE_ID,
        activity_date: int | None = None,
    ) -> Activity:
        """Log an activity (a note, a call, a meeting...) on a person, company, lead or deal.

        Args:
            details: What happened: the note's text, the call's summary.
            activity_type_id: A "user" activity type (see list_activity_types); 0 is a note.
            activity_date: When it happened, as a Unix timestamp; now by default.
        """
        body = criteria(
            parent={"id": parent_id, "type": parent_type},
            type={"id": activity_type_id, "category": "user"},
            details=details,
            activity_date=activity_date,
        )
        return Activity.model_validate(await self.copper.create("activities", body))

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=True,
        title="Update activity",
    )
    async def update_activity(self, activity_id: RecordId, changes: ActivityChanges) -> Activity:
        """Change a logged activity's text, date or type; only "user" activities can change.

        Args:
            changes: The fields to change.
        """
        body = self._changes(changes, "activity")
        return Activity.model_validate(await self.copper.update("activities", activity_id, body))

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        open_world=True,
        title="Delete activity",
    )
    async def delete_activity(self, activity_id: RecordId) -> Deleted:
        """Delete an activity; Copper keeps a stub of it that get_activity still returns."""
        return Deleted.model_validate(await self.copper.delete("activities", activity_id))
