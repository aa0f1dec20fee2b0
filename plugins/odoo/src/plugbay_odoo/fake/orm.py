"""The records engine of the fake Odoo: fields, models, domains and the ORM methods.

It reproduces what Odoo's ORM shows through the external API, from the ORM reference
(https://www.odoo.com/documentation/18.0/developer/reference/backend/orm.html):

* Domains: lists of ``[field, operator, value]`` terms in prefix notation with ``&``
  (the default between terms), ``|`` and ``!``; field paths through relations
  (``partner_id.name``; on to-many fields "any of them"); the operators ``=``,
  ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``=?``, ``in``, ``not in``, ``like``,
  ``not like``, ``ilike``, ``not ilike``, ``=like``, ``=ilike``, ``child_of``,
  ``parent_of``, ``any`` and ``not any``; ``like``/``ilike`` wrap the value in ``%``;
  negative operators also match empty values; records with ``active = False`` are left
  out unless the domain names ``active``. Bad domains fail as Odoo fails: a
  ``ValueError`` naming the term.
* Values as the ORM reads them: ``False`` for empty, many2one as ``[id, display_name]``,
  to-many as id lists, dates as ``"YYYY-MM-DD"`` and datetimes as
  ``"YYYY-MM-DD HH:MM:SS"`` strings (UTC).
* The public methods: ``search``, ``search_read``, ``search_count``, ``read``,
  ``create`` (one dict or a list), ``write``, ``unlink``, ``name_search``,
  ``read_group`` (``field:aggregate`` specs, ``field:granularity`` group-bys,
  ``lazy``, ``__count``/``<field>_count``, ``__domain``, ``__range``), ``fields_get``
  and ``check_access_rights``; the x2many commands ``(0, 0, vals)`` ... ``(6, 0, ids)``;
  required fields, selection values and ``ondelete`` rules enforced on writes.
* The exceptions of ``odoo.exceptions`` (``UserError``, ``ValidationError``,
  ``MissingError``, ``AccessError``, ``AccessDenied``) with Odoo's messages, and Python
  errors (``ValueError``, ``TypeError``, ``AttributeError``) for programming mistakes,
  which the server turns into faults exactly as Odoo does.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

Row = dict[str, Any]
"""One stored record: raw values (many2one as an id or ``False``, many2many as id lists)."""

RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
TO_MANY = frozenset({"one2many", "many2many"})
NUMERIC = frozenset({"integer", "float", "monetary"})
FIELD_TYPES = frozenset(
    {
        "char", "text", "html", "integer", "float", "monetary", "boolean", "date",
        "datetime", "selection", "many2one", "one2many", "many2many", "binary",
    }
)  # fmt: skip
OPERATORS = frozenset(
    {
        "=", "!=", "<>", "<", "<=", ">", ">=", "=?", "in", "not in", "like", "not like",
        "ilike", "not ilike", "=like", "=ilike", "child_of", "parent_of", "any", "not any",
    }
)  # fmt: skip
NEGATIVE = {"!=": "=", "<>": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}
AGGREGATES = frozenset(
    {"sum", "avg", "min", "max", "count", "count_distinct", "bool_and", "bool_or", "array_agg"}
)
GRANULARITIES = ("day", "week", "month", "quarter", "year")
MAGIC_FIELDS = ("id", "display_name", "create_uid", "create_date", "write_uid", "write_date")
OPERATION_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


# -- odoo.exceptions ---------------------------------------------------------------------


class OdooError(Exception):
    """An exception of ``odoo.exceptions``: its qualified name and XML-RPC fault code."""

    odoo_name = "odoo.exceptions.UserError"
    fault_code = 2


class UserError(OdooError):
    """``odoo.exceptions.UserError``: the user asked for something the business rules refuse."""


class ValidationError(UserError):
    """``odoo.exceptions.ValidationError``: a constraint failed."""

    odoo_name = "odoo.exceptions.ValidationError"


class MissingError(UserError):
    """``odoo.exceptions.MissingError``: a record does not exist (any more)."""

    odoo_name = "odoo.exceptions.MissingError"


class AccessError(UserError):
    """``odoo.exceptions.AccessError``: the user lacks the access rights."""

    odoo_name = "odoo.exceptions.AccessError"
    fault_code = 4


class AccessDenied(UserError):
    """``odoo.exceptions.AccessDenied``: wrong login, password or API key."""

    odoo_name = "odoo.exceptions.AccessDenied"
    fault_code = 3

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


# -- models and fields -------------------------------------------------------------------

Compute = Callable[["Orm", Row], Any]
Method = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Field:
    """A field definition, shaped like what ``fields_get`` describes."""

    type: str
    string: str
    required: bool = False
    readonly: bool = False
    store: bool = True
    relation: str | None = None
    inverse_name: str | None = None
    """For one2many: the many2one field on ``relation`` that points back."""
    selection: tuple[tuple[str, str], ...] = ()
    help: str = ""
    default: Any = None
    """A value, or ``callable(orm) -> value``."""
    compute: Compute | None = None
    ondelete: str | None = None
    groups: str | None = None
    """Readable only by administrators when set (the group's name, for messages)."""
    aggregator: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r}")


@dataclass(frozen=True, slots=True)
class ModelMethod:
    """A public business method (``action_confirm``) and the access it needs."""

    function: Method
    operation: str = "write"
    on_records: bool = True


@dataclass
class Model:
    """A model: its technical name, description, fields and behaviour."""

    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    parent_name: str | None = None
    info: str = ""
    module: str = "base"
    display: Compute | None = None
    methods: dict[str, ModelMethod] = field(default_factory=dict)
    complete: Callable[[Orm, Row], None] | None = None
    """Fills in values that depend on others (a line's name from its product) on create."""
    before_unlink: Callable[[Orm, list[Row]], None] | None = None

    def __post_init__(self) -> None:
        fields = {
            "id": Field("integer", "ID", readonly=True),
            "display_name": Field("char", "Display Name", readonly=True, store=False),
            **self.fields,
            "create_uid": Field("many2one", "Created by", readonly=True, relation="res.users"),
            "create_date": Field("datetime", "Created on", readonly=True),
            "write_uid": Field("many2one", "Last Updated by", readonly=True, relation="res.users"),
            "write_date": Field("datetime", "Last Updated on", readonly=True),
        }
        self.fields = {name: replace(definition, name=name) for name, definition in fields.items()}


def now_string() -> str:
    """The current UTC time as Odoo writes datetimes."""
    return datetime.now(UTC).strftime(DATETIME_FORMAT)


# -- domains -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Leaf:
    path: str
    operator: str
    value: Any
    raw: Any


Node = tuple[Any, ...]
"""A parsed domain: ``("&", a, b)``, ``("|", a, b)``, ``("!", a)``, ``("leaf", _Leaf)``,
``("true",)`` or ``("false",)``."""


def parse_domain(domain: Any) -> Node:
    """Parse a domain into a tree, failing on bad syntax as Odoo does (``ValueError``)."""
    if domain in (None, False):
        return ("true",)
    if not isinstance(domain, list | tuple):
        raise ValueError(f"Invalid domain: {domain!r}")
    items = list(domain)
    if not items:
        return ("true",)
    position = 0

    def parse() -> Node:
        nonlocal position
        if position >= len(items):
            raise ValueError(f"Domain {items!r} is syntactically not correct.")
        token = items[position]
        position += 1
        if token in ("&", "|"):
            left = parse()
            return (token, left, parse())
        if token == "!":  # noqa: S105 - the NOT operator, not a password
            return ("!", parse())
        return _leaf(token)

    nodes = [parse()]
    while position < len(items):
        nodes.append(parse())
    tree = nodes[-1]
    for node in reversed(nodes[:-1]):
        tree = ("&", node, tree)
    return tree


def _leaf(token: Any) -> Node:
    if isinstance(token, list | tuple) and len(token) == 3:
        left, operator, value = token
        if (left, operator, value) == (1, "=", 1):
            return ("true",)
        if (left, operator, value) == (0, "=", 1):
            return ("false",)
        if isinstance(left, str) and isinstance(operator, str):
            operator = operator.lower()
            if operator not in OPERATORS:
                raise ValueError(f"Invalid operator {operator!r} in domain term {list(token)!r}")
            return ("leaf", _Leaf(left, operator, value, list(token)))
    raise ValueError(f"Invalid leaf {token!r}")


def _like(pattern: str, value: str, *, insensitive: bool) -> bool:
    regex = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )
    flags = re.IGNORECASE | re.DOTALL if insensitive else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


def _names_domain(node: Node) -> set[str]:
    if node[0] == "leaf":
        return {node[1].path.split(".")[0]}
    return {name for child in node[1:] if isinstance(child, tuple) for name in _names_domain(child)}


# -- the engine ----------------------------------------------------------------------------


class Orm:
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

    # -- domains -----------------------------------------------------------------------

    def matches(self, model: Model, row: Row, node: Node) -> bool:
        """Whether ``row`` satisfies the parsed domain ``node``."""
        kind = node[0]
        if kind == "true":
            return True
        if kind == "false":
            return False
        if kind == "&":
            return self.matches(model, row, node[1]) and self.matches(model, row, node[2])
        if kind == "|":
            return self.matches(model, row, node[1]) or self.matches(model, row, node[2])
        if kind == "!":
            return not self.matches(model, row, node[1])
        leaf: _Leaf = node[1]
        return self._match_path(model, row, leaf.path, leaf.operator, leaf.value, leaf)

    def check_domain(self, model: Model, node: Node) -> None:
        """Raise Odoo's ``ValueError`` for unknown fields in a parsed domain."""
        if node[0] == "leaf":
            leaf: _Leaf = node[1]
            current = model
            parts = leaf.path.split(".")
            for index, part in enumerate(parts):
                definition = current.fields.get(part)
                if definition is None:
                    raise ValueError(
                        f"Invalid field {current.name}.{part} in leaf {tuple(leaf.raw)!r}"
                    )
                if index < len(parts) - 1:
                    if definition.type not in RELATIONAL:
                        raise ValueError(
                            f"Invalid field {current.name}.{part} in leaf {tuple(leaf.raw)!r}: "
                            f"{part} is not a relational field"
                        )
                    current = self.models[definition.relation or ""]
            final = current.fields[parts[-1]]
            if leaf.operator in ("any", "not any"):
                if final.type not in RELATIONAL:
                    raise ValueError(
                        f"Invalid leaf {tuple(leaf.raw)!r}: operator {leaf.operator!r} needs a "
                        "relational field"
                    )
                self.check_domain(self.models[final.relation or ""], parse_domain(leaf.value))
            if leaf.operator in ("in", "not in") and not isinstance(leaf.value, list | tuple):
                raise ValueError(
                    f"Invalid leaf {tuple(leaf.raw)!r}: the value of {leaf.operator!r} must be "
                    "a list"
                )
            return
        for child in node[1:]:
            if isinstance(child, tuple):
                self.check_domain(model, child)

    def _match_path(
        self, model: Model, row: Row, path: str, operator: str, value: Any, leaf: _Leaf
    ) -> bool:
        head, _, rest = path.partition(".")
        definition = model.fields[head]
        if rest:
            comodel = self.models[definition.relation or ""]
            related = [
                self.tables[comodel.name][i]
                for i in self._related_ids(model, row, definition)
                if i in self.tables[comodel.name]
            ]
            if operator in NEGATIVE:
                positive = NEGATIVE[operator]
                return not any(
                    self._match_path(comodel, other, rest, positive, value, leaf)
                    for other in related
                )
            return any(
                self._match_path(comodel, other, rest, operator, value, leaf) for other in related
            )
        return self._compare(model, row, definition, operator, value)

    def _compare(
        self, model: Model, row: Row, definition: Field, operator: str, value: Any
    ) -> bool:
        if operator == "=?":
            if value in (None, False):
                return True
            operator = "="
        if operator in ("any", "not any"):
            comodel = self.models[definition.relation or ""]
            node = parse_domain(value)
            found = any(
                self.matches(comodel, self.tables[comodel.name][i], node)
                for i in self._related_ids(model, row, definition)
                if i in self.tables[comodel.name]
            )
            return found if operator == "any" else not found
        if operator in ("child_of", "parent_of"):
            return self._hierarchy(model, row, definition, operator, value)
        if operator in NEGATIVE and operator not in ("<>", "!="):
            return not self._compare(model, row, definition, NEGATIVE[operator], value)
        if definition.type in RELATIONAL:
            return self._compare_relational(model, row, definition, operator, value)
        current = self.value(model, row, definition.name)
        return _compare_scalar(definition, current, operator, value)

    def _compare_relational(
        self, model: Model, row: Row, definition: Field, operator: str, value: Any
    ) -> bool:
        ids = self._related_ids(model, row, definition)
        comodel = self.models[definition.relation or ""]
        if operator in ("!=", "<>"):
            return not self._compare_relational(model, row, definition, "=", value)
        if isinstance(value, str) or (
            isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value)
        ):
            # A name instead of ids: compared with the related records' display names.
            names = [
                self.display_name(comodel, self.tables[comodel.name][i])
                for i in ids
                if i in self.tables[comodel.name]
            ]
            text_field = Field("char", "Name", name="display_name")
            return any(_compare_scalar(text_field, name, operator, value) for name in names)
        if operator == "=":
            if value in (False, None):
                return not ids
            return value in ids
        if operator == "in":
            wanted = list(value)
            if False in wanted and not ids:
                return True
            return any(i in wanted for i in ids)
        if operator in ("<", "<=", ">", ">="):
            return any(_compare_scalar(definition, i, operator, value) for i in ids)
        if operator in ("like", "ilike", "=like", "=ilike"):
            return False
        raise ValueError(f"Invalid operator {operator!r} for field {definition.name}")

    def _hierarchy(
        self, model: Model, row: Row, definition: Field, operator: str, value: Any
    ) -> bool:
        target = self.models[definition.relation or ""] if definition.type in RELATIONAL else model
        parent = target.parent_name
        if parent is None:
            raise ValueError(f"Invalid operator {operator!r}: {target.name} has no hierarchy")
        roots = {value} if isinstance(value, int) else set(value or [])
        related = (
            self._related_ids(model, row, definition)
            if definition.type in RELATIONAL
            else [row["id"]]
        )
        for record_id in related:
            if operator == "child_of":
                current: Any = record_id
                seen: set[int] = set()
                while current and current not in seen:
                    if current in roots:
                        return True
                    seen.add(current)
                    current = self.tables[target.name].get(current, {}).get(parent)
            else:
                for root in roots:
                    current = root
                    seen = set()
                    while current and current not in seen:
                        if current == record_id:
                            return True
                        seen.add(current)
                        current = self.tables[target.name].get(current, {}).get(parent)
        return False

    def _search_rows(
        self, model: Model, domain: Any, context: Mapping[str, Any] | None = None
    ) -> list[Row]:
        node = parse_domain(domain)
        self.check_domain(model, node)
        active_test = (context or {}).get("active_test", True)
        if "active" in model.fields and active_test and "active" not in _names_domain(node):
            node = ("&", ("leaf", _Leaf("active", "=", True, ["active", "=", True])), node)
        return [row for row in self.tables[model.name].values() if self.matches(model, row, node)]

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
            raise _missing(model, missing, self.uid)
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
            model.complete(self, row)
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
            raise _missing(model, missing, self.uid)
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
            raise _missing(model, missing, self.uid)
        rows = [self.tables[model.name][i] for i in ids]
        if model.before_unlink is not None:
            model.before_unlink(self, rows)
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
                if _compare_scalar(text_field, self.display_name(model, row), operator, name)
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

    def read_group(
        self,
        model: Model,
        domain: Any,
        fields: Sequence[str],
        groupby: str | Sequence[str],
        offset: int = 0,
        limit: int | None = None,
        orderby: str | bool = False,
        lazy: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> list[Row]:
        """``read_group``: aggregates of the matching records, grouped."""
        self.check_access(model, "read")
        groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
        if not groupbys:
            raise ValueError("read_group() needs at least one groupby")
        groupings = [_parse_groupby(model, spec) for spec in groupbys]
        if lazy:
            groupings = groupings[:1]
        aggregates = [_parse_aggregate(model, spec) for spec in fields or []]
        rows = self._search_rows(model, domain, context)
        groups: dict[tuple[Any, ...], list[Row]] = {}
        for row in rows:
            key = tuple(self._group_value(model, row, name, gran) for name, gran, _ in groupings)
            groups.setdefault(key, []).append(row)
        result = []
        base = parse_domain(domain)
        for key, members in groups.items():
            group: Row = {}
            group_domain: list[Any] = []
            ranges: dict[str, Any] = {}
            for (name, granularity, spec), value in zip(groupings, key, strict=True):
                group[spec] = self._group_label(model, name, granularity, value)
                group_domain += self._group_domain(name, granularity, value)
                if granularity and value is not None:
                    start, end = _period(value, granularity)
                    ranges[spec] = {"from": start, "to": end}
            count_key = "__count" if not lazy else f"{groupings[0][2].split(':')[0]}_count"
            group[count_key] = len(members)
            for alias, name, function in aggregates:
                if alias == "__count":
                    continue
                group[alias] = self._aggregate(model, members, name, function)
            if ranges:
                group["__range"] = ranges
            group["__domain"] = group_domain + (_domain_list(domain) if base != ("true",) else [])
            if lazy and len(groupbys) > 1:
                group["__context"] = {"group_by": groupbys[1:]}
            result.append((key, group))
        ordered = self._order_groups(model, result, groupings, orderby, aggregates)
        ordered = ordered[offset or 0 :]
        if limit:
            ordered = ordered[:limit]
        return ordered

    def _group_value(self, model: Model, row: Row, name: str, granularity: str | None) -> Any:
        value = self.value(model, row, name)
        if value is False and model.fields[name].type != "boolean":
            return None
        if granularity:
            day = _as_date(value)
            return _period_start(day, granularity)
        return value

    def _group_label(self, model: Model, name: str, granularity: str | None, value: Any) -> Any:
        definition = model.fields[name]
        if value is None:
            return False
        if granularity:
            return _period_label(value, granularity)
        if definition.type == "many2one":
            comodel = self.models[definition.relation or ""]
            target = self.tables[comodel.name].get(value)
            return [value, self.display_name(comodel, target)] if target else False
        return value

    def _group_domain(self, name: str, granularity: str | None, value: Any) -> list[Any]:
        if value is None:
            return [[name, "=", False]]
        if granularity:
            start, end = _period(value, granularity)
            return ["&", [name, ">=", start], [name, "<", end]]
        return [[name, "=", value]]

    def _aggregate(self, model: Model, rows: list[Row], name: str, function: str) -> Any:
        values = [self.value(model, row, name) for row in rows]
        present = [value for value in values if value is not False and value is not None]
        if function == "count":
            return len(present)
        if function == "count_distinct":
            return len({repr(value) for value in present})
        if function == "array_agg":
            return present
        if function == "bool_and":
            return all(values)
        if function == "bool_or":
            return any(values)
        if not present:
            return False if function in ("min", "max") else 0
        if function == "sum":
            return sum(present)
        if function == "avg":
            return sum(present) / len(present)
        if function == "min":
            return min(present)
        return max(present)

    def _order_groups(
        self,
        model: Model,
        groups: list[tuple[tuple[Any, ...], Row]],
        groupings: list[tuple[str, str | None, str]],
        orderby: str | bool,
        aggregates: list[tuple[str, str, str]],
    ) -> list[Row]:
        keys: list[tuple[str, bool]] = []
        if orderby:
            for part in str(orderby).split(","):
                words = part.split()
                if not words:
                    continue
                keys.append((words[0], len(words) > 1 and words[1].lower() == "desc"))
        else:
            keys = [(spec, False) for _name, _gran, spec in groupings]
        positions = {spec: index for index, (_n, _g, spec) in enumerate(groupings)}
        aliases = {alias for alias, _name, _function in aggregates} | {"__count"}
        ordered = list(groups)
        for name, descending in reversed(keys):
            if name in positions:
                index = positions[name]
                definition = model.fields[groupings[index][0]]
                rank = self._rank(model, definition) if definition.type == "many2one" else {}
                sort_keys = [self._group_sort_key(rank, item[0][index]) for item in ordered]
                order = sorted(range(len(ordered)), key=sort_keys.__getitem__, reverse=descending)
                ordered = [ordered[position] for position in order]
            elif name in aliases:
                values = [item[1].get(name) or 0 for item in ordered]
                order = sorted(range(len(ordered)), key=values.__getitem__, reverse=descending)
                ordered = [ordered[position] for position in order]
            else:
                raise ValueError(f"Invalid orderby {name!r} for read_group on {model.name!r}")
        return [group for _key, group in ordered]

    def _group_sort_key(self, rank: Mapping[int, Any], value: Any) -> tuple[int, Any]:
        if value is None:
            return (1, 0)
        return (0, rank.get(value, value) if rank else value)

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
                raise _missing(comodel, [value], self.uid)
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
                raise _missing(comodel, [record_id], self.uid)
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


# -- helpers -------------------------------------------------------------------------------


def _missing(model: Model, ids: Sequence[int], uid: int) -> MissingError:
    shown = ", ".join(str(i) for i in ids)
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model.name}({shown},), User: {uid})"
    )


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


def _compare_scalar(definition: Field, current: Any, operator: str, value: Any) -> bool:
    empty = (
        current is False
        or current is None
        or (definition.type in ("char", "text", "html", "selection") and current == "")
    )
    if definition.type == "boolean":
        current = bool(current)
        empty = False
    if operator in ("=", "!=", "<>"):
        if value is False or value is None:
            result = empty if definition.type != "boolean" else current is False
        else:
            result = not empty and current == value
        return result if operator == "=" else not result
    if operator in ("in", "not in"):
        wanted = list(value)
        result = (empty and False in wanted) or (not empty and current in wanted)
        return result if operator == "in" else not result
    if operator in ("<", "<=", ">", ">="):
        if empty or value is False or value is None:
            return False
        try:
            if operator == "<":
                return bool(current < value)
            if operator == "<=":
                return bool(current <= value)
            if operator == ">":
                return bool(current > value)
            return bool(current >= value)
        except TypeError:
            raise ValueError(f"Cannot compare {definition.name} with {value!r}") from None
    if operator in ("like", "ilike", "=like", "=ilike"):
        if empty:
            return False
        pattern = str(value)
        if operator in ("like", "ilike"):
            pattern = f"%{pattern}%"
        return _like(pattern, str(current), insensitive=operator in ("ilike", "=ilike"))
    raise ValueError(f"Invalid operator {operator!r}")


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


def _parse_groupby(model: Model, spec: str) -> tuple[str, str | None, str]:
    if not isinstance(spec, str):
        raise ValueError(f"Invalid groupby {spec!r}")
    name, _, granularity = spec.partition(":")
    definition = model.fields.get(name)
    if definition is None:
        raise ValueError(f"Invalid field {name!r} on model {model.name!r}")
    if definition.type in TO_MANY | {"binary"}:
        raise ValueError(f"Field {name!r} on model {model.name!r} cannot be grouped by")
    if granularity:
        if definition.type not in ("date", "datetime") or granularity not in GRANULARITIES:
            raise ValueError(f"Invalid groupby {spec!r} on model {model.name!r}")
        return name, granularity, spec
    if definition.type in ("date", "datetime"):
        return name, "month", spec
    return name, None, spec


def _parse_aggregate(model: Model, spec: str) -> tuple[str, str, str]:
    if not isinstance(spec, str):
        raise ValueError(f"Invalid field specification {spec!r}")
    if spec == "__count":
        return "__count", "id", "count"
    match = re.fullmatch(r"(\w+)(?::(\w+)(?:\((\w+)\))?)?", spec)
    if match is None:
        raise ValueError(f"Invalid field specification {spec!r}")
    alias, function, target = match.groups()
    name = target or alias
    definition = model.fields.get(name)
    if definition is None:
        raise ValueError(f"Invalid field {name!r} on model {model.name!r}")
    if function is None:
        function = definition.aggregator or ("sum" if definition.type in NUMERIC else "")
        if not function:
            raise ValueError(
                f"Field {name!r} on model {model.name!r} has no aggregate; write {name}:count"
            )
    if function not in AGGREGATES:
        raise ValueError(f"Invalid aggregation function {function!r}")
    if function in ("sum", "avg") and definition.type not in NUMERIC:
        raise ValueError(f"Invalid aggregation {function!r} on non-numeric field {name!r}")
    return alias, name, function


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


def _as_date(value: str) -> date:
    return datetime.strptime(value[:10], DATE_FORMAT).date()


def _period_start(day: date, granularity: str) -> date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _period(start: date, granularity: str) -> tuple[str, str]:
    if granularity == "day":
        end = start + timedelta(days=1)
    elif granularity == "week":
        end = start + timedelta(days=7)
    else:
        months = {"month": 1, "quarter": 3, "year": 12}[granularity]
        index = start.month - 1 + months
        end = start.replace(year=start.year + index // 12, month=index % 12 + 1, day=1)
    return start.strftime(DATE_FORMAT), end.strftime(DATE_FORMAT)


def _period_label(start: date, granularity: str) -> str:
    if granularity == "day":
        return start.strftime("%d %b %Y")
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"W{week} {year}"
    if granularity == "month":
        return f"{calendar.month_name[start.month]} {start.year}"
    if granularity == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return str(start.year)


def _domain_list(domain: Any) -> list[Any]:
    return [list(item) if isinstance(item, tuple) else item for item in (domain or [])]
