"""Fields and models as the fake declares them, and the constants of Odoo's ORM."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugbay_odoo.fake.orm.engine import Orm

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
