"""Tools that read records: search, read by id, count, find by name, group."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from plugbay import tool
from plugbay_odoo.arguments import (
    DEFAULT_LIMIT,
    DomainArgument,
    FieldsArgument,
    IdsArgument,
    LimitArgument,
    ModelArgument,
    OffsetArgument,
    OrderArgument,
)
from plugbay_odoo.instance import OdooInstance
from plugbay_odoo.results import Count, GroupList, NameMatch, NameMatches, RecordList, RecordPage
from plugbay_odoo.validation import (
    ValidationProblem,
    check_aggregates,
    check_fields,
    check_groupby,
    check_order,
    default_fields,
)


class RecordReading(OdooInstance):
    """``search_read``, ``read``, ``count``, ``name_search`` and ``read_group``."""

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
