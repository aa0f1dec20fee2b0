"""Reading, grouping and changing records through the MCP client, over both protocols."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import mcp_types as types

from plugbay_odoo.fake import OdooFake

from .conftest import ServeOdoo


def json_of(contents: list[Any]) -> Any:
    (content,) = contents
    assert isinstance(content, types.TextResourceContents)
    assert content.mime_type == "application/json"
    return json.loads(content.text)


DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


async def test_search_read_returns_values_as_odoo_sends_them(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        page = await odoo.ok(
            "search_read",
            model="sale.order",
            domain=[["name", "=", "S00001"]],
            fields=["name", "partner_id", "date_order", "validity_date", "note", "amount_total"],
        )
    (order,) = page["records"]
    assert order == {
        "id": 1,
        "name": "S00001",
        "partner_id": [10, "Azure Interior"],
        # Dates and datetimes stay the strings Odoo sends; empty values stay false.
        "date_order": "2024-05-02 10:15:00",
        "validity_date": "2024-06-01",
        "note": False,
        "amount_total": 2183.96,
    }
    assert (page["count"], page["offset"], page["has_more"]) == (1, 0, False)


async def test_default_fields_are_stored_non_binary_and_not_sensitive(
    serve_odoo: ServeOdoo,
) -> None:
    async with serve_odoo() as odoo:
        page = await odoo.ok("search_read", model="res.partner", domain=[["id", "=", 10]])
    (partner,) = page["records"]
    assert partner["display_name"] == "Azure Interior"
    assert DATETIME.match(partner["create_date"])
    assert partner["child_ids"] == [11, 12]
    assert "image_128" not in partner  # binary: only when asked for
    assert "company_type" not in partner  # computed, not stored
    assert "signup_token" not in partner  # sensitive: never


async def test_pages_say_whether_more_records_match(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        first = await odoo.ok(
            "search_read", model="res.partner", fields=["name"], limit=4, order="name"
        )
        rest = await odoo.ok(
            "search_read", model="res.partner", fields=["name"], limit=50, offset=4, order="name"
        )
        total = await odoo.ok("count", model="res.partner")
    assert first["has_more"] is True
    assert rest["has_more"] is False
    names = [r["name"] for r in first["records"] + rest["records"]]
    assert names == sorted(names)
    assert len(names) == total["count"] == 11  # the archived Wood Corner is left out


async def test_limits_are_cut_to_max_records(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo(max_records=3) as odoo:
        page = await odoo.ok("search_read", model="res.partner", fields=["name"], limit=100)
        too_many = await odoo.error("read", model="res.partner", ids=[1, 3, 7, 10])
    assert (page["count"], page["limit"], page["has_more"]) == (3, 3, True)
    assert "max_records = 3" in too_many


async def test_read_keeps_the_order_of_the_ids(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        found = await odoo.ok("read", model="res.partner", ids=[14, 10, 14], fields=["name"])
    assert found["records"] == [
        {"id": 14, "name": "Deco Addict"},
        {"id": 10, "name": "Azure Interior"},
    ]


async def test_order_and_relational_paths(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        page = await odoo.ok(
            "search_read",
            model="sale.order",
            domain=[["partner_id.city", "=", "Fremont"]],
            fields=["name"],
            order="date_order desc",
        )
    assert [r["name"] for r in page["records"]] == ["S00001", "S00004"]


async def test_name_search_and_count(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        found = await odoo.ok("name_search", model="res.partner", name="azure", limit=2)
        exact = await odoo.ok(
            "name_search",
            model="product.product",
            name="[FURN_7777] Office Chair",
            operator="=",
        )
        leads = await odoo.ok("count", model="crm.lead", domain=[["stage_id.name", "=", "New"]])
    assert found["matches"] == [
        {"id": 10, "name": "Azure Interior"},
        {"id": 11, "name": "Azure Interior, Brandon Freeman"},
    ]
    assert exact["matches"] == [{"id": 5, "name": "[FURN_7777] Office Chair"}]
    assert leads["count"] == 2


async def test_read_group_with_granularity_and_order(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        grouped = await odoo.ok(
            "read_group",
            model="sale.order",
            groupby=["date_order:month"],
            aggregates=["amount_total:sum", "partner_id:count_distinct"],
            order="amount_total desc",
        )
        by_stage = await odoo.ok(
            "read_group",
            model="crm.lead",
            groupby=["stage_id"],
            aggregates=["expected_revenue:sum", "probability:avg"],
        )
    may, april = grouped["groups"]
    assert may["date_order:month"] == "May 2024"
    assert may["__count"] == 3
    assert may["partner_id"] == 3
    assert round(may["amount_total"], 2) == 4886.46
    assert may["__domain"] == [
        "&",
        ["date_order", ">=", "2024-05-01"],
        ["date_order", "<", "2024-06-01"],
    ]
    assert april["amount_total"] == 92.0
    # Groups of a many2one follow the related model's order (stages by sequence).
    assert [group["stage_id"][1] for group in by_stage["groups"]] == [
        "New",
        "Qualified",
        "Proposition",
        "Won",
    ]
    assert by_stage["groups"][0]["expected_revenue"] == 19800.0


async def test_create_write_and_unlink(serve_odoo: ServeOdoo, odoo_fake: OdooFake) -> None:
    async with serve_odoo() as odoo:
        created = await odoo.ok(
            "create",
            model="sale.order",
            values={
                "partner_id": 14,
                "order_line": [[0, 0, {"product_id": 5, "product_uom_qty": 2}]],
            },
        )
        (order_id,) = created["ids"]
        several = await odoo.ok(
            "create", model="crm.tag", values=[{"name": "Urgent"}, {"name": "Export"}]
        )
        await odoo.ok("write", model="sale.order", ids=[order_id], values={"note": "<p>rush</p>"})
        read = await odoo.ok(
            "read", model="sale.order", ids=[order_id], fields=["name", "note", "amount_total"]
        )
        await odoo.ok("unlink", model="crm.tag", ids=several["ids"])
    assert read["records"] == [
        {"id": order_id, "name": f"S{order_id:05d}", "note": "<p>rush</p>", "amount_total": 161.0}
    ]
    assert len(several["ids"]) == 2
    assert all(odoo_fake.record("crm.tag", i) is None for i in several["ids"])
    lines = [line for line in odoo_fake.records("sale.order.line") if line["order_id"] == order_id]
    assert [line["name"] for line in lines] == ["[FURN_7777] Office Chair"]


async def test_call_method_runs_allowed_methods_only(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo() as odoo:
        off = await odoo.error("call_method", model="sale.order", method="action_confirm", ids=[1])
    assert "call_method is off" in off
    assert 'allow_methods = ["sale.order.action_confirm"]' in off

    async with serve_odoo(allow_methods=["sale.order.action_confirm"]) as odoo:
        confirmed = await odoo.ok(
            "call_method", model="sale.order", method="action_confirm", ids=[1]
        )
        other = await odoo.error("call_method", model="sale.order", method="action_cancel", ids=[1])
        again = await odoo.error(
            "call_method", model="sale.order", method="action_confirm", ids=[1]
        )
    assert confirmed == {
        "model": "sale.order",
        "method": "action_confirm",
        "ids": [1],
        "result": True,
    }
    record = odoo_fake.record("sale.order", 1)
    assert record is not None
    assert record["state"] == "sale"
    assert "sale.order.action_cancel is not one of the methods" in other
    assert odoo_fake.count(model_method="action_cancel") == 0
    assert again == (
        "Odoo refused sale.order.action_confirm: "
        "Some orders are not in a state requiring confirmation."
    )


async def test_call_method_passes_odoo_results_through(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo(allow_methods=["account.move.action_post"]) as odoo:
        posted = await odoo.ok("call_method", model="account.move", method="action_post", ids=[3])
        move = await odoo.ok(
            "read", model="account.move", ids=[3], fields=["name", "state", "invoice_date"]
        )
    # Odoo's action_post returns False: passed back as it is.
    assert posted["result"] is False
    today = datetime.now(UTC).date().isoformat()
    assert move["records"] == [
        {"id": 3, "name": f"INV/{today[:4]}/00001", "state": "posted", "invoice_date": today}
    ]


async def test_discovery_lists_and_describes_models(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo(
        models={"res.partner": ["read", "write"], "sale.order": ["read"]}
    ) as odoo:
        listed = await odoo.ok("list_models")
        described = await odoo.ok("describe_model", model="sale.order")
        info = await odoo.ok("server_info")
    assert listed == {
        "models": [
            {"model": "res.partner", "name": "Contact", "permissions": ["read", "write"]},
            {"model": "sale.order", "name": "Sales Order", "permissions": ["read"]},
        ],
        "total": 2,
        "truncated": False,
    }
    fields = {field["name"]: field for field in described["fields"]}
    assert fields["partner_id"] == {
        "name": "partner_id",
        "type": "many2one",
        "string": "Customer",
        "required": True,
        "readonly": False,
        "stored": True,
        "relation": "res.partner",
    }
    assert fields["state"]["selection"][2] == ["sale", "Sales Order"]
    assert fields["amount_total"]["readonly"] is True
    assert info["server_version"] == "18.0"
    assert info["uid"] == 2
    assert [m["model"] for m in info["models"]] == ["res.partner", "sale.order"]


async def test_resources_read_records_and_schemas(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        harness = odoo.harness
        record = json_of(await harness.read("odoo://erp/res.partner/14"))
        schema = json_of(await harness.read("odoo://erp/crm.lead"))
        root = json_of(await harness.read("odoo://erp/"))
        templates = await harness.list_resource_templates()
    assert record["name"] == "Deco Addict"
    assert "signup_token" not in record
    assert schema["model"] == "crm.lead"
    assert {"model": "crm.lead", "name": "Lead/Opportunity"}.items() <= next(
        m for m in root["models"] if m["model"] == "crm.lead"
    ).items()
    assert {t.uri_template for t in templates} == {"odoo://erp/{model}", "odoo://erp/{model}/{id}"}
