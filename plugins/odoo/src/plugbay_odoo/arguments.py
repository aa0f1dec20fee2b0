"""The arguments the Odoo tools share, described once in their ``Annotated`` types.

The descriptions reach clients in each tool's input schema, so the tools' docstrings
need not repeat them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from plugbay_odoo.settings import MODEL_NAME

DEFAULT_LIMIT = 50
"""Records (or groups) a search returns when the caller does not say."""
MAX_LISTED_MODELS = 1000
"""The most models one listing (``list_models``, the models resource) shows."""

ModelArgument = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=MODEL_NAME.pattern,
        description="The model's technical name, e.g. res.partner or sale.order "
        "({tool:list_models} shows the ones this instance may use).",
    ),
]
DomainArgument = Annotated[
    list[str | list[Any]] | None,
    Field(
        description=(
            "Which records: a list of [field, operator, value] terms, all of which must "
            'hold; put "|" (or), "&" (and) or "!" (not) before the terms they combine. '
            "Operators: = != < <= > >= in, not in, like, ilike, not like, not ilike, =like, "
            "=ilike, child_of, parent_of, any, not any. Fields may follow relations "
            "(partner_id.city). Dates are 'YYYY-MM-DD', datetimes 'YYYY-MM-DD HH:MM:SS' "
            'UTC, false means empty. Example: [["is_company", "=", true], "|", '
            '["city", "ilike", "paris"], ["city", "ilike", "lyon"]]. Omitted: all records.'
        ),
    ),
]
FieldsArgument = Annotated[
    list[Annotated[str, Field(min_length=1)]] | None,
    Field(
        description="The fields to return ({tool:describe_model} lists them). Omitted: every "
        "stored field except binary ones, plus display_name."
    ),
]
IdsArgument = Annotated[
    list[Annotated[int, Field(ge=1)]],
    Field(min_length=1, description="Record ids."),
]
LimitArgument = Annotated[
    int,
    Field(ge=1, description="The most records to return (at most the instance's max_records)."),
]
OffsetArgument = Annotated[int, Field(ge=0, description="Records to skip first, for paging.")]
OrderArgument = Annotated[
    str | None,
    Field(
        min_length=1,
        description="Sort order: field names with asc or desc, e.g. 'date_order desc, id'. "
        "Omitted: the model's default order.",
    ),
]
