"""What the database holds: its models (``ir.model``) and their fields (``fields_get``), cached.

The list of models and each model's fields are asked for once and kept for
``cache_ttl`` seconds, so that validating a domain or choosing the default fields
costs a dictionary lookup on every call but the first.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio

from plugbay_odoo.client import OdooClient

T = TypeVar("T")

FIELD_ATTRIBUTES = [
    "type", "string", "help", "required", "readonly", "store", "relation", "selection",
    "sortable", "groupable",
]  # fmt: skip
"""The ``fields_get`` attributes the connector uses (Odoo sends many more without a list)."""
RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
NUMERIC = frozenset({"integer", "float", "monetary"})


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field as ``fields_get`` describes it."""

    name: str
    type: str
    string: str
    required: bool = False
    readonly: bool = False
    store: bool = True
    relation: str | None = None
    selection: tuple[tuple[str, str], ...] | None = None
    help: str | None = None
    sortable: bool = True
    groupable: bool = True

    @classmethod
    def from_odoo(cls, name: str, description: Mapping[str, Any]) -> FieldInfo:
        """Build it from one entry of ``fields_get``."""
        selection = description.get("selection")
        pairs = None
        if isinstance(selection, list):
            pairs = tuple(
                (str(item[0]), str(item[1]))
                for item in selection
                if isinstance(item, list | tuple) and len(item) == 2
            )
        store = bool(description.get("store", True))
        return cls(
            name=name,
            type=str(description.get("type", "")),
            string=str(description.get("string") or name),
            required=bool(description.get("required", False)),
            readonly=bool(description.get("readonly", False)),
            store=store,
            relation=description.get("relation") or None,
            selection=pairs,
            help=description.get("help") or None,
            sortable=bool(description.get("sortable", store)),
            groupable=bool(description.get("groupable", store)),
        )

    @property
    def relational(self) -> bool:
        """Whether the field points at records of another model."""
        return self.type in RELATIONAL


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model as ``ir.model`` lists it."""

    model: str
    name: str
    transient: bool = False


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    expires: float


class TtlCache(Generic[T]):
    """Values by key, each fetched once per ``ttl`` seconds (concurrent misses fetch once)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry[T]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    def peek(self, key: str) -> T | None:
        """The cached value if it is still fresh, without fetching."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self._clock():
            return entry.value
        return None

    async def get(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """The value for ``key``, fetched with ``fetch`` when missing or stale."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self._clock():
            return entry.value
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > self._clock():
                return entry.value
            value = await fetch()
            self._entries[key] = _Entry(value, self._clock() + self.ttl)
            return value

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


class Schema:
    """The models and fields of one database, cached for ``ttl`` seconds.

    Args:
        client: The session to ask with.
        ttl: Seconds a fetched list stays fresh.
        clock: The monotonic clock (replaced in tests).
    """

    def __init__(
        self, client: OdooClient, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self._models: TtlCache[dict[str, ModelInfo]] = TtlCache(ttl, clock)
        self._fields: TtlCache[dict[str, FieldInfo]] = TtlCache(ttl, clock)

    async def models(self) -> dict[str, ModelInfo]:
        """Every model of the database, by technical name (from ``ir.model``)."""
        return await self._models.get("", self._fetch_models)

    async def fields(self, model: str) -> dict[str, FieldInfo]:
        """The fields of ``model`` the user may see, by name (from ``fields_get``)."""
        return await self._fields.get(model, lambda: self._fetch_fields(model))

    def cached_fields(self, model: str) -> dict[str, FieldInfo] | None:
        """The fields of ``model`` if they are cached and fresh, without asking Odoo."""
        return self._fields.peek(model)

    def clear(self) -> None:
        """Forget what was fetched (the next calls ask Odoo again)."""
        self._models.clear()
        self._fields.clear()

    async def _fetch_models(self) -> dict[str, ModelInfo]:
        rows = await self.client.execute(
            "ir.model",
            "search_read",
            kwargs={"domain": [], "fields": ["model", "name", "transient"], "order": "model"},
            idempotent=True,
        )
        return {
            str(row["model"]): ModelInfo(
                model=str(row["model"]),
                name=str(row.get("name") or row["model"]),
                transient=bool(row.get("transient")),
            )
            for row in rows or []
        }

    async def _fetch_fields(self, model: str) -> dict[str, FieldInfo]:
        described = await self.client.execute(
            model, "fields_get", kwargs={"attributes": FIELD_ATTRIBUTES}, idempotent=True
        )
        return {
            name: FieldInfo.from_odoo(name, description)
            for name, description in (described or {}).items()
            if isinstance(description, Mapping)
        }
