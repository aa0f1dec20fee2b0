"""``read_group``: group-bys with date granularities, aggregates, lazy grouping."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from plugbay_odoo.fake.orm.domains import parse_domain
from plugbay_odoo.fake.orm.schema import (
    AGGREGATES,
    DATE_FORMAT,
    GRANULARITIES,
    NUMERIC,
    TO_MANY,
    Model,
    Row,
)
from plugbay_odoo.fake.orm.state import OrmState


class ReadGroup(OrmState):
    """The ORM's ``read_group`` (mixed into :class:`Orm`)."""

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
