"""The fake Odoo behaves as Odoo documents it, over real HTTP, with standard library clients."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from plugbay_odoo.fake import (
    ADMIN_API_KEY,
    DEMO_API_KEY,
    OdooFake,
)

Execute = Callable[..., Any]


@pytest.fixture
def common(odoo_fake: OdooFake) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"{odoo_fake.url}/xmlrpc/2/common")


@pytest.fixture
def execute(odoo_fake: OdooFake) -> Execute:
    """``execute(model, method, args, kwargs)`` as the administrator, over XML-RPC."""
    models = xmlrpc.client.ServerProxy(f"{odoo_fake.url}/xmlrpc/2/object", allow_none=True)

    def call(model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
        return models.execute_kw(
            odoo_fake.database, 2, ADMIN_API_KEY, model, method, args, kwargs or {}
        )

    return call


def fault(call: Callable[[], Any]) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        call()
    return caught.value


def jsonrpc(fake: OdooFake, service: str, method: str, *args: Any) -> dict[str, Any]:
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": list(args)},
        "id": 42,
    }
    response = httpx.post(f"{fake.url}/jsonrpc", json=payload, timeout=10)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["id"] == 42
    return body


# -- common: version and authentication -------------------------------------------------


def test_version_needs_no_login(common: xmlrpc.client.ServerProxy) -> None:
    assert common.version() == {
        "server_version": "18.0",
        "server_version_info": [18, 0, 0, "final", 0, ""],
        "server_serie": "18.0",
        "protocol_version": 1,
    }


def test_authenticate_accepts_the_password_or_an_api_key(
    common: xmlrpc.client.ServerProxy, odoo_fake: OdooFake
) -> None:
    db = odoo_fake.database
    assert common.authenticate(db, "admin", "admin", {}) == 2
    assert common.authenticate(db, "admin", ADMIN_API_KEY, {}) == 2
    assert common.authenticate(db, "demo", DEMO_API_KEY, {}) == 6
    assert common.authenticate(db, "admin", DEMO_API_KEY, {}) is False
    assert common.authenticate(db, "nobody", "x", {}) is False
    assert common.login(db, "demo", "demo") == 6
    assert odoo_fake.count("authenticate") == 5


def test_an_unknown_database_fails_as_postgresql_does(common: xmlrpc.client.ServerProxy) -> None:
    error = fault(lambda: common.authenticate("nope", "admin", "admin", {}))
    assert error.faultCode == 1
    assert error.faultString.startswith("Traceback (most recent call last):")
    assert error.faultString.rstrip().endswith(
        'psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  database "nope" does not exist'
    )


def test_every_object_call_checks_the_credentials(odoo_fake: OdooFake) -> None:
    models = xmlrpc.client.ServerProxy(f"{odoo_fake.url}/xmlrpc/2/object")
    db = odoo_fake.database
    assert models.execute_kw(db, 6, DEMO_API_KEY, "res.partner", "search_count", [[]]) == 11
    wrong = fault(lambda: models.execute_kw(db, 6, ADMIN_API_KEY, "res.partner", "search", [[]]))
    assert (wrong.faultCode, wrong.faultString) == (3, "Access Denied")
    odoo_fake.revoke_api_key(DEMO_API_KEY)
    revoked = fault(lambda: models.execute_kw(db, 6, DEMO_API_KEY, "res.partner", "search", [[]]))
    assert revoked.faultCode == 3
    assert models.execute(db, 6, "demo", "res.partner", "search_count", []) == 11


# -- faults ------------------------------------------------------------------------------


def test_fault_codes_follow_the_exception(execute: Execute, odoo_fake: OdooFake) -> None:
    models = xmlrpc.client.ServerProxy(f"{odoo_fake.url}/xmlrpc/2/object")
    denied = fault(
        lambda: models.execute_kw(
            odoo_fake.database, 6, DEMO_API_KEY, "account.move", "search", [[]]
        )
    )
    assert denied.faultCode == 4
    assert denied.faultString.startswith(
        "You are not allowed to access 'Journal Entry' (account.move) records."
    )
    user_error = fault(lambda: execute("sale.order", "unlink", [[2]]))
    assert user_error.faultCode == 2
    assert user_error.faultString == (
        "You can not delete a sent quotation or a confirmed sales order. You must first cancel it."
    )
    missing = fault(lambda: execute("res.partner", "read", [[999]]))
    assert (missing.faultCode, missing.faultString) == (
        2,
        "Record does not exist or has been deleted.\n(Record: res.partner(999,), User: 2)",
    )
    unknown = fault(lambda: execute("no.model", "search", [[]]))
    assert (unknown.faultCode, unknown.faultString) == (2, "Object no.model doesn't exist")
    private = fault(lambda: execute("res.partner", "_compute_display_name", [[1]]))
    assert private.faultCode == 4
    method = fault(lambda: execute("res.partner", "frobnicate", [[1]]))
    assert method.faultCode == 1
    assert method.faultString.rstrip().endswith(
        "AttributeError: The method 'res.partner.frobnicate' does not exist"
    )
    arguments = fault(lambda: execute("res.partner", "search_read", [], {"bogus": 1}))
    assert "TypeError" in arguments.faultString


def test_the_legacy_endpoint_uses_string_fault_codes(odoo_fake: OdooFake) -> None:
    models = xmlrpc.client.ServerProxy(f"{odoo_fake.url}/xmlrpc/object")
    db = odoo_fake.database
    denied = fault(lambda: models.execute_kw(db, 6, DEMO_API_KEY, "account.move", "search", [[]]))
    assert str(denied.faultCode).startswith("warning -- AccessError\n\nYou are not allowed")
    wrong = fault(lambda: models.execute_kw(db, 6, "nope", "res.partner", "search", [[]]))
    assert wrong.faultCode == "AccessDenied"


def test_results_are_marshalled_without_none(execute: Execute, odoo_fake: OdooFake) -> None:
    # A method returning None cannot be sent over Odoo's XML-RPC (allow_none is off).
    odoo_fake.orm.models["res.partner"].methods["noop"] = type(
        odoo_fake.orm.models["sale.order"].methods["action_confirm"]
    )(lambda orm, ids: None, operation="read")
    error = fault(lambda: execute("res.partner", "noop", [[10]]))
    assert error.faultCode == 1
    assert "cannot marshal None unless allow_none is enabled" in error.faultString


def test_jsonrpc_answers_results_and_odoo_s_error_objects(odoo_fake: OdooFake) -> None:
    db = odoo_fake.database
    fields = {"fields": ["name", "create_date"]}
    ok = jsonrpc(odoo_fake, "object", "execute_kw", db, 2, ADMIN_API_KEY, "res.partner",
                 "search_read", [[["id", "=", 10]]], fields)  # fmt: skip
    assert ok["result"] == [
        {"id": 10, "name": "Azure Interior", "create_date": "2024-01-01 08:00:00"}
    ]
    denied = jsonrpc(odoo_fake, "object", "execute_kw", db, 6, DEMO_API_KEY, "account.move",
                     "search_read", [[]])  # fmt: skip
    error = denied["error"]
    assert (error["code"], error["message"]) == (200, "Odoo Server Error")
    assert error["data"]["name"] == "odoo.exceptions.AccessError"
    assert error["data"]["message"].startswith("You are not allowed to access 'Journal Entry'")
    assert error["data"]["debug"].startswith("Traceback")
    bad = jsonrpc(odoo_fake, "object", "execute_kw", db, 2, ADMIN_API_KEY, "res.partner",
                  "search", [[["nme", "=", 1]]])  # fmt: skip
    assert bad["error"]["data"]["name"] == "builtins.ValueError"
    assert jsonrpc(odoo_fake, "common", "authenticate", db, "admin", "x", {})["result"] is False


def test_http_details(odoo_fake: OdooFake) -> None:
    assert httpx.get(f"{odoo_fake.url}/xmlrpc/2/object").status_code == 405
    assert httpx.post(f"{odoo_fake.url}/jsonrpc", content=b"{oops").status_code == 400
    odoo_fake.inject(503, times=1, body="Service Unavailable")
    assert httpx.post(f"{odoo_fake.url}/jsonrpc", json={}).status_code == 503
    answer = httpx.post(f"{odoo_fake.url}/xmlrpc/2/common", content=b"<not xml")
    assert xmlrpc.client.loads if answer.status_code == 200 else False
    assert b"<fault>" in answer.content


# -- records -----------------------------------------------------------------------------


def test_values_are_read_as_odoo_sends_them(execute: Execute) -> None:
    (order,) = execute("sale.order", "read", [[1]], {"fields": [
        "partner_id", "order_line", "date_order", "validity_date", "note", "amount_total", "state",
    ]})  # fmt: skip
    assert order == {
        "id": 1,
        "partner_id": [10, "Azure Interior"],
        "order_line": [1, 2],
        "date_order": "2024-05-02 10:15:00",
        "validity_date": "2024-06-01",
        "note": False,
        "amount_total": 2183.96,
        "state": "draft",
    }


@pytest.mark.parametrize(
    ("domain", "ids"),
    [
        ([["name", "=", "Ready Mat"]], [17]),
        ([["name", "!=", "Ready Mat"], ["is_company", "=", True]], [1, 10, 14, 16, 19]),
        ([["customer_rank", ">", 1]], [10, 14]),
        ([["customer_rank", ">=", 1]], [10, 14, 16]),
        ([["supplier_rank", "<", 1], ["is_company", "=", True]], [1, 10, 16]),
        ([["supplier_rank", "<=", 1], ["supplier_rank", ">", 0]], [14, 19]),
        ([["id", "in", [10, 14, 999]]], [10, 14]),
        ([["parent_id", "not in", [1, 10]]], [1, 10, 14, 15, 16, 17, 19]),
        ([["name", "like", "Ad"]], [3, 14, 15]),
        ([["name", "ilike", "ad"]], [3, 14, 15, 17]),
        ([["name", "=like", "%Inc"]], [19]),
        ([["name", "=ilike", "ready%"]], [17]),
        ([["email", "not like", "example"]], [1, 16]),
        (["|", ["city", "=", "Tracy"], ["city", "=", "Fremont"]], [1, 3, 10, 11, 12, 17]),
        (["&", ["city", "=", "Fremont"], "!", ["is_company", "=", True]], [11, 12]),
        (["!", "|", ["is_company", "=", True], ["parent_id", "=", False]], [3, 7, 11, 12, 15]),
        ([["parent_id.name", "=", "Azure Interior"]], [11, 12]),
        ([["parent_id", "=?", False]], [1, 3, 7, 10, 11, 12, 14, 15, 16, 17, 19]),
        ([["child_ids", "any", [["email", "ilike", "brandon"]]]], [10]),
        ([["id", "parent_of", [11]]], [10, 11]),
        ([["active", "in", [True, False]], ["city", "=", "Turlock"]], [18]),
    ],
)
def test_domains_are_evaluated(execute: Execute, domain: list[Any], ids: list[int]) -> None:
    assert sorted(execute("res.partner", "search", [domain])) == ids


def test_bad_domains_fail_with_value_errors(execute: Execute) -> None:
    for domain, text in [
        ([["nme", "=", 1]], "ValueError: Invalid field res.partner.nme in leaf ('nme', '=', 1)"),
        (["|", ["name", "=", 1]], "is syntactically not correct"),
        ([["name", "eq", 1]], "ValueError: Invalid operator 'eq'"),
        ([["name.id", "=", 1]], "is not a relational field"),
    ]:
        error = fault(lambda domain=domain: execute("res.partner", "search", [domain]))
        assert error.faultCode == 1
        assert text in error.faultString


def test_search_orders_pages_and_counts(execute: Execute) -> None:
    ids = execute("res.partner", "search", [[["is_company", "=", True]]], {"order": "name desc"})
    names = [p["name"] for p in execute("res.partner", "read", [ids], {"fields": ["name"]})]
    assert names == sorted(names, reverse=True)
    assert execute("res.partner", "search", [[]], {"offset": 2, "limit": 3, "order": "id"}) == [
        7,
        10,
        11,
    ]
    assert execute("res.partner", "search_count", [[["is_company", "=", True]]]) == 6
    # Many2one fields sort by the related model's order (stages by sequence).
    leads = execute(
        "crm.lead", "search_read", [[]], {"fields": ["stage_id"], "order": "stage_id desc, id"}
    )
    assert [lead["stage_id"][1] for lead in leads] == [
        "Won",
        "Proposition",
        "Qualified",
        "New",
        "New",
    ]


def test_create_write_unlink_with_commands_and_rules(execute: Execute, odoo_fake: OdooFake) -> None:
    order_id = execute("sale.order", "create", [{
        "partner_id": 16,
        "order_line": [[0, 0, {"product_id": 7}], [0, 0, {"product_id": 5, "product_uom_qty": 3}]],
    }])  # fmt: skip
    (order,) = execute("sale.order", "read", [[order_id]], {"fields": ["name", "amount_untaxed"]})
    assert order == {"id": order_id, "name": f"S{order_id:05d}", "amount_untaxed": 2009.0}
    ids = execute("crm.tag", "create", [[{"name": "A"}, {"name": "B"}]])
    assert isinstance(ids, list)
    assert len(ids) == 2
    assert execute("crm.lead", "write", [[3], {"tag_ids": [[4, ids[0]], [3, 2]]}]) is True
    (lead,) = execute("crm.lead", "read", [[3]], {"fields": ["tag_ids"]})
    assert lead["tag_ids"] == [ids[0]]
    # Deleting an order deletes its lines (ondelete cascade) ...
    assert execute("sale.order", "unlink", [[order_id]]) is True
    assert execute("sale.order.line", "search_count", [[["order_id", "=", order_id]]]) == 0
    # ... and a partner that orders point to cannot go (restrict).
    restricted = fault(lambda: execute("res.partner", "unlink", [[16]]))
    assert restricted.faultCode == 2
    assert "Model: Sales Order (sale.order), Field: Customer (partner_id)" in restricted.faultString
    required = fault(lambda: execute("product.product", "create", [{"list_price": 3}]))
    assert "Field: Name (name)" in required.faultString
    selection = fault(lambda: execute("sale.order", "write", [[1], {"state": "done"}]))
    assert "ValueError: Wrong value for sale.order.state: 'done'" in selection.faultString


def test_name_search_and_business_methods(execute: Execute) -> None:
    assert execute("res.partner", "name_search", [], {"name": "deco"}) == [
        [14, "Deco Addict"],
        [15, "Deco Addict, Addison Olson"],
    ]
    assert execute("sale.order", "action_confirm", [[3]]) is True
    again = fault(lambda: execute("sale.order", "action_confirm", [[3]]))
    assert again.faultString == "Some orders are not in a state requiring confirmation."
    assert execute("crm.lead", "action_set_won", [[2]]) is True
    (lead,) = execute("crm.lead", "read", [[2]], {"fields": ["stage_id", "probability"]})
    assert lead == {"id": 2, "stage_id": [4, "Won"], "probability": 100.0}


def test_read_group(execute: Execute) -> None:
    lazy = execute(
        "crm.lead", "read_group", [[], ["expected_revenue:sum"], ["user_id", "stage_id"]]
    )
    assert [(g["user_id"], g["user_id_count"]) for g in lazy] == [
        ([6, "Marc Demo"], 1),
        ([2, "Mitchell Admin"], 3),
        (False, 1),
    ]
    assert lazy[0]["__context"] == {"group_by": ["stage_id"]}
    flat = execute("account.move", "read_group", [], {
        "domain": [["state", "=", "posted"]], "fields": ["amount_total:sum", "amount_residual:max"],
        "groupby": ["invoice_date:quarter"], "lazy": False,
    })  # fmt: skip
    assert flat == [
        {
            "invoice_date:quarter": "Q2 2024",
            "__count": 3,
            "amount_total": 3599.5,
            "amount_residual": 380.0,
            "__range": {"invoice_date:quarter": {"from": "2024-04-01", "to": "2024-07-01"}},
            "__domain": [
                "&",
                ["invoice_date", ">=", "2024-04-01"],
                ["invoice_date", "<", "2024-07-01"],
                ["state", "=", "posted"],
            ],
        }
    ]


# -- access rights and introspection -------------------------------------------------------


def test_per_user_rights_and_field_groups(odoo_fake: OdooFake) -> None:
    models = xmlrpc.client.ServerProxy(f"{odoo_fake.url}/xmlrpc/2/object")
    db = odoo_fake.database

    def as_demo(model: str, method: str, *args: Any) -> Any:
        return models.execute_kw(db, 6, DEMO_API_KEY, model, method, list(args))

    assert as_demo("sale.order", "check_access_rights", "write") is True
    denied = fault(lambda: as_demo("res.partner", "unlink", [12]))
    assert "You are not allowed to delete 'Contact' (res.partner) records." in denied.faultString
    restricted = fault(lambda: as_demo("res.partner", "read", [10], ["signup_token"]))
    assert restricted.faultCode == 4
    assert "- signup_token (allowed for groups 'base.group_erp_manager')" in restricted.faultString
    assert "signup_token" not in as_demo("res.partner", "fields_get")
    odoo_fake.set_rights("demo", "account.move", ["read"])
    assert as_demo("account.move", "search_count", []) == 4


def test_ir_model_and_fields_describe_the_models(execute: Execute) -> None:
    models = execute(
        "ir.model", "search_read", [[["model", "=like", "sale.%"]]], {"fields": ["model", "name"]}
    )
    assert [(m["model"], m["name"]) for m in models] == [
        ("sale.order", "Sales Order"),
        ("sale.order.line", "Sales Order Line"),
    ]
    domain = [["model", "=", "sale.order"], ["name", "=", "partner_id"]]
    wanted = ["ttype", "relation", "required", "field_description", "model_id"]
    fields = execute("ir.model.fields", "search_read", [domain], {"fields": wanted})
    assert fields[0]["ttype"] == "many2one"
    assert fields[0]["relation"] == "res.partner"
    assert fields[0]["required"] is True
    assert fields[0]["model_id"] == [models[0]["id"], "Sales Order"]
    described = execute(
        "sale.order", "fields_get", [], {"attributes": ["type", "selection", "required"]}
    )
    assert described["state"] == {
        "type": "selection",
        "selection": [
            ["draft", "Quotation"],
            ["sent", "Quotation Sent"],
            ["sale", "Sales Order"],
            ["cancel", "Cancelled"],
        ],
        "required": False,
    }
    counted = execute("ir.model.fields", "search_count", [[["model", "=", "sale.order"]]])
    assert counted == len(execute("sale.order", "fields_get", []))
