"""Tools that show which models the instance may use, and their fields."""

# list_models documents its limit only: the search argument is described in its
# Annotated type, which reaches clients in the input schema.
# ruff: noqa: D417

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from plugbay import tool
from plugbay_odoo.arguments import MAX_LISTED_MODELS, ModelArgument
from plugbay_odoo.instance import OdooInstance
from plugbay_odoo.results import FieldDescription, ModelDescription, ModelList
from plugbay_odoo.schema import ModelInfo


class ModelDiscovery(OdooInstance):
    """``list_models`` and ``describe_model``."""

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="List models")
    async def list_models(
        self,
        search: Annotated[
            str | None,
            Field(
                description="Keep models whose technical name or description contains this "
                "text (case-insensitive), e.g. 'partner' or 'invoice'."
            ),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LISTED_MODELS)] = 100,
    ) -> ModelList:
        """List the Odoo models this instance may use, with what it may do with each.

        Args:
            limit: The most models to list.
        """
        models = await self._visible_models()
        if search:
            needle = search.lower()
            models = [
                info
                for info in models
                if needle in info.model.lower() or needle in info.name.lower()
            ]
        models.sort(key=lambda info: info.model)
        return {
            "models": [self._summary(info) for info in models[:limit]],
            "total": len(models),
            "truncated": len(models) > limit,
        }

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Describe model"
    )
    async def describe_model(self, model: ModelArgument) -> ModelDescription:
        """Describe a model's fields: type, label, relation, required, read-only, selection values.

        Sensitive fields (passwords, tokens, keys) are left out: they cannot be used.
        """
        if not self.policy.visible(model):
            self.policy.require(model, "read")
        fields = await self._fields(model)
        models = await self._models_or_none()
        info = (models or {}).get(model)
        described: list[FieldDescription] = []
        for name, field in fields.items():
            if self.policy.is_hidden(model, name):
                continue
            entry: FieldDescription = {
                "name": name,
                "type": field.type,
                "string": field.string,
                "required": field.required,
                "readonly": field.readonly,
                "stored": field.store,
            }
            if field.relation:
                entry["relation"] = field.relation
            if field.selection is not None:
                entry["selection"] = [[key, label] for key, label in field.selection]
            if field.help:
                entry["help"] = field.help
            described.append(entry)
        summary = self._summary(info or ModelInfo(model, model))
        return {**summary, "fields": described}
