"""Tools for activities: notes, calls and meetings logged on records."""

# Arguments whose types carry their descriptions are not repeated in the docstrings.
# ruff: noqa: D417

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from plugbay import ToolError, tool
from plugbay_copper.base import CopperTools, Filters, criteria
from plugbay_copper.inputs import ActivityChanges
from plugbay_copper.models import Activity, ActivityTypeRef, ParentType
from plugbay_copper.record_tools import RecordType

ACTIVITIES = RecordType("activities", "activity", Activity)

NOTE_TYPE_ID = 0
"""Copper's built-in "Note" activity type has the fixed id 0."""

ParentId = Annotated[int, Field(ge=1, description="The id of the record the activity is on.")]
ParentTypeArgument = Annotated[
    ParentType, Field(description="The type of that record: person, company, lead, ...")
]


class ActivityFilters(Filters):
    """The filters of search_activities."""

    parent_type: ParentType | None = Field(
        default=None, description="Only activities on a record of this type (with parent_id)."
    )
    parent_id: int | None = Field(
        default=None, description="Only activities on the record with this id (with parent_type)."
    )
    activity_types: list[ActivityTypeRef] | None = Field(
        default=None,
        description=(
            "Only these activity types, as {id, category} (see {tool:list_activity_types}; "
            'a note is {"id": 0, "category": "user"}).'
        ),
    )
    minimum_activity_date: int | None = Field(
        default=None, description="Only activities at or after this Unix timestamp."
    )
    maximum_activity_date: int | None = Field(
        default=None, description="Only activities at or before this Unix timestamp."
    )

    def criteria(self) -> dict[str, Any]:
        """The search body: the parent as one {id, type} object."""
        if (self.parent_type is None) != (self.parent_id is None):
            raise ToolError("give parent_type and parent_id together, or neither")
        parent = None
        if self.parent_id is not None:
            parent = {"id": self.parent_id, "type": self.parent_type}
        types = self.activity_types
        return criteria(
            parent=parent,
            activity_types=[item.model_dump() for item in types] if types else None,
            minimum_activity_date=self.minimum_activity_date,
            maximum_activity_date=self.maximum_activity_date,
        )


class ActivityTools(CopperTools):
    """Search, read, log, change and delete activities."""

    search_activities = ACTIVITIES.search_tool(
        ActivityFilters,
        "Find activities, newest first: those on one record, of some types, in a period.",
    )
    get_activity = ACTIVITIES.get_tool(
        "Fetch one activity by id; a deleted one comes back as a stub with is_deleted."
    )

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
            activity_type_id: A "user" activity type (see {tool:list_activity_types}); 0 is a note.
            activity_date: When it happened, as a Unix timestamp; now by default.
        """
        body = criteria(
            parent={"id": parent_id, "type": parent_type},
            type={"id": activity_type_id, "category": "user"},
            details=details,
            activity_date=activity_date,
        )
        created = await self.copper.create("activities", body)
        done = f"Copper logged the activity with id {created['id']}"
        return self._created(Activity, created, done, "{tool:get_activity} shows it")

    update_activity = ACTIVITIES.update_tool(
        ActivityChanges,
        'Change a logged activity\'s text, date or type; only "user" activities can change.',
    )
    delete_activity = ACTIVITIES.delete_tool(
        "Delete an activity; Copper keeps a stub of it that {tool:get_activity} still returns."
    )
