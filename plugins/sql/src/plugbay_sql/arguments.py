"""The types of the SQL tools' arguments and of the results the tools return.

The sql, params and schema arguments are described once, here, in their ``Annotated``
types, rather than in every tool's docstring.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from plugbay_sql.schema import TableSummary
from plugbay_sql.settings import MAX_STATEMENT_BYTES

SqlArgument = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_STATEMENT_BYTES,
        description=(
            "One SQL statement. Values go in params as :name placeholders "
            "(WHERE id = :id); write \\: for a colon that is not a placeholder."
        ),
    ),
]
ParamsArgument = Annotated[
    dict[str, Any] | None,
    Field(
        description=(
            'Values for the :name placeholders, e.g. {"id": 42}. Strings, numbers, '
            "booleans, null and lists."
        ),
    ),
]
SchemaArgument = Annotated[
    str | None,
    Field(
        min_length=1,
        description=(
            "The schema (MariaDB/MySQL: database); the connection's default schema when "
            "omitted. {tool:list_schemas} shows them."
        ),
    ),
]


class SchemaInfo(TypedDict):
    """One schema."""

    name: str
    default: bool


class SchemaList(TypedDict):
    """The schemas this instance shows."""

    schemas: list[SchemaInfo]
    dialect: str


class TableList(TypedDict):
    """Tables and views, with the URIs of their schema resources."""

    tables: list[TableSummary]
    truncated: bool


class Plan(TypedDict):
    """A query plan as the database explains it."""

    plan: str
    dialect: str
