"""Checks of what callers send, before it reaches Odoo: domains, fields, orders, groupings, values.

Every check knows the model's fields (from the cached ``fields_get``), so a mistake
is reported with the term that holds it (``domain[2] ['nme', '=', 'x']: res.partner
has no field 'nme'; did you mean 'name'?``) instead of as a traceback from the
server, and sensitive fields never reach a search, a sort, a grouping or a write.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from plugbay import ToolError
from plugbay_odoo.access import AccessPolicy
from plugbay_odoo.schema import NUMERIC, FieldInfo

FieldsOf = Callable[[str], Awaitable[Mapping[str, FieldInfo]]]
"""``await fields_of(model)``: the fields of a model, by name."""

LOGICAL = {"&": 2, "|": 2, "!": 1}
"""The prefix operators of a domain and how many terms each combines."""
OPERATORS = (
    "=", "!=", "<", "<=", ">", ">=", "=?", "in", "not in", "like", "not like", "ilike",
    "not ilike", "=like", "=ilike", "child_of", "parent_of", "any", "not any",
)  # fmt: skip
LIKE = frozenset({"like", "not like", "ilike", "not ilike", "=like", "=ilike"})
AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct", "bool_and", "bool_or")
GRANULARITIES = ("day", "week", "month", "quarter", "year")
MAGIC_FIELDS = frozenset(
    {"id", "display_name", "create_uid", "create_date", "write_uid", "write_date", "__last_update"}
)
"""Fields Odoo sets itself: never written."""
TRUE_LEAF = [1, "=", 1]
FALSE_LEAF = [0, "=", 1]
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$")
_ORDER_TERM = re.compile(
    r"^(?P<field>[A-Za-z_]\w*)(?:\s+(?P<direction>asc|desc))?(?:\s+nulls\s+(?:first|last))?$",
    re.IGNORECASE,
)
_AGGREGATE = re.compile(r"^(?P<alias>\w+)(?::(?P<function>\w+)(?:\((?P<field>\w+)\))?)?$")


class ValidationProblem(ToolError):
    """Something the caller sent cannot be sent to Odoo as it is."""


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else "; {tool:describe_model} lists the fields"


def _visible(model: str, fields: Mapping[str, FieldInfo], policy: AccessPolicy) -> list[str]:
    return [name for name in fields if not policy.is_hidden(model, name)]


def field_of(
    model: str, name: str, fields: Mapping[str, FieldInfo], policy: AccessPolicy
) -> FieldInfo:
    """The field ``name`` of ``model``, or a problem saying it is unknown or hidden."""
    if policy.is_hidden(model, name):
        raise ValidationProblem(
            f"{model}.{name} is a sensitive field: this instance never reads, writes or searches it"
        )
    info = fields.get(name)
    if info is None:
        raise ValidationProblem(
            f"{model} has no field {name!r}{_suggest(name, _visible(model, fields, policy))}"
        )
    return info


# -- domains -------------------------------------------------------------------------------


async def check_domain(
    domain: Any,
    model: str,
    fields_of: FieldsOf,
    policy: AccessPolicy,
    *,
    where: str = "domain",
) -> list[Any]:
    """Check a domain against ``model``'s fields; return it as lists, ready to send.

    Args:
        domain: The domain: ``[field, operator, value]`` terms and ``"&"``, ``"|"``,
            ``"!"`` in prefix notation (``None`` or ``[]``: everything).
        model: The model it filters.
        fields_of: Gives a model's fields (to follow paths such as ``partner_id.name``).
        policy: The instance's access policy (hidden fields, readable models).
        where: How messages name the domain (``domain``, ``domain[1][2]``).

    Raises:
        ValidationProblem: The first problem found, naming the term that holds it.
    """
    if domain is None:
        return []
    if not isinstance(domain, list | tuple):
        raise ValidationProblem(
            f"The {where} must be a list of [field, operator, value] terms, such as "
            '[["name", "ilike", "acme"]], not {domain!r}'
        )
    items = list(domain)
    _check_structure(items, where)
    result: list[Any] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            result.append(item)
        else:
            result.append(await _check_term(item, f"{where}[{index}]", model, fields_of, policy))
    return result


def _check_structure(items: list[Any], where: str) -> None:
    """Check the prefix notation: each operator is followed by enough terms."""
    position = 0

    def expression() -> None:
        nonlocal position
        index = position
        item = items[index]
        position += 1
        if isinstance(item, str):
            if item not in LOGICAL:
                raise ValidationProblem(
                    f"{where}[{index}] {item!r} is not a domain operator: between terms use "
                    '"&" (and), "|" (or) or "!" (not); a condition is a [field, operator, '
                    "value] list"
                )
            arity = LOGICAL[item]
            for found in range(arity):
                if position >= len(items):
                    raise ValidationProblem(
                        f"{where}[{index}] {item!r} combines the {_terms(arity)} after it, but "
                        f"the domain ends after {_terms(found)}: add the missing term or "
                        f"remove the {item!r} (terms are ANDed without one)"
                    )
                expression()
        elif not isinstance(item, list | tuple):
            raise ValidationProblem(
                f"{where}[{index}] {item!r} is not a term: write [field, operator, value]"
            )

    while position < len(items):
        expression()


def _terms(count: int) -> str:
    return "one term" if count == 1 else f"{count} terms" if count else "no term"


async def _check_term(
    term: Any, where: str, model: str, fields_of: FieldsOf, policy: AccessPolicy
) -> list[Any]:
    shown = f"{where} {list(term)!r}"
    if len(term) != 3:
        raise ValidationProblem(f"{shown}: a term has three items, [field, operator, value]")
    left, operator, value = term
    if [left, operator, value] in (TRUE_LEAF, FALSE_LEAF):
        return [left, operator, value]
    if not isinstance(left, str) or not _PATH.match(left):
        raise ValidationProblem(
            f"{shown}: the first item must be a field name, or a path through relations "
            "such as partner_id.name"
        )
    if not isinstance(operator, str) or operator.lower() not in OPERATORS:
        raise ValidationProblem(
            f"{shown}: {operator!r} is not an operator; use one of "
            + ", ".join(repr(op) for op in OPERATORS)
        )
    operator = operator.lower()
    current = model
    parts = left.split(".")
    info: FieldInfo | None = None
    for index, part in enumerate(parts):
        fields = await fields_of(current)
        try:
            info = field_of(current, part, fields, policy)
        except ValidationProblem as problem:
            raise ValidationProblem(f"{shown}: {problem}") from None
        if index < len(parts) - 1:
            if not info.relational or not info.relation:
                raise ValidationProblem(
                    f"{shown}: {current}.{part} is a {info.type} field, not a relation; "
                    "only relational fields can be followed with '.'"
                )
            policy.require(info.relation, "read", reason=f"{shown} follows {part} into it")
            current = info.relation
    assert info is not None
    if operator in ("any", "not any"):
        if not info.relational or not info.relation:
            raise ValidationProblem(
                f"{shown}: {operator!r} applies a domain to related records, but "
                f"{current}.{info.name} is a {info.type} field"
            )
        policy.require(info.relation, "read", reason=f"{shown} searches it")
        inner = await check_domain(value, info.relation, fields_of, policy, where=f"{where}[2]")
        return [left, operator, inner]
    wrong = _value_problem(current, info, operator, value)
    if wrong:
        raise ValidationProblem(f"{shown}: {wrong}")
    return [left, operator, list(value) if isinstance(value, tuple) else value]


def _value_problem(model: str, info: FieldInfo, operator: str, value: Any) -> str | None:
    if operator in ("in", "not in"):
        if not isinstance(value, list | tuple):
            return f"{operator!r} compares with a list of values, e.g. [1, 2]"
        for item in value:
            problem = _scalar_problem(model, info, operator, item)
            if problem:
                return problem
        return None
    if operator in LIKE:
        if not isinstance(value, str):
            return f"{operator!r} matches text: give a string (% and _ are wildcards)"
        return None
    if operator in ("child_of", "parent_of"):
        ids = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, int | str) and not isinstance(item, bool) for item in ids):
            return f"{operator!r} takes a record id, a list of ids or a name"
        return None
    if isinstance(value, list | tuple):
        return f"{operator!r} compares with one value: use 'in' or 'not in' for a list"
    if operator in ("<", "<=", ">", ">=") and (value is None or value is False):
        return f"{operator!r} needs a value to compare with, not {value!r}"
    return _scalar_problem(model, info, operator, value)


def _scalar_problem(model: str, info: FieldInfo, operator: str, value: Any) -> str | None:
    if value is None or value is False:
        return None  # False is how Odoo writes "not set"
    name = f"{model}.{info.name}"
    kind = info.type
    if kind in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} is a number ({kind}): compare it with a number, not {value!r}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"{name} is true or false: compare it with true or false, not {value!r}"
    elif kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return f"{name} is a date: write it as 'YYYY-MM-DD', not {value!r}"
    elif kind == "datetime":
        if not isinstance(value, str) or not _DATETIME.match(value):
            return (
                f"{name} is a date and time: write it as 'YYYY-MM-DD HH:MM:SS' (UTC) or "
                f"'YYYY-MM-DD', not {value!r}"
            )
    elif kind == "selection":
        keys = [key for key, _label in info.selection or ()]
        if keys and value not in keys:
            choices = ", ".join(f"{key!r} ({label})" for key, label in info.selection or ())
            return f"{value!r} is not a value of {name}; it is one of {choices}"
    elif kind in ("many2one", "one2many", "many2many"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            return f"{name} links to {info.relation}: compare it with a record id or a name"
    elif kind in ("char", "text", "html") and not isinstance(value, str):
        return f"{name} is text: compare it with a string, not {value!r}"
    return None


# -- fields, orders, groupings, values ---------------------------------------------------


def check_fields(
    model: str, names: Sequence[str], fields: Mapping[str, FieldInfo], policy: AccessPolicy
) -> list[str]:
    """The requested fields, checked to exist and not be sensitive, without duplicates."""
    for name in names:
        field_of(model, name, fields, policy)
    return list(dict.fromkeys(names))


def default_fields(model: str, fields: Mapping[str, FieldInfo], policy: AccessPolicy) -> list[str]:
    """What a read without a field list returns: stored, non-binary, non-sensitive fields.

    Computed fields that are not stored can be slow to compute for many records and
    binary fields are large, so they are read only when asked for (``display_name``
    excepted: it names the record).
    """
    return [
        name
        for name, info in fields.items()
        if not policy.is_hidden(model, name)
        and info.type != "binary"
        and (info.store or name == "display_name")
    ]


def check_order(
    model: str, order: str, fields: Mapping[str, FieldInfo], policy: AccessPolicy
) -> str:
    """An ``order`` such as ``"date_order desc, id"``, checked against the model."""
    terms = []
    for part in order.split(","):
        text = " ".join(part.split())
        if not text:
            continue
        match = _ORDER_TERM.match(text)
        if match is None:
            raise ValidationProblem(
                f"order term {text!r}: write a field name followed by asc or desc, e.g. "
                "'date_order desc, id'"
            )
        info = field_of(model, match.group("field"), fields, policy)
        if not info.sortable:
            raise ValidationProblem(
                f"order term {text!r}: {model}.{info.name} is not stored, so Odoo cannot sort by it"
            )
        terms.append(text)
    if not terms:
        raise ValidationProblem("order is empty: give a field name, e.g. 'name asc'")
    return ", ".join(terms)


def check_groupby(
    model: str, specs: Sequence[str], fields: Mapping[str, FieldInfo], policy: AccessPolicy
) -> list[str]:
    """Group-by specs (``partner_id``, ``date_order:month``), checked against the model."""
    result = []
    for spec in specs:
        name, _, granularity = spec.partition(":")
        info = field_of(model, name, fields, policy)
        if not info.groupable:
            raise ValidationProblem(
                f"groupby {spec!r}: {model}.{name} is not stored, so Odoo cannot group by it"
            )
        if granularity:
            if info.type not in ("date", "datetime"):
                raise ValidationProblem(
                    f"groupby {spec!r}: only date and datetime fields take a granularity"
                )
            if granularity not in GRANULARITIES:
                raise ValidationProblem(
                    f"groupby {spec!r}: the granularity is one of {', '.join(GRANULARITIES)}"
                )
        result.append(spec)
    return result


def check_aggregates(
    model: str, specs: Sequence[str], fields: Mapping[str, FieldInfo], policy: AccessPolicy
) -> list[str]:
    """Aggregate specs (``amount_total:sum``, ``partner_id:count_distinct``, ``__count``)."""
    result = []
    for spec in specs:
        if spec == "__count":
            result.append(spec)
            continue
        match = _AGGREGATE.match(spec)
        if match is None:
            raise ValidationProblem(
                f"aggregate {spec!r}: write field:function, e.g. 'amount_total:sum'"
            )
        name = match.group("field") or match.group("alias")
        function = match.group("function")
        info = field_of(model, name, fields, policy)
        if function is not None and function not in AGGREGATES:
            raise ValidationProblem(
                f"aggregate {spec!r}: the function is one of {', '.join(AGGREGATES)}"
            )
        if function in ("sum", "avg") and info.type not in NUMERIC:
            raise ValidationProblem(
                f"aggregate {spec!r}: {model}.{name} is a {info.type} field; sum and avg "
                "need a number (try count or count_distinct)"
            )
        if function is None and info.type not in NUMERIC:
            raise ValidationProblem(
                f"aggregate {spec!r}: say how to aggregate a {info.type} field, e.g. "
                f"'{name}:count_distinct'"
            )
        result.append(spec)
    return result


def check_values(
    model: str,
    values: Mapping[str, Any],
    fields: Mapping[str, FieldInfo],
    policy: AccessPolicy,
) -> dict[str, Any]:
    """Values to create or write, checked: known, writable by callers, not sensitive."""
    if not values:
        raise ValidationProblem("values is empty: give at least one field and its value")
    for name, value in values.items():
        info = field_of(model, name, fields, policy)
        if name in MAGIC_FIELDS:
            raise ValidationProblem(f"{model}.{name} is set by Odoo itself and cannot be written")
        if (
            info.type in ("one2many", "many2many")
            and value is not False
            and not isinstance(value, list)
        ):
            raise ValidationProblem(
                f"{model}.{name} links to several {info.relation} records: give a list of "
                "ids, or Odoo's commands such as [[0, 0, {values}]] to create one"
            )
    return dict(values)
