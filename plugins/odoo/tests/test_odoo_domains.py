"""Domains: checked before they are sent, errors pointing at the bad term; then run by Odoo."""

from __future__ import annotations

from typing import Any

import pytest

from plugbay_odoo.fake import OdooFake

from .conftest import ServeOdoo

BAD_DOMAINS: list[tuple[str, Any, str]] = [
    (
        "res.partner",
        [["is_company", "=", True], ["nme", "ilike", "azure"]],
        "domain[1] ['nme', 'ilike', 'azure']: res.partner has no field 'nme'; did you mean 'name'?",
    ),
    (
        "res.partner",
        ["|", ["name", "=", "x"]],
        "domain[0] '|' combines the 2 terms after it, but the domain ends after one term",
    ),
    (
        "res.partner",
        ["!"],
        "domain[0] '!' combines the one term after it, but the domain ends after no term",
    ),
    (
        "res.partner",
        [["name", "=", "x"], "or", ["name", "=", "y"]],
        "domain[1] 'or' is not a domain operator",
    ),
    (
        "res.partner",
        [["name", "equals", "x"]],
        "domain[0] ['name', 'equals', 'x']: 'equals' is not an operator",
    ),
    ("res.partner", [["name", "="]], "domain[0] ['name', '=']: a term has three items"),
    (
        "sale.order",
        [["state", "in", ["draft", "confirmed"]]],
        "domain[0] ['state', 'in', ['draft', 'confirmed']]: 'confirmed' is not a value of "
        "sale.order.state; it is one of 'draft' (Quotation), 'sent' (Quotation Sent), 'sale' "
        "(Sales Order), 'cancel' (Cancelled)",
    ),
    (
        "sale.order",
        [["date_order", ">=", "May 1st"]],
        "sale.order.date_order is a date and time: write it as 'YYYY-MM-DD HH:MM:SS' (UTC)",
    ),
    (
        "crm.lead",
        [["date_deadline", "<", "2024/07/01"]],
        "crm.lead.date_deadline is a date: write it as 'YYYY-MM-DD'",
    ),
    (
        "crm.lead",
        [["expected_revenue", ">", "1000"]],
        "crm.lead.expected_revenue is a number (monetary): compare it with a number",
    ),
    (
        "res.partner",
        [["is_company", "=", "yes"]],
        "res.partner.is_company is true or false",
    ),
    ("res.partner", [["id", "in", 5]], "'in' compares with a list of values"),
    ("res.partner", [["id", "=", [5, 6]]], "use 'in' or 'not in' for a list"),
    ("res.partner", [["name", "ilike", 5]], "'ilike' matches text: give a string"),
    (
        "res.partner",
        [["city.name", "=", "x"]],
        "res.partner.city is a char field, not a relation",
    ),
    (
        "sale.order",
        [["order_line", "any", [["product_id.nmae", "=", "Desk"]]]],
        "domain[0][2][0] ['product_id.nmae', '=', 'Desk']: product.product has no field 'nmae'; "
        "did you mean 'name'?",
    ),
    ("res.partner", {"name": "x"}, "Invalid arguments for erp_search_read: domain"),
]


@pytest.mark.parametrize(("model", "domain", "expected"), BAD_DOMAINS)
async def test_bad_domains_are_refused_with_the_term_at_fault(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake, model: str, domain: Any, expected: str
) -> None:
    async with serve_odoo() as odoo:
        before = odoo_fake.count(model_method="search_read")
        result = await odoo.harness.call("search_read", model=model, domain=domain)
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert expected in text
    # Refused by plugbay: Odoo never saw the call.
    assert odoo_fake.count(model_method="search_read") == before


GOOD_DOMAINS: list[tuple[str, list[Any], list[int]]] = [
    ("res.partner", [["is_company", "=", True], ["customer_rank", ">", 0]], [10, 14, 16]),
    ("res.partner", ["|", ["city", "=", "Tracy"], ["city", "=", "Stockton"]], [1, 3, 17, 19]),
    ("res.partner", ["!", ["parent_id", "=", False]], [3, 7, 11, 12, 15]),
    ("res.partner", [["name", "=like", "A%"]], [10, 15]),
    ("res.partner", [["name", "=ilike", "deco addict"]], [14]),
    ("res.partner", [["name", "like", "Inc"]], [19]),
    ("res.partner", [["email", "not ilike", "example.com"]], [1, 16]),
    ("res.partner", [["id", "child_of", 10]], [10, 11, 12]),
    ("res.partner", [["active", "=", False]], [18]),
    ("sale.order", [["state", "not in", ["cancel", "sale"]]], [1, 3]),
    ("sale.order", [["order_line", "any", [["product_id.default_code", "=", "E-COM09"]]]], [1]),
    ("sale.order", [["amount_total", ">=", 1000], ["date_order", "<", "2024-05-15"]], [1, 2]),
    ("crm.lead", [["tag_ids.name", "=", "Furniture"]], [1, 2]),
    ("crm.lead", [["date_deadline", "=", False]], [3, 4]),
    ("crm.lead", ["&", ["stage_id.is_won", "=", False], ["user_id", "in", [2, 6]]], [1, 2, 3]),
    ("account.move", [["partner_id", "ilike", "azure"]], [2]),
    ("res.partner", [[1, "=", 1], ["vat", "!=", False]], [10]),
]


@pytest.mark.parametrize(("model", "domain", "ids"), GOOD_DOMAINS)
async def test_valid_domains_reach_odoo_and_select_the_right_records(
    serve_odoo: ServeOdoo, model: str, domain: list[Any], ids: list[int]
) -> None:
    async with serve_odoo() as odoo:
        page = await odoo.ok("search_read", model=model, domain=domain, fields=["id"], limit=200)
    assert sorted(record["id"] for record in page["records"]) == ids


async def test_orders_groupings_and_aggregates_are_checked_too(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        order = await odoo.error("search_read", model="res.partner", order="nmae desc")
        direction = await odoo.error("search_read", model="res.partner", order="name downwards")
        unstored = await odoo.error("search_read", model="res.partner", order="company_type")
        granularity = await odoo.error("read_group", model="sale.order", groupby=["state:month"])
        aggregate = await odoo.error(
            "read_group", model="sale.order", groupby=["state"], aggregates=["name:sum"]
        )
        group_order = await odoo.error(
            "read_group", model="sale.order", groupby=["state"], order="amount_total desc"
        )
        fields = await odoo.error("read", model="res.partner", ids=[10], fields=["nam"])
        values = await odoo.error("write", model="res.partner", ids=[10], values={"citty": "X"})
        magic = await odoo.error("write", model="res.partner", ids=[10], values={"id": 4})
    assert "res.partner has no field 'nmae'; did you mean 'name'?" in order
    assert "order term 'name downwards'" in direction
    assert "not stored, so Odoo cannot sort by it" in unstored
    assert "only date and datetime fields take a granularity" in granularity
    assert "sale.order.name is a char field; sum and avg need a number" in aggregate
    assert "groups sort by a groupby field, an aggregate or __count" in group_order
    assert "res.partner has no field 'nam'; did you mean 'name'?" in fields
    assert "did you mean 'city'?" in values
    assert "res.partner.id is set by Odoo itself" in magic
