"""Tools that list what the other tools need ids for: users, pipelines, types, fields."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from plugbay import resource, tool
from plugbay_copper.base import CopperTools
from plugbay_copper.models import (
    Account,
    ActivityType,
    ActivityTypes,
    CustomFieldDefinition,
    CustomFields,
    Pipeline,
    Pipelines,
    PipelineStage,
    User,
    Users,
)
from plugbay_copper.settings import MAX_PAGE_SIZE
from plugbay_http import paginate_pages

MaxUsers = Annotated[int, Field(ge=1, le=10_000, description="The most users to return.")]


class LookupTools(CopperTools):
    """The account, its users, pipelines, activity types and custom fields."""

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="Get account")
    async def get_account(self) -> Account:
        """The Copper account the API key belongs to: its name, id and time zone."""
        return Account.model_validate(await self.copper.get_json("/account"))

    @tool(read_only=True, destructive=False, idempotent=True, open_world=True, title="List users")
    async def list_users(self, limit: MaxUsers = 1000) -> Users:
        """List the account's users: their ids (for assignee_id), names and emails."""
        total: int | None = None

        async def page(number: int) -> list[dict[str, Any]]:
            nonlocal total
            result = await self.copper.list_users(number, MAX_PAGE_SIZE)
            total = result.total
            return result.items

        users = [
            User.model_validate(item)
            async for item in paginate_pages(page, page_size=MAX_PAGE_SIZE, max_items=limit)
        ]
        return Users(users=users, total=total)

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=True, title="List pipelines"
    )
    async def list_pipelines(self) -> Pipelines:
        """List the opportunity pipelines with their stages, in order, and win probabilities."""
        pipelines = [
            Pipeline.model_validate(item) for item in await self.copper.get_json("/pipelines")
        ]
        for pipeline in pipelines:
            pipeline.stages = [
                PipelineStage.model_validate({**stage.model_dump(), "pipeline_id": pipeline.id})
                for stage in pipeline.stages
            ]
        return Pipelines(pipelines=pipelines)

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=True,
        title="List activity types",
    )
    async def list_activity_types(self) -> ActivityTypes:
        """List the activity types: "user" ones can be logged (a note is id 0)."""
        payload = await self.copper.get_json("/activity_types")
        # Copper groups the types by category; accept a flat list too.
        items = (
            [item for group in payload.values() for item in group]
            if isinstance(payload, dict)
            else payload
        )
        return ActivityTypes(activity_types=[ActivityType.model_validate(i) for i in items])

    @tool(
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=True,
        title="List custom fields",
    )
    async def list_custom_fields(self) -> CustomFields:
        """List the custom field definitions: ids, types, options, and where they apply."""
        payload = await self.copper.get_json("/custom_field_definitions")
        return CustomFields(
            custom_fields=[CustomFieldDefinition.model_validate(item) for item in payload]
        )

    @resource("pipelines", mime_type="application/json")
    async def pipelines_resource(self) -> Pipelines:
        """The account's opportunity pipelines and their stages, as JSON."""
        return await self.list_pipelines()
