"""Tools that change records: create, write and unlink, each under its own permission."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from plugbay import ToolError, tool
from plugbay_odoo.arguments import IdsArgument, ModelArgument
from plugbay_odoo.instance import OdooInstance
from plugbay_odoo.results import Changed
from plugbay_odoo.validation import check_values


class RecordWriting(OdooInstance):
    """``create``, ``write`` and ``unlink``."""

    @tool(
        read_only=False,
        destructive=False,
        idempotent=False,
        open_world=False,
        title="Create records",
    )
    async def create(
        self,
        model: ModelArgument,
        values: Annotated[
            dict[str, Any] | list[dict[str, Any]],
            Field(
                description='The new record\'s field values, e.g. {"name": "Acme", '
                '"is_company": true}, or a list of them to create several. Many2one fields '
                "take an id; x2many fields a list of ids or Odoo commands."
            ),
        ],
    ) -> Changed:
        """Create one or more records; returns their ids."""
        known = await self._prepare(model, "create")
        batch = values if isinstance(values, list) else [values]
        if not batch:
            raise ToolError("values is an empty list: give at least one record")
        if len(batch) > self.settings.max_records:
            raise ToolError(
                f"{len(batch)} records are more than this instance creates in one call "
                f"(max_records = {self.settings.max_records})"
            )
        checked = [check_values(model, record, known, self.policy) for record in batch]
        created = await self.client.execute(model, "create", [checked], idempotent=False)
        ids = [created] if isinstance(created, int) else list(created or [])
        return {"model": model, "ids": [int(record_id) for record_id in ids]}

    @tool(
        read_only=False, destructive=True, idempotent=True, open_world=False, title="Update records"
    )
    async def write(
        self,
        model: ModelArgument,
        ids: IdsArgument,
        values: Annotated[
            dict[str, Any],
            Field(description='Field values to set on every record, e.g. {"phone": "+32 2 ..."}.'),
        ],
    ) -> Changed:
        """Set field values on records (overwriting what was there)."""
        known = await self._prepare(model, "write")
        unique = self._check_ids(ids)
        checked = check_values(model, values, known, self.policy)
        await self.client.execute(model, "write", [unique], {"vals": checked}, idempotent=True)
        return {"model": model, "ids": unique}

    @tool(
        read_only=False, destructive=True, idempotent=True, open_world=False, title="Delete records"
    )
    async def unlink(self, model: ModelArgument, ids: IdsArgument) -> Changed:
        """Delete records. This cannot be undone; Odoo may refuse (e.g. a confirmed order)."""
        await self._prepare(model, "unlink")
        unique = self._check_ids(ids)
        await self.client.execute(model, "unlink", [unique], idempotent=True)
        return {"model": model, "ids": unique}
