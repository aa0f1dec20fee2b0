"""The writing methods: ``create``, ``write``, ``unlink``, x2many commands, value checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from plugbay_odoo.fake.orm.exceptions import (
    ValidationError,
    missing_records,
)
from plugbay_odoo.fake.orm.schema import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    MAGIC_FIELDS,
    TO_MANY,
    Field,
    Model,
    Row,
    now_string,
)
from plugbay_odoo.fake.orm.state import OrmState

if TYPE_CHECKING:
    from plugbay_odoo.fake.orm.engine import Orm


class WriteMethods(OrmState):
    """The ORM's writing methods (mixed into :class:`Orm`)."""

    def create(self, model: Model, vals_list: Any) -> int | list[int]:
        """``create``: one record from a dict (its id) or several from a list (their ids)."""
        self.check_access(model, "create")
        single = isinstance(vals_list, Mapping)
        values_list = [vals_list] if single else vals_list
        if not isinstance(values_list, list) or not all(
            isinstance(values, Mapping) for values in values_list
        ):
            raise TypeError("create() expects a dict of values or a list of dicts")
        ids = [self._create_one(model, dict(values)) for values in values_list]
        return ids[0] if single else ids

    def _create_one(self, model: Model, values: Row) -> int:
        self._check_values(model, values)
        record_id = self.next_id[model.name]
        self.next_id[model.name] += 1
        stamp = now_string()
        row: Row = {
            "id": record_id,
            "create_uid": self.uid,
            "create_date": stamp,
            "write_uid": self.uid,
            "write_date": stamp,
        }
        commands: dict[str, Any] = {}
        for name, definition in model.fields.items():
            if name in MAGIC_FIELDS or definition.compute is not None:
                continue
            if definition.type == "one2many":
                if name in values:
                    commands[name] = values[name]
                continue
            if name in values:
                row[name] = self._convert(model, definition, values[name], row)
            elif definition.default is not None:
                default = definition.default
                row[name] = default(self) if callable(default) else default
            else:
                row[name] = [] if definition.type == "many2many" else False
        if model.complete is not None:
            model.complete(cast("Orm", self), row)  # self: the Orm this part is in
        self._check_required(model, row)
        self.tables[model.name][record_id] = row
        for name, value in commands.items():
            self._apply_one2many(model, model.fields[name], row, value)
        return record_id

    def write(self, model: Model, ids: Sequence[int], vals: Mapping[str, Any]) -> bool:
        """``write``: set the same values on every record; ``True``."""
        self.check_access(model, "write")
        if not isinstance(vals, Mapping):
            raise TypeError("write() expects a dict of values")
        missing = [i for i in ids if i not in self.tables[model.name]]
        if missing:
            raise missing_records(model, missing, self.uid)
        values = dict(vals)
        self._check_values(model, values)
        for record_id in ids:
            row = self.tables[model.name][record_id]
            updated = dict(row)
            for name, value in values.items():
                definition = model.fields[name]
                if name in MAGIC_FIELDS or definition.compute is not None:
                    continue
                if definition.type == "one2many":
                    continue
                updated[name] = self._convert(model, definition, value, row)
            self._check_required(model, updated)
            updated["write_uid"] = self.uid
            updated["write_date"] = now_string()
            row.update(updated)
            for name, value in values.items():
                if model.fields[name].type == "one2many":
                    self._apply_one2many(model, model.fields[name], row, value)
        return True

    def unlink(self, model: Model, ids: Sequence[int]) -> bool:
        """``unlink``: delete the records, applying every ``ondelete`` rule; ``True``."""
        self.check_access(model, "unlink")
        missing = [i for i in ids if i not in self.tables[model.name]]
        if missing:
            raise missing_records(model, missing, self.uid)
        rows = [self.tables[model.name][i] for i in ids]
        if model.before_unlink is not None:
            model.before_unlink(cast("Orm", self), rows)
        self._delete(model, list(ids))
        return True

    def _delete(self, model: Model, ids: list[int]) -> None:
        doomed = set(ids)
        for other in self.models.values():
            for definition in other.fields.values():
                if definition.relation != model.name or definition.compute is not None:
                    continue
                if definition.type == "many2many":
                    for row in self.tables[other.name].values():
                        if row.get(definition.name):
                            row[definition.name] = [
                                i for i in row[definition.name] if i not in doomed
                            ]
                    continue
                if definition.type != "many2one" or definition.name in MAGIC_FIELDS:
                    continue
                referring = [
                    row for row in self.tables[other.name].values()
                    if row.get(definition.name) in doomed
                    and not (other.name == model.name and row["id"] in doomed)
                ]  # fmt: skip
                if not referring:
                    continue
                policy = definition.ondelete or ("restrict" if definition.required else "set null")
                if policy == "cascade":
                    self._delete(other, [row["id"] for row in referring])
                elif policy == "restrict":
                    raise ValidationError(
                        "The operation cannot be completed: another model requires the record "
                        "being deleted. If possible, archive it instead.\n\n"
                        f"Model: {other.description} ({other.name}), "
                        f"Field: {definition.string} ({definition.name})"
                    )
                else:
                    for row in referring:
                        row[definition.name] = False
        for record_id in ids:
            self.tables[model.name].pop(record_id, None)

    # -- writing helpers ---------------------------------------------------------------

    def _check_values(self, model: Model, values: Mapping[str, Any]) -> None:
        for name in values:
            if not isinstance(name, str) or name not in model.fields:
                raise ValueError(f"Invalid field {name!r} on model {model.name!r}")

    def _check_required(self, model: Model, row: Row) -> None:
        for name, definition in model.fields.items():
            if not definition.required or definition.compute is not None:
                continue
            if definition.type in TO_MANY:
                continue
            if row.get(name) in (None, False, ""):
                raise ValidationError(
                    "The operation cannot be completed:\n"
                    "- Create/update: a mandatory field is not set.\n"
                    "- Delete: another model requires the record being deleted. "
                    "If possible, archive it instead.\n\n"
                    f"Model: {model.description} ({model.name})\n"
                    f"Field: {definition.string} ({name})\n"
                )

    def _convert(self, model: Model, definition: Field, value: Any, row: Row) -> Any:
        kind = definition.type
        if value is None:
            value = False
        if kind == "selection" and value is not False:
            allowed = [key for key, _label in definition.selection]
            if value not in allowed:
                raise ValueError(f"Wrong value for {model.name}.{definition.name}: {value!r}")
        elif kind == "many2one" and value is not False:
            if isinstance(value, list | tuple) and value:
                value = value[0]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(
                    f"Wrong value for {model.name}.{definition.name}: {value!r} (an id is expected)"
                )
            comodel = self.models[definition.relation or ""]
            if value not in self.tables[comodel.name]:
                raise missing_records(comodel, [value], self.uid)
        elif kind == "many2many":
            return self._apply_many2many(definition, value, list(row.get(definition.name) or []))
        elif kind in ("integer",) and value is not False:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Wrong value for {model.name}.{definition.name}: {value!r}")
        elif kind in ("float", "monetary") and value is not False:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"Wrong value for {model.name}.{definition.name}: {value!r}")
            value = float(value)
        elif kind == "date" and value is not False:
            value = _check_date(model, definition, value, DATE_FORMAT)
        elif kind == "datetime" and value is not False:
            value = _check_date(model, definition, value, DATETIME_FORMAT)
        elif kind == "boolean":
            value = bool(value)
        elif kind in ("char", "text", "html", "binary") and value is not False:
            value = _check_text(model, definition, value)
        return value

    def _apply_many2many(self, definition: Field, commands: Any, current: list[int]) -> list[int]:
        comodel = self.models[definition.relation or ""]
        ids = list(current)
        for command in _commands(commands):
            code = command[0]
            if code == 6:
                ids = list(command[2] or [])
            elif code == 5:
                ids = []
            elif code == 4 and command[1] not in ids:
                ids.append(command[1])
            elif code == 3 and command[1] in ids:
                ids.remove(command[1])
            elif code == 0:
                ids.append(self._create_one(comodel, dict(command[2])))
            elif code in (1, 2):
                if code == 1:
                    self.write(comodel, [command[1]], command[2])
                else:
                    self.unlink(comodel, [command[1]])
                    ids = [i for i in ids if i != command[1]]
        for record_id in ids:
            if record_id not in self.tables[comodel.name]:
                raise missing_records(comodel, [record_id], self.uid)
        return ids

    def _apply_one2many(self, model: Model, definition: Field, row: Row, commands: Any) -> None:
        comodel = self.models[definition.relation or ""]
        inverse = definition.inverse_name or ""
        for command in _commands(commands):
            code = command[0]
            if code == 0:
                self._create_one(comodel, {**dict(command[2]), inverse: row["id"]})
            elif code == 1:
                self.write(comodel, [command[1]], command[2])
            elif code in (2, 3):
                if code == 2 or comodel.fields[inverse].required:
                    self.unlink(comodel, [command[1]])
                else:
                    self.write(comodel, [command[1]], {inverse: False})
            elif code == 4:
                self.write(comodel, [command[1]], {inverse: row["id"]})
            elif code in (5, 6):
                keep = set(command[2] or []) if code == 6 else set()
                for other in list(self.tables[comodel.name].values()):
                    if other.get(inverse) == row["id"] and other["id"] not in keep:
                        if comodel.fields[inverse].required:
                            self.unlink(comodel, [other["id"]])
                        else:
                            other[inverse] = False
                for record_id in keep:
                    self.write(comodel, [record_id], {inverse: row["id"]})


def _commands(value: Any) -> list[tuple[Any, ...]]:
    if value in (False, None):
        return [(5, 0, 0)]
    if not isinstance(value, list | tuple):
        raise ValueError(f"Wrong value for an x2many field: {value!r}")
    if value and all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        return [(6, 0, list(value))]
    commands = []
    for item in value:
        if not isinstance(item, list | tuple) or not item or item[0] not in range(7):
            raise ValueError(f"Invalid x2many command {item!r}")
        padded = tuple(item) + (0,) * (3 - len(item))
        commands.append(padded)
    return commands


def _check_text(model: Model, definition: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Wrong value for {model.name}.{definition.name}: {value!r}")
    return value


def _check_date(model: Model, definition: Field, value: Any, form: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Wrong value for {model.name}.{definition.name}: {value!r}")
    try:
        if definition.type == "datetime" and len(value) == 10:
            value = f"{value} 00:00:00"
        datetime.strptime(str(value), form)
    except ValueError:
        raise ValueError(
            f"time data {value!r} does not match format {form!r} ({model.name}.{definition.name})"
        ) from None
    return str(value)
