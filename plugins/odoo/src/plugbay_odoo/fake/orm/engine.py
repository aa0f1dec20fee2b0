"""The records engine: models, access checks, values as the ORM reads them, ordering."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from plugbay_odoo.fake.orm.domains import (
    DomainMatching,
)
from plugbay_odoo.fake.orm.exceptions import (
    AccessError,
    UserError,
)
from plugbay_odoo.fake.orm.grouping import ReadGroup
from plugbay_odoo.fake.orm.reading import ReadMethods
from plugbay_odoo.fake.orm.schema import (
    OPERATION_VERBS,
    TO_MANY,
    Field,
    Model,
    Row,
)
from plugbay_odoo.fake.orm.writing import WriteMethods

# -- the engine ----------------------------------------------------------------------------


class Orm(DomainMatching, ReadMethods, WriteMethods, ReadGroup):
    """The records of every model, and the ORM methods over them.

    Args:
        models: The model definitions, by technical name.
        is_admin: Tells whether a user id has every right (for field groups).
        can: ``can(uid, model, operation)``: the user's access right on a model.
    """

    def __init__(
        self,
        models: Iterable[Model],
        *,
        is_admin: Callable[[int], bool],
        can: Callable[[int, str, str], bool],
    ) -> None:
        self.models = {model.name: model for model in models}
        self.tables: dict[str, dict[int, Row]] = {name: {} for name in self.models}
        self.next_id: dict[str, int] = dict.fromkeys(self.models, 1)
        self._is_admin = is_admin
        self._can = can
        self.uid = 1
        """The user of the call being run (set by :meth:`execute`)."""

    # -- access ------------------------------------------------------------------------

    def model(self, name: str) -> Model:
        """The model ``name``, or Odoo's error for an unknown one."""
        model = self.models.get(name)
        if model is None:
            raise UserError(f"Object {name} doesn't exist")
        return model

    def check_access(self, model: Model, operation: str) -> None:
        """Raise Odoo's ``AccessError`` when the current user lacks ``operation`` on ``model``."""
        if self._can(self.uid, model.name, operation):
            return
        raise AccessError(
            f"You are not allowed to {OPERATION_VERBS[operation]} '{model.description}' "
            f"({model.name}) records.\n\nThis operation is allowed for the following groups:\n"
            "\t- Administration/Settings\n\n"
            "Contact your administrator to request access if necessary."
        )

    def _readable(self, model: Model, definition: Field) -> bool:
        return definition.groups is None or self._is_admin(self.uid)

    def _check_fields_readable(self, model: Model, names: Iterable[str]) -> None:
        restricted = [name for name in names if not self._readable(model, model.fields[name])]
        if restricted:
            lines = "\n".join(
                f"- {name} (allowed for groups '{model.fields[name].groups}')"
                for name in restricted
            )
            raise AccessError(
                "The requested operation can not be completed due to security restrictions."
                f"\n\nDocument type: {model.description} ({model.name})\nOperation: read\n"
                f"User: {self.uid}\nFields:\n{lines}"
            )

    # -- values ------------------------------------------------------------------------

    def row(self, model: str, record_id: int) -> Row | None:
        """The stored record, or ``None``."""
        return self.tables[model].get(record_id)

    def value(self, model: Model, row: Row, name: str) -> Any:
        """A field's raw value: computed when the field computes, ``False`` when empty."""
        definition = model.fields[name]
        if name == "display_name":
            return self.display_name(model, row)
        if definition.compute is not None:
            return definition.compute(self, row)
        if definition.type == "one2many":
            comodel = self.models[definition.relation or ""]
            inverse = definition.inverse_name or ""
            ids = [
                other["id"] for other in self.tables[comodel.name].values()
                if other.get(inverse) == row["id"]
            ]  # fmt: skip
            return self._ordered_ids(comodel, ids)
        value = row.get(name, False)
        if value is None:
            return False
        if definition.type == "many2many":
            return list(value or [])
        return value

    def display_name(self, model: Model, row: Row) -> str:
        """The record's display name, as ``name_get`` used to give it."""
        if model.display is not None:
            return str(model.display(self, row))
        value = row.get(model.rec_name)
        return str(value) if value not in (None, False) else f"{model.name},{row['id']}"

    def _related_ids(self, model: Model, row: Row, definition: Field) -> list[int]:
        value = self.value(model, row, definition.name)
        if definition.type == "many2one":
            return [value] if value else []
        return list(value or [])

    def _read_value(self, model: Model, row: Row, name: str) -> Any:
        definition = model.fields[name]
        value = self.value(model, row, name)
        if definition.type == "many2one":
            if not value:
                return False
            comodel = self.models[definition.relation or ""]
            target = self.tables[comodel.name].get(value)
            if target is None:
                return False
            return [value, self.display_name(comodel, target)]
        if definition.type in TO_MANY:
            return list(value)
        if value is None:
            return False
        return value

    # -- ordering ----------------------------------------------------------------------

    def _sort(self, model: Model, rows: list[Row], order: str | None) -> list[Row]:
        terms = _parse_order(model, order or model.order)
        result = sorted(rows, key=lambda row: row["id"])
        for name, descending in reversed(terms):
            keys = {row["id"]: self._sort_key(model, row, name) for row in result}
            result.sort(key=lambda row: keys[row["id"]], reverse=descending)
        return result

    def _sort_key(self, model: Model, row: Row, name: str) -> tuple[int, Any]:
        definition = model.fields[name]
        value = self.value(model, row, name)
        if definition.type == "many2one":
            value = self._rank(model, definition).get(value) if value else None
        if value is False and definition.type != "boolean":
            value = None
        if isinstance(value, list):
            value = len(value)
        # PostgreSQL puts NULLs last in ascending order (and first in descending).
        return (1, 0) if value is None else (0, value)

    def _rank(self, model: Model, definition: Field) -> dict[int, Any]:
        """Where each record of a many2one's comodel sorts: by the comodel's own order."""
        comodel = self.models[definition.relation or ""]
        rows = list(self.tables[comodel.name].values())
        if comodel.name == model.name:
            # Ordering a model by a field pointing to itself: by display name, no recursion.
            return {row["id"]: self.display_name(comodel, row) for row in rows}
        return {row["id"]: index for index, row in enumerate(self._sort(comodel, rows, None))}

    def _ordered_ids(self, model: Model, ids: Iterable[int]) -> list[int]:
        rows = [self.tables[model.name][i] for i in ids if i in self.tables[model.name]]
        return [row["id"] for row in self._sort(model, rows, None)]


def _parse_order(model: Model, order: str) -> list[tuple[str, bool]]:
    terms = []
    for part in order.split(","):
        words = part.split()
        if not words:
            continue
        name = words[0]
        if name not in model.fields:
            raise ValueError(f"Invalid field {name!r} on model {model.name!r}")
        direction = words[1].lower() if len(words) > 1 else "asc"
        if direction not in ("asc", "desc") or len(words) > 4:
            raise ValueError(f"Invalid order {order!r} for model {model.name!r}")
        terms.append((name, direction == "desc"))
    return terms
