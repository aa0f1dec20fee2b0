"""``ir.model`` and ``ir.model.fields``: the models that describe the models."""

from __future__ import annotations

from plugbay_odoo.fake.models.computes import (
    FIELD_TYPES,
)
from plugbay_odoo.fake.orm import (
    Field,
    Model,
    Orm,
)


def meta_models() -> list[Model]:
    """``ir.model`` and ``ir.model.fields``: the models describing the models."""
    return [
        Model(
            "ir.model",
            "Models",
            {
                "name": Field("char", "Model Description", required=True),
                "model": Field("char", "Model", required=True),
                "info": Field("text", "Information"),
                "state": Field(
                    "selection",
                    "Type",
                    default="base",
                    selection=(("manual", "Custom Object"), ("base", "Base Object")),
                ),
                "transient": Field("boolean", "Transient Model"),
                "modules": Field("char", "In Apps", store=False),
                "field_id": Field(
                    "one2many", "Fields", relation="ir.model.fields", inverse_name="model_id"
                ),
            },
            order="model",
        ),
        Model(
            "ir.model.fields",
            "Fields",
            {
                "name": Field("char", "Field Name", required=True),
                "field_description": Field("char", "Field Label", required=True),
                "model": Field("char", "Model Name", required=True),
                "model_id": Field(
                    "many2one", "Model", relation="ir.model", required=True, ondelete="cascade"
                ),
                "ttype": Field("selection", "Field Type", required=True, selection=FIELD_TYPES),
                "relation": Field("char", "Related Model"),
                "relation_field": Field("char", "Relation Field"),
                "required": Field("boolean", "Required"),
                "readonly": Field("boolean", "Readonly"),
                "store": Field("boolean", "Stored"),
                "help": Field("text", "Field Help"),
                "state": Field(
                    "selection",
                    "Type",
                    default="base",
                    selection=(("manual", "Custom Field"), ("base", "Base Field")),
                ),
            },
            order="name",
            display=lambda orm, row: str(row.get("field_description") or row.get("name")),
        ),
    ]


def describe_models(orm: Orm) -> None:
    """Fill ``ir.model`` and ``ir.model.fields`` from the model definitions."""
    for model in orm.models.values():
        model_id = orm.next_id["ir.model"]
        orm.next_id["ir.model"] += 1
        orm.tables["ir.model"][model_id] = {
            "id": model_id,
            "name": model.description,
            "model": model.name,
            "info": model.info or model.description,
            "state": "base",
            "transient": False,
            "modules": model.module,
            "create_uid": 1,
            "create_date": "2024-01-01 08:00:00",
            "write_uid": 1,
            "write_date": "2024-01-01 08:00:00",
        }
        for name, definition in model.fields.items():
            field_id = orm.next_id["ir.model.fields"]
            orm.next_id["ir.model.fields"] += 1
            orm.tables["ir.model.fields"][field_id] = {
                "id": field_id,
                "name": name,
                "field_description": definition.string,
                "model": model.name,
                "model_id": model_id,
                "ttype": definition.type,
                "relation": definition.relation or False,
                "relation_field": definition.inverse_name or False,
                "required": definition.required,
                "readonly": definition.readonly or definition.compute is not None,
                "store": definition.store,
                "help": definition.help or False,
                "state": "base",
                "create_uid": 1,
                "create_date": "2024-01-01 08:00:00",
                "write_uid": 1,
                "write_date": "2024-01-01 08:00:00",
            }
