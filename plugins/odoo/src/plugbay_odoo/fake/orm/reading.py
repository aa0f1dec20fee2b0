"""The reading methods: ``search``, ``read``, ``search_read``, ``name_search``, ``fields_get``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plugbay_odoo.fake.orm.domains import compare_scalar
from plugbay_odoo.fake.orm.exceptions import (
    AccessError,
    missing_records,
)
from plugbay_odoo.fake.orm.schema import (
    NUMERIC,
    OPERATION_VERBS,
    RELATIONAL,
    TO_MANY,
    Field,
    Model,
    Row,
)
from plugbay_odoo.fake.orm.state import OrmState


class ReadMethods(OrmState):
    """The ORM's reading methods (mixed into :class:`Orm`)."""

    # -- ORM methods -------------------------------------------------------------------

    def search(
        self,
        model: Model,
        domain: Any,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """``search``: the ids matching ``domain``, ordered and paged."""
        self.check_access(model, "read")
        rows = self._sort(model, self._search_rows(model, domain, context), order)
        rows = rows[offset or 0 :]
        if limit:
            rows = rows[:limit]
        return [row["id"] for row in rows]

    def search_count(
        self,
        model: Model,
        domain: Any,
        limit: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> int:
        """``search_count``: how many records match."""
        self.check_access(model, "read")
        count = len(self._search_rows(model, domain, context))
        return min(count, limit) if limit else count

    def read(
        self, model: Model, ids: Sequence[int], fields: Sequence[str] | None = None
    ) -> list[Row]:
        """``read``: the records' values, in the order of ``ids``."""
        self.check_access(model, "read")
        names = self._field_names(model, fields)
        missing = [i for i in ids if i not in self.tables[model.name]]
        if missing:
            raise missing_records(model, missing, self.uid)
        result = []
        for record_id in ids:
            row = self.tables[model.name][record_id]
            record: Row = {"id": record_id}
            for name in names:
                if name != "id":
                    record[name] = self._read_value(model, row, name)
            result.append(record)
        return result

    def _field_names(self, model: Model, fields: Sequence[str] | None) -> list[str]:
        if not fields:
            return [
                name
                for name, definition in model.fields.items()
                if self._readable(model, definition)
            ]
        for name in fields:
            if not isinstance(name, str) or name not in model.fields:
                raise ValueError(f"Invalid field {name!r} on model {model.name!r}")
        self._check_fields_readable(model, fields)
        return list(dict.fromkeys(fields))

    def search_read(
        self,
        model: Model,
        domain: Any = None,
        fields: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Row]:
        """``search_read``: ``search`` then ``read``."""
        ids = self.search(model, domain, offset=offset, limit=limit, order=order, context=context)
        return self.read(model, ids, fields)

    def name_search(
        self,
        model: Model,
        name: str = "",
        domain: Any = None,
        operator: str = "ilike",
        limit: int | None = 100,
        context: Mapping[str, Any] | None = None,
    ) -> list[list[Any]]:
        """``name_search``: ``[id, display_name]`` pairs whose name matches ``name``."""
        self.check_access(model, "read")
        rows = self._search_rows(model, domain, context)
        if name:
            text_field = Field("char", "Name", name="display_name")
            rows = [
                row for row in rows
                if compare_scalar(text_field, self.display_name(model, row), operator, name)
            ]  # fmt: skip
        rows = self._sort(model, rows, None)
        if limit:
            rows = rows[:limit]
        return [[row["id"], self.display_name(model, row)] for row in rows]

    def fields_get(
        self,
        model: Model,
        allfields: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """``fields_get``: each field's description, without the ones the user may not read."""
        result: dict[str, dict[str, Any]] = {}
        for name, definition in model.fields.items():
            if allfields and name not in allfields:
                continue
            if not self._readable(model, definition):
                continue
            description = _describe(definition)
            if attributes:
                description = {key: description[key] for key in attributes if key in description}
            result[name] = description
        return result

    def check_access_rights(
        self, model: Model, operation: str, raise_exception: bool = True
    ) -> bool:
        """``check_access_rights``: whether the user has ``operation`` on the model."""
        if operation not in OPERATION_VERBS:
            raise ValueError(f"Invalid access mode {operation!r}")
        try:
            self.check_access(model, operation)
        except AccessError:
            if raise_exception:
                raise
            return False
        return True


def _describe(definition: Field) -> dict[str, Any]:
    description: dict[str, Any] = {
        "type": definition.type,
        "string": definition.string,
        "required": definition.required,
        "readonly": definition.readonly or definition.compute is not None,
        "store": definition.store,
        "sortable": definition.store and definition.type not in TO_MANY | {"binary"},
        "searchable": True,
        "groupable": definition.store
        and definition.type not in TO_MANY | {"binary", "text", "html"},
        "name": definition.name,
        "manual": False,
        "company_dependent": False,
        "depends": [],
        "exportable": True,
    }
    if definition.help:
        description["help"] = definition.help
    if definition.type in RELATIONAL:
        description["relation"] = definition.relation
        description["context"] = {}
        description["domain"] = []
    if definition.type == "one2many":
        description["relation_field"] = definition.inverse_name
    if definition.type == "selection":
        description["selection"] = [list(pair) for pair in definition.selection]
    if definition.type in NUMERIC:
        description["aggregator"] = definition.aggregator or "sum"
    if definition.type == "monetary":
        description["currency_field"] = "currency_id"
    if definition.groups:
        description["groups"] = definition.groups
    return description
