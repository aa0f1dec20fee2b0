"""The Odoo connector: tools and resources over one Odoo database.

Every call follows the same path: the access policy (is this model granted, for
this operation?), the checks of what the caller sent against the model's cached
fields (domain terms, field names, orders, groupings, values; sensitive fields
refused), one ``execute_kw`` over the instance's authenticated session, and the
answer passed back as Odoo sent it (dates as strings, ``False`` for empty values,
many2one as ``[id, name]``) minus any sensitive field.
"""

# The model, domain, fields and ids arguments are described once, in their Annotated
# types below, rather than in every docstring.
# ruff: noqa: D417

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

import anyio
from pydantic import Field
from typing_extensions import TypedDict

from plugboard import Connector, ToolError, resource, tool
from plugboard_odoo.access import AccessPolicy
from plugboard_odoo.channel import RestChannel
from plugboard_odoo.client import OdooClient
from plugboard_odoo.errors import ErrorContext
from plugboard_odoo.schema import FieldInfo, ModelInfo, Schema
from plugboard_odoo.settings import MODEL_NAME, PERMISSIONS, OdooSettings
from plugboard_odoo.transport import TRANSPORTS, Credentials
from plugboard_odoo.validation import (
    ValidationProblem,
    check_aggregates,
    check_domain,
    check_fields,
    check_groupby,
    check_order,
    check_values,
    default_fields,
)

logger = logging.getLogger("plugboard_odoo")

DEFAULT_LIMIT = 50
MAX_COMPLETIONS = 100
MAX_LISTED_MODELS = 1000
WARM_MODELS = 50
"""Models of the ``models`` setting whose fields are fetched when the instance starts."""

ModelArgument = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=MODEL_NAME.pattern,
        description="The model's technical name, e.g. res.partner or sale.order "
        "(list_models shows the ones this instance may use).",
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
        description="The fields to return (describe_model lists them). Omitted: every stored "
        "field except binary ones, plus display_name."
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


class OdooConnector(Connector[OdooSettings]):
    """Odoo 18: search, read, group and (when allowed) change records over the external API.

    Nothing is reachable until the operator grants models in the models setting, each
    with read, write, create or unlink; sensitive fields (passwords, tokens, keys) are
    never returned, searched or written; business methods run only when listed in
    allow_methods. Odoo's own access rights apply on top.
    """

    name = "odoo"
    uri_scheme = "odoo"

    def __init__(self, instance: str, settings: OdooSettings) -> None:
        super().__init__(instance, settings)
        self.policy = AccessPolicy(settings.models, settings.hidden_fields, instance)
        self._client: OdooClient | None = None
        self._schema: Schema | None = None

    # Lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the connection pool, authenticate once, and fetch the listed models' fields.

        A wrong URL, database or API key fails the start with a message saying which.
        """
        settings = self.settings
        channel = RestChannel(
            settings.url,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
            max_connections=settings.max_connections,
            secrets=[settings.api_key.get_secret_value()],
        )
        credentials = Credentials(settings.database, settings.username, settings.api_key)
        transport = TRANSPORTS[settings.transport](channel, credentials)
        errors = ErrorContext(
            self.instance, settings.username, settings.database, settings.api_key.get_secret_value()
        )
        client = OdooClient(transport, errors, settings.context)
        try:
            await client.start()
        except ToolError as error:
            await client.aclose()
            raise RuntimeError(str(error)) from None
        self._client = client
        self._schema = Schema(client, settings.cache_ttl)
        if not settings.models:
            logger.warning(
                "odoo instance %s: the models setting is empty, so every model is refused; "
                'grant some under [connectors.%s.models], e.g. "res.partner" = ["read"]',
                self.instance,
                self.instance,
            )
        await self._warm()

    async def _warm(self) -> None:
        """Fetch the fields of the listed models now, and report the ones Odoo lacks."""
        schema = self.schema

        async def fetch(model: str) -> None:
            try:
                await schema.fields(model)
            except ToolError as error:
                logger.warning(
                    "odoo instance %s: model %s of the models setting: %s",
                    self.instance,
                    model,
                    error,
                )

        async with anyio.create_task_group() as group:
            for model in self.policy.listed[:WARM_MODELS]:
                group.start_soon(fetch, model)

    async def stop(self) -> None:
        """Close the connection pool."""
        client, self._client = self._client, None
        self._schema = None
        if client is not None:
            await client.aclose()

    async def check_health(self) -> None:
        """Raise if Odoo does not answer ``version``."""
        try:
            await self.client.version()
        except ToolError as error:
            raise RuntimeError(str(error)) from None

    def describe_state(self) -> Mapping[str, Any] | None:
        """The server version and the authenticated user id."""
        client = self._client
        if client is None:
            return None
        return {
            "server_version": client.server_version.get("server_version"),
            "uid": client.uid,
            "transport": self.settings.transport,
        }

    @property
    def client(self) -> OdooClient:
        """The session; available once :meth:`start` has run."""
        if self._client is None:
            raise ToolError(f"odoo instance {self.instance!r} is not running")
        return self._client

    @property
    def schema(self) -> Schema:
        """The cached models and fields; available once :meth:`start` has run."""
        if self._schema is None:
            raise ToolError(f"odoo instance {self.instance!r} is not running")
        return self._schema

    # Helpers -------------------------------------------------------------------------

    async def _fields(self, model: str) -> Mapping[str, FieldInfo]:
        """The fields of ``model``; a clear error for a model Odoo does not have."""
        cached = self.schema.cached_fields(model)
        if cached is not None:
            return cached
        models = await self._models_or_none()
        if models is not None and model not in models:
            raise ToolError(f"Odoo has no model {model!r}{self._suggest_model(model, models)}")
        return await self.schema.fields(model)

    async def _models_or_none(self) -> dict[str, ModelInfo] | None:
        try:
            return await self.schema.models()
        except ToolError:
            # A user who may not read ir.model can still use the models granted to it.
            return None

    def _suggest_model(self, model: str, models: Mapping[str, ModelInfo]) -> str:
        candidates = [name for name in models if self.policy.visible(name)]
        close = difflib.get_close_matches(model, candidates, n=1, cutoff=0.6)
        if close:
            return f"; did you mean {close[0]!r}?"
        return "; list_models shows the models this instance may use"

    async def _prepare(self, model: str, operation: str) -> Mapping[str, FieldInfo]:
        self.policy.require(model, operation)
        return await self._fields(model)

    async def _domain(self, model: str, domain: list[Any] | None) -> list[Any]:
        return await check_domain(domain, model, self._fields, self.policy)

    def _clean(self, model: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """A record without hidden fields, whatever Odoo sent (defence in depth)."""
        return {
            name: value for name, value in row.items() if not self.policy.is_hidden(model, name)
        }

    def _limit(self, limit: int) -> int:
        return min(limit, self.settings.max_records)

    def _check_ids(self, ids: list[int]) -> list[int]:
        unique = list(dict.fromkeys(ids))
        if len(unique) > self.settings.max_records:
            raise ToolError(
                f"{len(unique)} ids are more than this instance handles in one call "
                f"(max_records = {self.settings.max_records}); split them into several calls"
            )
        return unique

    def _summary(self, info: ModelInfo) -> ModelSummary:
        permissions = self.policy.permissions(info.model)
        return {
            "model": info.model,
            "name": info.name,
            "permissions": [right for right in PERMISSIONS if right in permissions],
        }

    async def _visible_models(self) -> list[ModelInfo]:
        models = await self._models_or_none()
        if models is None:
            return [ModelInfo(name, name) for name in self.policy.listed]
        return [
            info
            for info in models.values()
            if self.policy.visible(info.model)
            and (not info.transient or info.model in self.policy.listed)
        ]

    # Discovery -----------------------------------------------------------------------

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="List models")
    async def list_models(
        self,
        search: Annotated[
            str | None,
            Field(
                description="Keep models whose technical name or description contains this "
                "text (case-insensitive), e.g. 'partner' or 'invoice'."
            ),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LISTED_MODELS)] = 100,
    ) -> ModelList:
        """List the Odoo models this instance may use, with what it may do with each.

        Args:
            limit: The most models to list.
        """
        models = await self._visible_models()
        if search:
            needle = search.lower()
            models = [
                info
                for info in models
                if needle in info.model.lower() or needle in info.name.lower()
            ]
        models.sort(key=lambda info: info.model)
        return {
            "models": [self._summary(info) for info in models[:limit]],
            "total": len(models),
            "truncated": len(models) > limit,
        }

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Describe model"
    )
    async def describe_model(self, model: ModelArgument) -> ModelDescription:
        """Describe a model's fields: type, label, relation, required, read-only, selection values.

        Sensitive fields (passwords, tokens, keys) are left out: they cannot be used.
        """
        if not self.policy.visible(model):
            self.policy.require(model, "read")
        fields = await self._fields(model)
        models = await self._models_or_none()
        info = (models or {}).get(model)
        described: list[FieldDescription] = []
        for name, field in fields.items():
            if self.policy.is_hidden(model, name):
                continue
            entry: FieldDescription = {
                "name": name,
                "type": field.type,
                "string": field.string,
                "required": field.required,
                "readonly": field.readonly,
                "stored": field.store,
            }
            if field.relation:
                entry["relation"] = field.relation
            if field.selection is not None:
                entry["selection"] = [[key, label] for key, label in field.selection]
            if field.help:
                entry["help"] = field.help
            described.append(entry)
        summary = self._summary(info or ModelInfo(model, model))
        return {**summary, "fields": described}

    # Reading -------------------------------------------------------------------------

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Search records"
    )
    async def search_read(
        self,
        model: ModelArgument,
        domain: DomainArgument = None,
        fields: FieldsArgument = None,
        limit: LimitArgument = DEFAULT_LIMIT,
        offset: OffsetArgument = 0,
        order: OrderArgument = None,
    ) -> RecordPage:
        """Find records matching a domain and return their fields, a page at a time."""
        known = await self._prepare(model, "read")
        checked = await self._domain(model, domain)
        names = (
            check_fields(model, fields, known, self.policy)
            if fields
            else default_fields(model, known, self.policy)
        )
        limit = self._limit(limit)
        options: dict[str, Any] = {
            "domain": checked,
            "fields": names,
            "offset": offset,
            # One more than asked: whether more records match, without a second call.
            "limit": limit + 1,
        }
        if order:
            options["order"] = check_order(model, order, known, self.policy)
        rows = await self.client.execute(model, "search_read", kwargs=options, idempotent=True)
        rows = list(rows or [])
        records = [self._clean(model, row) for row in rows[:limit]]
        return {
            "model": model,
            "records": records,
            "count": len(records),
            "offset": offset,
            "limit": limit,
            "has_more": len(rows) > limit,
        }

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Read records"
    )
    async def read(
        self, model: ModelArgument, ids: IdsArgument, fields: FieldsArgument = None
    ) -> RecordList:
        """Read records by id."""
        known = await self._prepare(model, "read")
        unique = self._check_ids(ids)
        names = (
            check_fields(model, fields, known, self.policy)
            if fields
            else default_fields(model, known, self.policy)
        )
        rows = await self.client.execute(
            model, "read", [unique], {"fields": names}, idempotent=True
        )
        return {"model": model, "records": [self._clean(model, row) for row in rows or []]}

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Count records"
    )
    async def count(self, model: ModelArgument, domain: DomainArgument = None) -> Count:
        """Count the records matching a domain."""
        await self._prepare(model, "read")
        checked = await self._domain(model, domain)
        total = await self.client.execute(
            model, "search_count", kwargs={"domain": checked}, idempotent=True
        )
        return {"model": model, "count": int(total)}

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Find by name"
    )
    async def name_search(
        self,
        model: ModelArgument,
        name: Annotated[
            str, Field(description="Text to look for in the records' display names.")
        ] = "",
        domain: DomainArgument = None,
        operator: Annotated[
            Literal["ilike", "like", "=", "=ilike", "=like", "not ilike", "not like", "!="],
            Field(description="How to compare the names; ilike (contains, any case) by default."),
        ] = "ilike",
        limit: LimitArgument = 20,
    ) -> NameMatches:
        """Find records by display name, as Odoo's autocompletion does: [id, name] pairs."""
        await self._prepare(model, "read")
        checked = await self._domain(model, domain)
        # Positional: the domain parameter was renamed (args -> domain) in Odoo 18.
        pairs = await self.client.execute(
            model,
            "name_search",
            [name, checked, operator, self._limit(limit)],
            idempotent=True,
        )
        matches: list[NameMatch] = [
            {"id": int(pair[0]), "name": str(pair[1])} for pair in pairs or [] if len(pair) == 2
        ]
        return {"model": model, "matches": matches}

    @tool(
        read_only=True, destructive=False, idempotent=True, open_world=False, title="Group records"
    )
    async def read_group(
        self,
        model: ModelArgument,
        groupby: Annotated[
            list[Annotated[str, Field(min_length=1)]],
            Field(
                min_length=1,
                description="Fields to group by; date and datetime fields take a granularity: "
                "'partner_id', 'date_order:month' (day, week, month, quarter, year).",
            ),
        ],
        aggregates: Annotated[
            list[Annotated[str, Field(min_length=1)]] | None,
            Field(
                description="What to compute per group: 'field:function' with sum, avg, min, "
                "max, count, count_distinct, bool_and or bool_or, e.g. ['amount_total:sum']. "
                "Each group always has its record count (__count)."
            ),
        ] = None,
        domain: DomainArgument = None,
        limit: LimitArgument = DEFAULT_LIMIT,
        offset: OffsetArgument = 0,
        order: Annotated[
            str | None,
            Field(
                min_length=1,
                description="Group order: a groupby field or an aggregate with asc or desc, "
                "e.g. 'amount_total desc'. Omitted: by the groupby fields.",
            ),
        ] = None,
    ) -> GroupList:
        """Group records and aggregate their fields (Odoo's read_group), e.g. sales per customer.

        Each group has the groupby values, the aggregates, __count and the __domain that
        selects its records.
        """
        known = await self._prepare(model, "read")
        checked = await self._domain(model, domain)
        specs = check_groupby(model, groupby, known, self.policy)
        computed = check_aggregates(model, aggregates or [], known, self.policy)
        limit = self._limit(limit)
        options: dict[str, Any] = {
            "domain": checked,
            "fields": computed,
            "groupby": specs,
            "offset": offset,
            "limit": limit + 1,
            "lazy": False,
        }
        if order:
            options["orderby"] = self._group_order(order, specs, computed)
        groups = await self.client.execute(model, "read_group", kwargs=options, idempotent=True)
        groups = list(groups or [])
        cleaned = [
            {key: value for key, value in group.items() if key != "__context"}
            for group in groups[:limit]
        ]
        return {"model": model, "groups": cleaned, "has_more": len(groups) > limit}

    @staticmethod
    def _group_order(order: str, groupby: list[str], aggregates: list[str]) -> str:
        allowed = {*groupby, *(spec.split(":")[0] for spec in groupby)}
        allowed |= {spec.split(":")[0] for spec in aggregates} | {"__count"}
        terms = []
        for part in order.split(","):
            words = part.split()
            if not words:
                continue
            if (
                words[0] not in allowed
                or len(words) > 2
                or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
            ):
                raise ValidationProblem(
                    f"order term {part.strip()!r}: groups sort by a groupby field, an aggregate "
                    f"or __count, followed by asc or desc (one of: {', '.join(sorted(allowed))})"
                )
            terms.append(" ".join(words))
        return ", ".join(terms)

    # Writing -------------------------------------------------------------------------

    @tool(
        read_only=False,
        destructive=False,
        idempotent=False,
        open_world=False,
        title="Create records",
    )
    async def create(
        self,
        model: ModelArgument,
        values: Annotated[
            dict[str, Any] | list[dict[str, Any]],
            Field(
                description='The new record\'s field values, e.g. {"name": "Acme", '
                '"is_company": true}, or a list of them to create several. Many2one fields '
                "take an id; x2many fields a list of ids or Odoo commands."
            ),
        ],
    ) -> Changed:
        """Create one or more records; returns their ids."""
        known = await self._prepare(model, "create")
        batch = values if isinstance(values, list) else [values]
        if not batch:
            raise ToolError("values is an empty list: give at least one record")
        if len(batch) > self.settings.max_records:
            raise ToolError(
                f"{len(batch)} records are more than this instance creates in one call "
                f"(max_records = {self.settings.max_records})"
            )
        checked = [check_values(model, record, known, self.policy) for record in batch]
        created = await self.client.execute(model, "create", [checked], idempotent=False)
        ids = [created] if isinstance(created, int) else list(created or [])
        return {"model": model, "ids": [int(record_id) for record_id in ids]}

    @tool(
        read_only=False, destructive=True, idempotent=True, open_world=False, title="Update records"
    )
    async def write(
        self,
        model: ModelArgument,
        ids: IdsArgument,
        values: Annotated[
            dict[str, Any],
            Field(description='Field values to set on every record, e.g. {"phone": "+32 2 ..."}.'),
        ],
    ) -> Changed:
        """Set field values on records (overwriting what was there)."""
        known = await self._prepare(model, "write")
        unique = self._check_ids(ids)
        checked = check_values(model, values, known, self.policy)
        await self.client.execute(model, "write", [unique], {"vals": checked}, idempotent=True)
        return {"model": model, "ids": unique}

    @tool(
        read_only=False, destructive=True, idempotent=True, open_world=False, title="Delete records"
    )
    async def unlink(self, model: ModelArgument, ids: IdsArgument) -> Changed:
        """Delete records. This cannot be undone; Odoo may refuse (e.g. a confirmed order)."""
        await self._prepare(model, "unlink")
        unique = self._check_ids(ids)
        await self.client.execute(model, "unlink", [unique], idempotent=True)
        return {"model": model, "ids": unique}

    @tool(
        read_only=False, destructive=True, idempotent=False, open_world=False, title="Call a method"
    )
    async def call_method(
        self,
        model: ModelArgument,
        method: Annotated[
            str,
            Field(
                min_length=1,
                max_length=128,
                pattern=r"^[A-Za-z]\w*$",
                description="The business method, e.g. action_confirm (on sale.order).",
            ),
        ],
        ids: Annotated[
            list[Annotated[int, Field(ge=1)]] | None,
            Field(description="The records to call it on; omitted for model-level methods."),
        ] = None,
        args: Annotated[
            list[Any] | None, Field(description="Further positional arguments, if any.")
        ] = None,
        kwargs: Annotated[
            dict[str, Any] | None, Field(description="Keyword arguments, if any.")
        ] = None,
    ) -> MethodResult:
        """Run a business method such as sale.order action_confirm, if the operator allows it.

        Only the model.method pairs in the instance's allow_methods setting can run.
        """
        allowed = self.settings.allow_methods
        entry = f"{model}.{method}"
        if not allowed:
            raise ToolError(
                "call_method is off on this instance. An operator can enable chosen methods "
                f'with allow_methods = ["{entry}"] under [connectors.{self.instance}].'
            )
        if entry not in allowed:
            raise ToolError(
                f"{entry} is not one of the methods this instance may call "
                f"({', '.join(allowed)}). An operator can add it to allow_methods under "
                f"[connectors.{self.instance}]."
            )
        unique = self._check_ids(ids) if ids else []
        call_args: list[Any] = [unique] if ids else []
        call_args += list(args or [])
        result = await self.client.execute(
            model, method, call_args, dict(kwargs or {}), idempotent=False
        )
        return {"model": model, "method": method, "ids": unique, "result": result}

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, title="Server info")
    async def server_info(self) -> ServerInfo:
        """Show which Odoo server and database this instance uses, as whom, and what it may do."""
        client = self.client
        visible = await self._visible_models()
        listed = [info for info in visible if info.model in self.policy.listed]
        return {
            "url": self.settings.url,
            "database": self.settings.database,
            "username": self.settings.username,
            "uid": client.uid,
            "transport": self.settings.transport,
            "server_version": str(client.server_version.get("server_version", "")),
            "models": [self._summary(info) for info in listed],
            "allow_methods": list(self.settings.allow_methods),
        }

    # Resources -----------------------------------------------------------------------

    @resource("", name="models", title="Odoo models", mime_type="application/json")
    async def models_resource(self) -> dict[str, Any]:
        """The models this instance may use, each with the URIs of its schema and records."""
        models = sorted(await self._visible_models(), key=lambda info: info.model)
        base = f"{self.uri_scheme}://{self.instance}"
        return {
            "models": [
                {
                    **self._summary(info),
                    "schema": f"{base}/{info.model}",
                    "records": f"{base}/{info.model}/{{id}}",
                }
                for info in models[:MAX_LISTED_MODELS]
            ],
            "truncated": len(models) > MAX_LISTED_MODELS,
        }

    @resource(
        "{model}",
        name="model_schema",
        title="Model schema",
        mime_type="application/json",
        complete={"model": "complete_model"},
    )
    async def schema_resource(self, model: str) -> ModelDescription:
        """A model's fields and what this instance may do with it (as describe_model).

        Args:
            model: The model's technical name, e.g. res.partner.
        """
        self._check_model_name(model)
        return await self.describe_model(model)

    @resource(
        "{model}/{id}",
        name="record",
        title="Odoo record",
        mime_type="application/json",
        complete={"model": "complete_model"},
    )
    async def record_resource(self, model: str, id: str) -> dict[str, Any]:
        """One record with its stored fields, as read returns it.

        Args:
            model: The model's technical name, e.g. res.partner.
            id: The record's id.
        """
        self._check_model_name(model)
        # Only the one spelling of a number: a server's policy decides on the URI, so
        # '07' or another script's digits may not name record 7 behind its back.
        if not (id.isascii() and id.isdigit()) or id.startswith("0"):
            raise ToolError(f"{id!r} is not a record id: the URI ends with a number")
        found = await self.read(model, [int(id)])
        return found["records"][0]

    async def complete_model(self, value: str, context: Mapping[str, str]) -> list[str]:
        """Complete a model name from the models this instance may use."""
        names = sorted(info.model for info in await self._visible_models())
        return [name for name in names if name.startswith(value)][:MAX_COMPLETIONS]

    @staticmethod
    def _check_model_name(model: str) -> None:
        if not MODEL_NAME.match(model):
            raise ToolError(f"{model!r} is not a model name such as res.partner")
