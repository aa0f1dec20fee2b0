"""Reading the database's own description of itself: schemas, tables, columns, keys.

The functions here take SQLAlchemy's :class:`~sqlalchemy.engine.reflection.Inspector`
(they run inside ``AsyncConnection.run_sync``) and return plain typed dictionaries.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any, Literal

from sqlalchemy.engine import Dialect
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.exc import NoSuchTableError
from typing_extensions import TypedDict

from plugbay import ToolError

TableType = Literal["table", "view"]


class TableSummary(TypedDict):
    """One table or view."""

    schema: str
    name: str
    type: TableType
    uri: str


class ColumnDescription(TypedDict):
    """One column of a table."""

    name: str
    type: str
    nullable: bool
    default: str | None
    primary_key: bool
    comment: str | None


class ForeignKeyDescription(TypedDict):
    """A foreign key: these columns reference those of another table."""

    name: str | None
    columns: list[str]
    references_schema: str | None
    references_table: str
    references_columns: list[str]


class IndexDescription(TypedDict):
    """An index; ``columns`` holds ``null`` for an expression."""

    name: str | None
    columns: list[str | None]
    unique: bool


class UniqueConstraintDescription(TypedDict):
    """A unique constraint."""

    name: str | None
    columns: list[str]


class TableDescription(TypedDict):
    """What describe_table and the table resources tell about one table or view."""

    schema: str
    name: str
    type: TableType
    comment: str | None
    columns: list[ColumnDescription]
    primary_key: list[str]
    foreign_keys: list[ForeignKeyDescription]
    indexes: list[IndexDescription]
    unique_constraints: list[UniqueConstraintDescription]
    row_estimate: int | None
    uri: str


def visible_schemas(
    inspector: Inspector, system: Collection[str], allowed: Collection[str] | None
) -> list[str]:
    """The schemas to show: the allowed ones that exist, or every non-system one."""
    names = inspector.get_schema_names()
    if allowed is not None:
        return [name for name in names if name in allowed]
    return [name for name in names if name not in system and not name.startswith("pg_temp")]


def table_names(inspector: Inspector, schema: str) -> list[tuple[str, TableType]]:
    """The tables and views of one schema, sorted by name."""
    tables: list[tuple[str, TableType]] = [
        (name, "table") for name in inspector.get_table_names(schema=schema)
    ]
    tables += [(name, "view") for name in inspector.get_view_names(schema=schema)]
    return sorted(tables)


def describe(inspector: Inspector, dialect: Dialect, schema: str, table: str) -> dict[str, Any]:
    """Columns, keys and indexes of one table or view (without the row estimate and URI).

    Raises:
        ToolError: There is no such table or view; suggests close names.
    """
    # The exact name, as listed: some databases (SQLite) match names loosely in some
    # calls and not in others.
    kinds = dict(table_names(inspector, schema))
    if table not in kinds:
        raise _no_such_table(table, schema, list(kinds))
    try:
        return _describe(inspector, dialect, schema, table, kinds[table])
    except NoSuchTableError:  # dropped meanwhile
        raise _no_such_table(table, schema, list(kinds)) from None


def _describe(
    inspector: Inspector, dialect: Dialect, schema: str, table: str, kind: TableType
) -> dict[str, Any]:
    columns = inspector.get_columns(table, schema=schema)
    primary_key = inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or []
    try:
        comment = inspector.get_table_comment(table, schema=schema).get("text")
    except NotImplementedError:
        comment = None
    return {
        "schema": schema,
        "name": table,
        "type": kind,
        "comment": comment,
        "columns": [
            {
                "name": column["name"],
                "type": _type_name(column["type"], dialect),
                "nullable": bool(column.get("nullable", True)),
                "default": _text_or_none(column.get("default")),
                "primary_key": column["name"] in primary_key,
                "comment": _text_or_none(column.get("comment")),
            }
            for column in columns
        ],
        "primary_key": list(primary_key),
        "foreign_keys": [
            {
                "name": key.get("name"),
                "columns": list(key["constrained_columns"]),
                "references_schema": key.get("referred_schema") or schema,
                "references_table": key["referred_table"],
                "references_columns": list(key["referred_columns"]),
            }
            for key in inspector.get_foreign_keys(table, schema=schema)
        ],
        "indexes": [
            {
                "name": index.get("name"),
                "columns": list(index.get("column_names") or []),
                "unique": bool(index.get("unique")),
            }
            for index in inspector.get_indexes(table, schema=schema, **_index_options(dialect))
        ],
        "unique_constraints": [
            {"name": constraint.get("name"), "columns": list(constraint["column_names"])}
            for constraint in inspector.get_unique_constraints(table, schema=schema)
        ],
    }


def _no_such_table(table: str, schema: str, names: list[str]) -> ToolError:
    close = difflib.get_close_matches(table, names, n=3, cutoff=0.6)
    lowered = [name for name in names if name.lower() == table.lower() and name not in close]
    suggestions = lowered + close
    hint = (
        f"; did you mean {', '.join(repr(name) for name in suggestions)}?"
        if suggestions
        else "; {tool:list_tables} shows the tables"
    )
    return ToolError(f"no table or view {table!r} in schema {schema!r}{hint}")


def _index_options(dialect: Dialect) -> dict[str, Any]:
    # SQLite keeps the indexes behind inline UNIQUE and PRIMARY KEY clauses apart
    # ("sqlite_autoindex_..."); they are the only trace of a column's UNIQUE.
    return {"include_auto_indexes": True} if dialect.name == "sqlite" else {}


def _type_name(column_type: Any, dialect: Dialect) -> str:
    try:
        return str(column_type.compile(dialect=dialect))
    except Exception:  # an unusual reflected type that does not compile: name its class
        return type(column_type).__name__.lower()


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
