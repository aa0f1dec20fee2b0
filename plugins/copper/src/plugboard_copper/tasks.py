"""Tools and resources for tasks."""

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
from plugboard_copper.inputs import NewTask, TaskFields
from plugboard_copper.models import Deleted, SearchPage, Task

TaskSort = Literal[
    "name", "due_date", "reminder_date", "priority", "status", "date_created", "date_modified"
]


class TaskTools(CopperTools):
    """Search, read, create, change and delete tasks."""

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Search tasks")
    async def search_tasks(
        self,
        name: str | None = None,
        statuses: list[Literal["Open", "Completed"]] | None = None,
        opportunity_ids: list[int] | None = None,
        assignee_ids: AssigneeIds = None,
        tags: Tags = None,
        minimum_due_date: int | None = None,
        maximum_due_date: int | None = None,
        ids: Ids = None,
        sort_by: TaskSort = "due_date",
        sort_direction: SortDirection = "asc",
        page_number: PageNumber = 1,
        page_size: PageSize = None,
    ) -> SearchPage[Task]:
        """Find tasks in Copper; all the filters given must match.

        Returns one page and the total number of matches; ask for the next page_number
        while has_more is true.

        Args:
            name: Part of the task's name.
            statuses: Only tasks in these statuses.
            opportunity_ids: Only tasks related to these opportunities.
            minimum_due_date: Only tasks due at or after this Unix timestamp.
            maximum_due_date: Only tasks due at or before this Unix timestamp.
            sort_by: The field to sort by.
        """
        body = criteria(
            name=name,
            statuses=statuses,
            opportunity_ids=opportunity_ids,
            assignee_ids=assignee_ids,
            tags=tags,
            minimum_due_date=minimum_due_date,
            maximum_due_date=maximum_due_date,
            ids=ids,
            sort_by=sort_by,
            sort_direction=sort_direction,
        )
        return await self._search("tasks", Task, body, page_number=page_number, page_size=page_size)

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Get task")
    async def get_task(self, task_id: RecordId) -> Task:
        """Fetch one task by id, with all its fields."""
        return Task.model_validate(await self.copper.get("tasks", task_id))

    @tool(
        read_only=False, destructive=False, idempotent=False, open_world=True, title="Create task"
    )
    async def create_task(self, task: NewTask) -> Task:
        """Create a task, optionally about another record (related_resource).

        Args:
            task: The task's fields; only name is required.
        """
        return Task.model_validate(await self.copper.create("tasks", task.body()))

    @tool(read_only=False, destructive=True, idempotent=True, open_world=True, title="Update task")
    async def update_task(self, task_id: RecordId, changes: TaskFields) -> Task:
        """Change some fields of a task (set status to Completed to complete it).

        The fields left out stay as they are; a field set to null is cleared.

        Args:
            changes: The fields to change.
        """
        body = self._changes(changes, "task")
        return Task.model_validate(await self.copper.update("tasks", task_id, body))

    @tool(read_only=False, destructive=True, idempotent=True, open_world=True, title="Delete task")
    async def delete_task(self, task_id: RecordId) -> Deleted:
        """Delete a task from Copper, permanently."""
        return Deleted.model_validate(await self.copper.delete("tasks", task_id))

    @resource("tasks/{task_id}", mime_type="application/json")
    async def task_resource(self, task_id: int) -> Task:
        """A Copper task, as JSON.

        Args:
            task_id: The task's Copper id.
        """
        return await self.get_task(task_id)
