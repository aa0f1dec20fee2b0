"""Domains: parsing Odoo's prefix notation and matching records against it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plugbay_odoo.fake.orm.schema import (
    NEGATIVE,
    OPERATORS,
    RELATIONAL,
    Field,
    Model,
    Row,
)
from plugbay_odoo.fake.orm.state import OrmState

# -- domains -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Leaf:
    path: str
    operator: str
    value: Any
    raw: Any


Node = tuple[Any, ...]
"""A parsed domain: ``("&", a, b)``, ``("|", a, b)``, ``("!", a)``, ``("leaf", _Leaf)``,
``("true",)`` or ``("false",)``."""


def parse_domain(domain: Any) -> Node:
    """Parse a domain into a tree, failing on bad syntax as Odoo does (``ValueError``)."""
    if domain in (None, False):
        return ("true",)
    if not isinstance(domain, list | tuple):
        raise ValueError(f"Invalid domain: {domain!r}")
    items = list(domain)
    if not items:
        return ("true",)
    position = 0

    def parse() -> Node:
        nonlocal position
        if position >= len(items):
            raise ValueError(f"Domain {items!r} is syntactically not correct.")
        token = items[position]
        position += 1
        if token in ("&", "|"):
            left = parse()
            return (token, left, parse())
        if token == "!":  # noqa: S105 - the NOT operator, not a password
            return ("!", parse())
        return _leaf(token)

    nodes = [parse()]
    while position < len(items):
        nodes.append(parse())
    tree = nodes[-1]
    for node in reversed(nodes[:-1]):
        tree = ("&", node, tree)
    return tree


def _leaf(token: Any) -> Node:
    if isinstance(token, list | tuple) and len(token) == 3:
        left, operator, value = token
        if (left, operator, value) == (1, "=", 1):
            return ("true",)
        if (left, operator, value) == (0, "=", 1):
            return ("false",)
        if isinstance(left, str) and isinstance(operator, str):
            operator = operator.lower()
            if operator not in OPERATORS:
                raise ValueError(f"Invalid operator {operator!r} in domain term {list(token)!r}")
            return ("leaf", _Leaf(left, operator, value, list(token)))
    raise ValueError(f"Invalid leaf {token!r}")


def _like(pattern: str, value: str, *, insensitive: bool) -> bool:
    regex = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )
    flags = re.IGNORECASE | re.DOTALL if insensitive else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


def _names_domain(node: Node) -> set[str]:
    if node[0] == "leaf":
        return {node[1].path.split(".")[0]}
    return {name for child in node[1:] if isinstance(child, tuple) for name in _names_domain(child)}


def compare_scalar(definition: Field, current: Any, operator: str, value: Any) -> bool:
    """Whether a stored value satisfies ``operator value`` (empty values as Odoo treats them)."""
    empty = (
        current is False
        or current is None
        or (definition.type in ("char", "text", "html", "selection") and current == "")
    )
    if definition.type == "boolean":
        current = bool(current)
        empty = False
    if operator in ("=", "!=", "<>"):
        if value is False or value is None:
            result = empty if definition.type != "boolean" else current is False
        else:
            result = not empty and current == value
        return result if operator == "=" else not result
    if operator in ("in", "not in"):
        wanted = list(value)
        result = (empty and False in wanted) or (not empty and current in wanted)
        return result if operator == "in" else not result
    if operator in ("<", "<=", ">", ">="):
        if empty or value is False or value is None:
            return False
        try:
            if operator == "<":
                return bool(current < value)
            if operator == "<=":
                return bool(current <= value)
            if operator == ">":
                return bool(current > value)
            return bool(current >= value)
        except TypeError:
            raise ValueError(f"Cannot compare {definition.name} with {value!r}") from None
    if operator in ("like", "ilike", "=like", "=ilike"):
        if empty:
            return False
        pattern = str(value)
        if operator in ("like", "ilike"):
            pattern = f"%{pattern}%"
        return _like(pattern, str(current), insensitive=operator in ("ilike", "=ilike"))
    raise ValueError(f"Invalid operator {operator!r}")


class DomainMatching(OrmState):
    """Matching rows against parsed domains (mixed into :class:`Orm`)."""

    # -- domains -----------------------------------------------------------------------

    def matches(self, model: Model, row: Row, node: Node) -> bool:
        """Whether ``row`` satisfies the parsed domain ``node``."""
        kind = node[0]
        if kind == "true":
            return True
        if kind == "false":
            return False
        if kind == "&":
            return self.matches(model, row, node[1]) and self.matches(model, row, node[2])
        if kind == "|":
            return self.matches(model, row, node[1]) or self.matches(model, row, node[2])
        if kind == "!":
            return not self.matches(model, row, node[1])
        leaf: _Leaf = node[1]
        return self._match_path(model, row, leaf.path, leaf.operator, leaf.value, leaf)

    def check_domain(self, model: Model, node: Node) -> None:
        """Raise Odoo's ``ValueError`` for unknown fields in a parsed domain."""
        if node[0] == "leaf":
            leaf: _Leaf = node[1]
            current = model
            parts = leaf.path.split(".")
            for index, part in enumerate(parts):
                definition = current.fields.get(part)
                if definition is None:
                    raise ValueError(
                        f"Invalid field {current.name}.{part} in leaf {tuple(leaf.raw)!r}"
                    )
                if index < len(parts) - 1:
                    if definition.type not in RELATIONAL:
                        raise ValueError(
                            f"Invalid field {current.name}.{part} in leaf {tuple(leaf.raw)!r}: "
                            f"{part} is not a relational field"
                        )
                    current = self.models[definition.relation or ""]
            final = current.fields[parts[-1]]
            if leaf.operator in ("any", "not any"):
                if final.type not in RELATIONAL:
                    raise ValueError(
                        f"Invalid leaf {tuple(leaf.raw)!r}: operator {leaf.operator!r} needs a "
                        "relational field"
                    )
                self.check_domain(self.models[final.relation or ""], parse_domain(leaf.value))
            if leaf.operator in ("in", "not in") and not isinstance(leaf.value, list | tuple):
                raise ValueError(
                    f"Invalid leaf {tuple(leaf.raw)!r}: the value of {leaf.operator!r} must be "
                    "a list"
                )
            return
        for child in node[1:]:
            if isinstance(child, tuple):
                self.check_domain(model, child)

    def _match_path(
        self, model: Model, row: Row, path: str, operator: str, value: Any, leaf: _Leaf
    ) -> bool:
        head, _, rest = path.partition(".")
        definition = model.fields[head]
        if rest:
            comodel = self.models[definition.relation or ""]
            related = [
                self.tables[comodel.name][i]
                for i in self._related_ids(model, row, definition)
                if i in self.tables[comodel.name]
            ]
            if operator in NEGATIVE:
                positive = NEGATIVE[operator]
                return not any(
                    self._match_path(comodel, other, rest, positive, value, leaf)
                    for other in related
                )
            return any(
                self._match_path(comodel, other, rest, operator, value, leaf) for other in related
            )
        return self._compare(model, row, definition, operator, value)

    def _compare(
        self, model: Model, row: Row, definition: Field, operator: str, value: Any
    ) -> bool:
        if operator == "=?":
            if value in (None, False):
                return True
            operator = "="
        if operator in ("any", "not any"):
            comodel = self.models[definition.relation or ""]
            node = parse_domain(value)
            found = any(
                self.matches(comodel, self.tables[comodel.name][i], node)
                for i in self._related_ids(model, row, definition)
                if i in self.tables[comodel.name]
            )
            return found if operator == "any" else not found
        if operator in ("child_of", "parent_of"):
            return self._hierarchy(model, row, definition, operator, value)
        if operator in NEGATIVE and operator not in ("<>", "!="):
            return not self._compare(model, row, definition, NEGATIVE[operator], value)
        if definition.type in RELATIONAL:
            return self._compare_relational(model, row, definition, operator, value)
        current = self.value(model, row, definition.name)
        return compare_scalar(definition, current, operator, value)

    def _compare_relational(
        self, model: Model, row: Row, definition: Field, operator: str, value: Any
    ) -> bool:
        ids = self._related_ids(model, row, definition)
        comodel = self.models[definition.relation or ""]
        if operator in ("!=", "<>"):
            return not self._compare_relational(model, row, definition, "=", value)
        if isinstance(value, str) or (
            isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value)
        ):
            # A name instead of ids: compared with the related records' display names.
            names = [
                self.display_name(comodel, self.tables[comodel.name][i])
                for i in ids
                if i in self.tables[comodel.name]
            ]
            text_field = Field("char", "Name", name="display_name")
            return any(compare_scalar(text_field, name, operator, value) for name in names)
        if operator == "=":
            if value in (False, None):
                return not ids
            return value in ids
        if operator == "in":
            wanted = list(value)
            if False in wanted and not ids:
                return True
            return any(i in wanted for i in ids)
        if operator in ("<", "<=", ">", ">="):
            return any(compare_scalar(definition, i, operator, value) for i in ids)
        if operator in ("like", "ilike", "=like", "=ilike"):
            return False
        raise ValueError(f"Invalid operator {operator!r} for field {definition.name}")

    def _hierarchy(
        self, model: Model, row: Row, definition: Field, operator: str, value: Any
    ) -> bool:
        target = self.models[definition.relation or ""] if definition.type in RELATIONAL else model
        parent = target.parent_name
        if parent is None:
            raise ValueError(f"Invalid operator {operator!r}: {target.name} has no hierarchy")
        roots = {value} if isinstance(value, int) else set(value or [])
        related = (
            self._related_ids(model, row, definition)
            if definition.type in RELATIONAL
            else [row["id"]]
        )
        for record_id in related:
            if operator == "child_of":
                current: Any = record_id
                seen: set[int] = set()
                while current and current not in seen:
                    if current in roots:
                        return True
                    seen.add(current)
                    current = self.tables[target.name].get(current, {}).get(parent)
            else:
                for root in roots:
                    current = root
                    seen = set()
                    while current and current not in seen:
                        if current == record_id:
                            return True
                        seen.add(current)
                        current = self.tables[target.name].get(current, {}).get(parent)
        return False

    def _search_rows(
        self, model: Model, domain: Any, context: Mapping[str, Any] | None = None
    ) -> list[Row]:
        node = parse_domain(domain)
        self.check_domain(model, node)
        active_test = (context or {}).get("active_test", True)
        if "active" in model.fields and active_test and "active" not in _names_domain(node):
            node = ("&", ("leaf", _Leaf("active", "=", True, ["active", "=", True])), node)
        return [row for row in self.tables[model.name].values() if self.matches(model, row, node)]
