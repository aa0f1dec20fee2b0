"""What the Odoo tools return: typed dictionaries, which become their output schemas."""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict


class ModelSummary(TypedDict):
    """A model this instance may use, and what it may do with it."""

    model: str
    name: str
    permissions: list[str]


class ModelList(TypedDict):
    """Models matching a search."""

    models: list[ModelSummary]
    total: int
    truncated: bool


class FieldDescription(TypedDict):
    """One field of a model."""

    name: str
    type: str
    string: str
    required: bool
    readonly: bool
    stored: bool
    relation: NotRequired[str]
    selection: NotRequired[list[list[str]]]
    help: NotRequired[str]


class ModelDescription(TypedDict):
    """A model's fields, and what this instance may do with it."""

    model: str
    name: str
    permissions: list[str]
    fields: list[FieldDescription]


class RecordPage(TypedDict):
    """Records found, as Odoo returned them, and whether more match."""

    model: str
    records: list[dict[str, Any]]
    count: int
    offset: int
    limit: int
    has_more: bool


class RecordList(TypedDict):
    """Records read by id."""

    model: str
    records: list[dict[str, Any]]


class Count(TypedDict):
    """How many records match."""

    model: str
    count: int


class Changed(TypedDict):
    """The records created, updated or deleted."""

    model: str
    ids: list[int]


class NameMatch(TypedDict):
    """A record found by name."""

    id: int
    name: str


class NameMatches(TypedDict):
    """Records whose display name matches."""

    model: str
    matches: list[NameMatch]


class GroupList(TypedDict):
    """Groups of records with their aggregates, as read_group returns them."""

    model: str
    groups: list[dict[str, Any]]
    has_more: bool


class MethodResult(TypedDict):
    """What a business method returned."""

    model: str
    method: str
    ids: list[int]
    result: Any


class ServerInfo(TypedDict):
    """Which server and database the instance talks to, and as whom."""

    url: str
    database: str
    username: str
    uid: int | None
    transport: str
    server_version: str
    models: list[ModelSummary]
    allow_methods: list[str]
