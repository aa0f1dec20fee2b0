"""Computed fields of the fake's models: names, totals, taxes, display names."""

from __future__ import annotations

from typing import Any

from plugbay_odoo.fake.orm import (
    Orm,
    Row,
)

TAX_RATE = 0.15
"""The one sales tax of the fake: 15 %, on every order line."""

LANGUAGES = (
    ("en_US", "English (US)"),
    ("fr_FR", "French / Français"),
    ("de_DE", "German / Deutsch"),
)
FIELD_TYPES = tuple(
    (name, name)
    for name in (
        "binary", "boolean", "char", "date", "datetime", "float", "html", "integer",
        "many2many", "many2one", "monetary", "one2many", "selection", "text",
    )
)  # fmt: skip


def _partner_name(orm: Orm, row: Row) -> str:
    parent = orm.row("res.partner", row.get("parent_id") or 0)
    name = row.get("name") or ""
    if parent is not None and not row.get("is_company"):
        return f"{parent.get('name') or ''}, {name}"
    return str(name)


def _company_type(orm: Orm, row: Row) -> str:
    return "company" if row.get("is_company") else "person"


def _user_email(orm: Orm, row: Row) -> Any:
    partner = orm.row("res.partner", row.get("partner_id") or 0)
    return partner.get("email", False) if partner else False


def _line_subtotal(orm: Orm, row: Row) -> float:
    quantity = float(row.get("product_uom_qty") or 0.0)
    price = float(row.get("price_unit") or 0.0)
    discount = float(row.get("discount") or 0.0)
    return round(quantity * price * (1 - discount / 100), 2)


def _line_tax(orm: Orm, row: Row) -> float:
    return round(_line_subtotal(orm, row) * TAX_RATE, 2)


def _line_total(orm: Orm, row: Row) -> float:
    return round(_line_subtotal(orm, row) + _line_tax(orm, row), 2)


def _order_lines(orm: Orm, row: Row) -> list[Row]:
    return [
        line for line in orm.tables["sale.order.line"].values() if line["order_id"] == row["id"]
    ]


def _order_untaxed(orm: Orm, row: Row) -> float:
    return round(sum(_line_subtotal(orm, line) for line in _order_lines(orm, row)), 2)


def _order_tax(orm: Orm, row: Row) -> float:
    return round(sum(_line_tax(orm, line) for line in _order_lines(orm, row)), 2)


def _order_total(orm: Orm, row: Row) -> float:
    return round(_order_untaxed(orm, row) + _order_tax(orm, row), 2)


def _line_display(orm: Orm, row: Row) -> str:
    order = orm.row("sale.order", row.get("order_id") or 0)
    order_name = order.get("name") if order else ""
    return f"{order_name} - {row.get('name') or ''}"


def _complete_line(orm: Orm, row: Row) -> None:
    product = orm.row("product.product", row.get("product_id") or 0)
    if product is None:
        return
    if not row.get("name"):
        code = product.get("default_code")
        row["name"] = f"[{code}] {product['name']}" if code else product["name"]
    if not row.get("price_unit"):
        row["price_unit"] = float(product.get("list_price") or 0.0)


def _complete_order(orm: Orm, row: Row) -> None:
    if not row.get("name") or row["name"] == "New":
        row["name"] = f"S{row['id']:05d}"


def _move_display(orm: Orm, row: Row) -> str:
    if row.get("name") and row["name"] != "/":
        return str(row["name"])
    kind = "Draft Invoice" if row.get("move_type") == "out_invoice" else "Draft Entry"
    return f"{kind} (* {row['id']})"


def _first_stage(orm: Orm) -> int | bool:
    stages = sorted(orm.tables["crm.stage"].values(), key=lambda s: (s["sequence"], s["id"]))
    return stages[0]["id"] if stages else False
