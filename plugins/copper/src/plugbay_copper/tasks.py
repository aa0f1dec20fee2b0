"""Tools and resources for tasks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from plugbay_copper.base import (
    SORT_BY,
    AssigneeIds,
    CopperTools,
    Filters,
    Ids,
    SortDirection,
    Tags,
)
from plugbay_copper.inputs import NewTask, TaskFields
from plugbay_copper.models import Task
from plugbay_copper.record_tools import RecordType

TASKS = RecordType("tasks", "task", Task)

TaskSort = Literal[
    "name", "due_date", "reminder_date", "priority", "status", "date_created", "date_modified"
]


class TaskFilters(Filters):
    """The filters of search_tasks."""

    name: str | None = Field(default=None, description="Part of the task's name.")
    statuses: list[Literal["Open", "Completed"]] | None = Field(
        default=None, description="Only tasks in these statuses."
    )
    opportunity_ids: list[int] | None = Field(
        default=None, description="Only tasks related to these opportunities."
    )
    assignee_ids: AssigneeIds = None
    tags: Tags = None
    minimum_due_date: int | None = Field(
        default=None, description="Only tasks due at or after this Unix timestamp."
    )
    maximum_due_date: int | None = Field(
        default=None, description="Only tasks due at or before this Unix timestamp."
    )
    ids: Ids = None
    sort_by: TaskSort = Field(default="due_date", description=SORT_BY)
    sort_direction: SortDirection = "asc"


class TaskTools(CopperTools):
    """Search, read, create, change and delete tasks."""

    search_tasks = TASKS.search_tool(TaskFilters)
    get_task = TASKS.get_tool()
    create_task = TASKS.create_tool(
        NewTask, "Create a task, optionally about another record (related_resource)."
    )
    update_task = TASKS.update_tool(
        TaskFields,
        "Change some fields of a task (set status to Completed to complete it).\n\n"
        "The fields left out stay as they are; a field set to null is cleared.",
    )
    delete_task = TASKS.delete_tool()
    task_resource = TASKS.resource()
