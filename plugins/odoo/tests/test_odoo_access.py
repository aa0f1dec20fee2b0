"""Access control in plugbay: granted models and rights, sensitive fields, Odoo's own rights."""

from __future__ import annotations

from plugbay_odoo.fake import OdooFake

from .conftest import ServeOdoo


async def test_models_that_are_not_listed_are_refused_before_odoo_is_asked(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo(models={"res.partner": ["read"]}) as odoo:
        before = odoo_fake.requests
        message = await odoo.error("search_read", model="account.move")
        count = await odoo.error("count", model="crm.lead")
        schema = await odoo.error("describe_model", model="sale.order")
        after = odoo_fake.requests
    assert message == (
        "This instance may not use the model account.move: its models setting does not list "
        'it. An operator can add "account.move" = ["read"] under [connectors.erp.models].'
    )
    assert "crm.lead" in count
    assert "sale.order" in schema
    assert after == before


async def test_each_right_is_granted_separately(serve_odoo: ServeOdoo, odoo_fake: OdooFake) -> None:
    async with serve_odoo(models={"res.partner": ["read", "create"]}) as odoo:
        created = await odoo.ok("create", model="res.partner", values={"name": "Allowed"})
        write = await odoo.error("write", model="res.partner", ids=[10], values={"city": "X"})
        unlink = await odoo.error("unlink", model="res.partner", ids=created["ids"])
    assert write == (
        "This instance may not modify res.partner records: it may only read and create them. "
        'An operator can allow it with "res.partner" = ["read", "write", "create"] under '
        "[connectors.erp.models]."
    )
    assert 'allow it with "res.partner" = ["read", "create", "unlink"]' in unlink
    assert odoo_fake.count(model_method="write") == 0
    assert odoo_fake.count(model_method="unlink") == 0
    record = odoo_fake.record("res.partner", 10)
    assert record is not None
    assert record["city"] == "Fremont"


async def test_the_wildcard_covers_every_model_but_the_sensitive_ones(
    serve_odoo: ServeOdoo,
) -> None:
    async with serve_odoo(models={"*": ["read"], "sale.order": ["read", "write"]}) as odoo:
        listed = await odoo.ok("list_models", limit=100)
        moves = await odoo.ok("count", model="account.move")
        write = await odoo.error("write", model="crm.lead", ids=[1], values={"priority": "1"})
        secret = await odoo.error("search_read", model="res.users.apikeys")
    permissions = {m["model"]: m["permissions"] for m in listed["models"]}
    assert permissions["sale.order"] == ["read", "write"]
    assert permissions["ir.model"] == ["read"]
    assert permissions["account.move"] == ["read"]
    assert moves["count"] == 4
    assert "may not modify crm.lead records" in write
    assert '"*" entry does not cover it' in secret


async def test_domains_may_not_follow_relations_into_models_that_are_not_readable(
    serve_odoo: ServeOdoo,
) -> None:
    async with serve_odoo(models={"sale.order": ["read"]}) as odoo:
        message = await odoo.error(
            "search_read", model="sale.order", domain=[["partner_id.email", "ilike", "example"]]
        )
        # Reading the many2one itself is fine: Odoo sends [id, display name].
        page = await odoo.ok("search_read", model="sale.order", fields=["partner_id"], limit=1)
    assert message.startswith(
        "This instance may not use the model res.partner (domain[0] "
        "['partner_id.email', 'ilike', 'example'] follows partner_id into it)"
    )
    assert page["records"][0]["partner_id"][0] > 0


async def test_sensitive_fields_are_never_returned_searched_sorted_or_written(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo() as odoo:
        default = await odoo.ok("read", model="res.partner", ids=[10])
        users = await odoo.ok("search_read", model="res.users", domain=[["login", "=", "admin"]])
        asked = await odoo.error("read", model="res.partner", ids=[10], fields=["signup_token"])
        searched = await odoo.error(
            "count", model="res.partner", domain=[["signup_token", "like", "a"]]
        )
        sorted_by = await odoo.error("search_read", model="res.users", order="password")
        written = await odoo.error(
            "write", model="res.users", ids=[6], values={"password": "hunter2"}
        )
        grouped = await odoo.error("read_group", model="res.partner", groupby=["signup_token"])
        described = await odoo.ok("describe_model", model="res.users")
    assert "signup_token" not in default["records"][0]
    assert "password" not in users["records"][0]
    for message in (asked, searched, written, grouped):
        assert "is a sensitive field: this instance never reads, writes or searches it" in message
    assert "res.users.password is a sensitive field" in sorted_by
    assert "password" not in {field["name"] for field in described["fields"]}
    assert odoo_fake.count(model_method="write") == 0


async def test_operators_can_hide_more_fields(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo(hidden_fields=["vat", "crm.lead.expected_revenue"]) as odoo:
        partner = await odoo.ok("read", model="res.partner", ids=[10])
        lead = await odoo.ok("read", model="crm.lead", ids=[1])
        order = await odoo.ok("read", model="sale.order", ids=[1], fields=["amount_total"])
        message = await odoo.error("read", model="crm.lead", ids=[1], fields=["expected_revenue"])
    assert "vat" not in partner["records"][0]
    assert "expected_revenue" not in lead["records"][0]
    assert order["records"][0]["amount_total"] == 2183.96
    assert "crm.lead.expected_revenue is a sensitive field" in message


async def test_odoo_access_rights_still_apply(serve_odoo: ServeOdoo, odoo_fake: OdooFake) -> None:
    # plugbay grants everything; the Odoo user "demo" may not see invoices.
    async with serve_odoo("demo") as odoo:
        partners = await odoo.ok("count", model="res.partner")
        denied = await odoo.error("search_read", model="account.move")
        no_unlink = await odoo.error("unlink", model="res.partner", ids=[12])
    assert partners["count"] == 11
    assert denied.startswith(
        "Odoo denied account.move.search_read to user 'demo': You are not allowed to access "
        "'Journal Entry' (account.move) records."
    )
    assert "Odoo's access rights for that user decide this, not plugbay" in denied
    assert "not allowed to delete 'Contact' (res.partner) records" in no_unlink
    assert odoo_fake.record("res.partner", 12) is not None
