"""The models of the fake Odoo and their seed data, shaped like Odoo 18's.

``res.partner``, ``res.users``, ``product.product``, ``sale.order`` with its
``sale.order.line``, ``crm.lead`` (with ``crm.stage`` and ``crm.tag``) and
``account.move``, plus ``ir.model`` and ``ir.model.fields`` describing all of them.
Field names, types, labels, selection values and the business methods
(``sale.order.action_confirm``, ``account.move.action_post``,
``crm.lead.action_set_won``...) follow Odoo 18's, with their error messages; the data
is in the spirit of Odoo's demo database (Azure Interior, Deco Addict, Mitchell Admin).
"""

from __future__ import annotations

from typing import Any

from plugbay_odoo.fake.orm import (
    Field,
    Model,
    ModelMethod,
    Orm,
    Row,
    UserError,
    now_string,
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


# -- business methods ----------------------------------------------------------------------


def _action_confirm(orm: Orm, ids: list[int]) -> bool:
    orders = [orm.tables["sale.order"][i] for i in ids]
    if any(order["state"] not in ("draft", "sent") for order in orders):
        raise UserError("Some orders are not in a state requiring confirmation.")
    for order in orders:
        if any(not line.get("product_id") for line in _order_lines(orm, order)):
            raise UserError("A line on these orders missing a product, you cannot confirm it.")
    for order in orders:
        order.update(state="sale", date_order=now_string(), write_date=now_string())
    return True


def _action_cancel(orm: Orm, ids: list[int]) -> bool:
    for record_id in ids:
        orm.tables["sale.order"][record_id].update(state="cancel", write_date=now_string())
    return True


def _action_draft(orm: Orm, ids: list[int]) -> bool:
    orders = [orm.tables["sale.order"][i] for i in ids]
    for order in orders:
        if order["state"] in ("cancel", "sent"):
            order.update(state="draft", write_date=now_string())
    return True


def _order_unlink(orm: Orm, rows: list[Row]) -> None:
    if any(row["state"] not in ("draft", "cancel") for row in rows):
        raise UserError(
            "You can not delete a sent quotation or a confirmed sales order. "
            "You must first cancel it."
        )


def _action_post(orm: Orm, ids: list[int]) -> bool:
    moves = [orm.tables["account.move"][i] for i in ids]
    for move in moves:
        if move["state"] != "draft":
            raise UserError("Only draft journal entries can be posted.")
        if move["move_type"] in ("out_invoice", "out_refund") and not move.get("partner_id"):
            raise UserError(
                "The field 'Customer' is required, please complete it to validate the "
                "Customer Invoice."
            )
    for move in moves:
        if move["move_type"] != "entry" and not move.get("invoice_date"):
            # Odoo dates an invoice posted without a date today.
            move["invoice_date"] = now_string()[:10]
        if move.get("name") in (None, False, "/"):
            year = (move.get("invoice_date") or now_string())[:4]
            prefix = "INV" if move["move_type"].startswith("out_") else "BILL"
            count = sum(
                1
                for other in orm.tables["account.move"].values()
                if str(other.get("name") or "").startswith(f"{prefix}/{year}/")
            )
            move["name"] = f"{prefix}/{year}/{count + 1:05d}"
        move.update(state="posted", write_date=now_string())
    # Odoo's action_post returns False (it only redirects when a wizard is needed).
    return False


def _button_draft(orm: Orm, ids: list[int]) -> bool:
    for record_id in ids:
        orm.tables["account.move"][record_id].update(state="draft", write_date=now_string())
    return True


def _move_unlink(orm: Orm, rows: list[Row]) -> None:
    if any(row["state"] == "posted" for row in rows):
        raise UserError("You cannot delete an entry which has been posted once.")


def _action_set_won(orm: Orm, ids: list[int]) -> bool:
    won = [stage for stage in orm.tables["crm.stage"].values() if stage["is_won"]]
    for record_id in ids:
        lead = orm.tables["crm.lead"][record_id]
        lead.update(probability=100.0, write_date=now_string())
        if won:
            lead["stage_id"] = won[0]["id"]
    return True


def _action_set_lost(orm: Orm, ids: list[int]) -> bool:
    for record_id in ids:
        orm.tables["crm.lead"][record_id].update(
            probability=0.0, active=False, write_date=now_string()
        )
    return True


# -- the models ----------------------------------------------------------------------------


def business_models() -> list[Model]:
    """The business models, with their fields as Odoo 18 defines them (a useful subset)."""
    return [
        Model(
            "res.partner",
            "Contact",
            {
                "name": Field("char", "Name"),
                "complete_name": Field("char", "Complete Name", compute=_partner_name),
                "is_company": Field(
                    "boolean",
                    "Is a Company",
                    default=False,
                    help="Check if the contact is a company, otherwise it is a person",
                ),
                "company_type": Field(
                    "selection",
                    "Company Type",
                    store=False,
                    compute=_company_type,
                    selection=(("person", "Individual"), ("company", "Company")),
                ),
                "parent_id": Field("many2one", "Related Company", relation="res.partner"),
                "child_ids": Field(
                    "one2many", "Contact", relation="res.partner", inverse_name="parent_id"
                ),
                "type": Field(
                    "selection",
                    "Address Type",
                    default="contact",
                    selection=(
                        ("contact", "Contact"),
                        ("invoice", "Invoice Address"),
                        ("delivery", "Delivery Address"),
                        ("other", "Other Address"),
                    ),
                ),
                "email": Field("char", "Email"),
                "phone": Field("char", "Phone"),
                "mobile": Field("char", "Mobile"),
                "street": Field("char", "Street"),
                "city": Field("char", "City"),
                "zip": Field("char", "Zip"),
                "website": Field("char", "Website Link"),
                "vat": Field("char", "Tax ID"),
                "lang": Field("selection", "Language", selection=LANGUAGES, default="en_US"),
                "comment": Field("html", "Notes"),
                "user_id": Field(
                    "many2one",
                    "Salesperson",
                    relation="res.users",
                    help="The internal user in charge of this contact.",
                ),
                "customer_rank": Field("integer", "Customer Rank", default=0),
                "supplier_rank": Field("integer", "Supplier Rank", default=0),
                "credit_limit": Field("float", "Credit Limit", default=0.0),
                "active": Field("boolean", "Active", default=True),
                "image_128": Field("binary", "Image 128", store=False),
                "signup_token": Field(
                    "char", "Signup Token", groups="base.group_erp_manager", readonly=True
                ),
            },
            order="complete_name, id desc",
            parent_name="parent_id",
            display=_partner_name,
            info="Contacts: people and companies (customers, vendors, addresses).",
        ),
        Model(
            "res.users",
            "User",
            {
                "name": Field("char", "Name", required=True),
                "login": Field("char", "Login", required=True, help="Used to log into the system"),
                "partner_id": Field(
                    "many2one",
                    "Related Partner",
                    relation="res.partner",
                    required=True,
                    ondelete="restrict",
                ),
                "email": Field("char", "Email", store=False, compute=_user_email),
                "password": Field(
                    "char",
                    "Password",
                    store=False,
                    compute=lambda orm, row: "",
                    help="Keep empty if you don't want the user to be able to connect on the "
                    "system.",
                ),
                "active": Field("boolean", "Active", default=True),
                "share": Field("boolean", "Share User", default=False, readonly=True),
                "login_date": Field("datetime", "Latest authentication", readonly=True),
                "tz": Field(
                    "selection",
                    "Timezone",
                    selection=(
                        ("Europe/Brussels", "Europe/Brussels"),
                        ("America/New_York", "America/New_York"),
                        ("UTC", "UTC"),
                    ),
                ),
                "lang": Field("selection", "Language", selection=LANGUAGES, default="en_US"),
            },
            order="name, login",
        ),
        Model(
            "product.product",
            "Product Variant",
            {
                "name": Field("char", "Name", required=True),
                "default_code": Field("char", "Internal Reference"),
                "barcode": Field("char", "Barcode"),
                "type": Field(
                    "selection",
                    "Product Type",
                    required=True,
                    default="consu",
                    selection=(("consu", "Goods"), ("service", "Service"), ("combo", "Combo")),
                ),
                "list_price": Field("float", "Sales Price", default=1.0),
                "standard_price": Field("float", "Cost", default=0.0),
                "sale_ok": Field("boolean", "Can be Sold", default=True),
                "purchase_ok": Field("boolean", "Can be Purchased", default=True),
                "description_sale": Field("text", "Sales Description"),
                "active": Field("boolean", "Active", default=True),
            },
            order="default_code, name, id",
            display=lambda orm, row: (
                f"[{row['default_code']}] {row['name']}" if row.get("default_code") else row["name"]
            ),
        ),
        Model(
            "sale.order",
            "Sales Order",
            {
                "name": Field(
                    "char", "Order Reference", required=True, readonly=True, default="New"
                ),
                "partner_id": Field("many2one", "Customer", relation="res.partner", required=True),
                "date_order": Field(
                    "datetime", "Order Date", required=True, default=lambda orm: now_string()
                ),
                "validity_date": Field("date", "Expiration"),
                "state": Field(
                    "selection",
                    "Status",
                    readonly=True,
                    default="draft",
                    selection=(
                        ("draft", "Quotation"),
                        ("sent", "Quotation Sent"),
                        ("sale", "Sales Order"),
                        ("cancel", "Cancelled"),
                    ),
                ),
                "order_line": Field(
                    "one2many", "Order Lines", relation="sale.order.line", inverse_name="order_id"
                ),
                "user_id": Field("many2one", "Salesperson", relation="res.users"),
                "client_order_ref": Field("char", "Customer Reference"),
                "note": Field("html", "Terms and conditions"),
                "amount_untaxed": Field("monetary", "Untaxed Amount", compute=_order_untaxed),
                "amount_tax": Field("monetary", "Taxes", compute=_order_tax),
                "amount_total": Field("monetary", "Total", compute=_order_total),
            },
            order="date_order desc, id desc",
            complete=_complete_order,
            methods={
                "action_confirm": ModelMethod(_action_confirm),
                "action_cancel": ModelMethod(_action_cancel),
                "action_draft": ModelMethod(_action_draft),
            },
            before_unlink=_order_unlink,
            module="sale",
        ),
        Model(
            "sale.order.line",
            "Sales Order Line",
            {
                "order_id": Field(
                    "many2one",
                    "Order Reference",
                    relation="sale.order",
                    required=True,
                    ondelete="cascade",
                ),
                "sequence": Field("integer", "Sequence", default=10),
                "product_id": Field(
                    "many2one", "Product", relation="product.product", ondelete="restrict"
                ),
                "name": Field("text", "Description", required=True),
                "product_uom_qty": Field("float", "Quantity", default=1.0),
                "price_unit": Field("float", "Unit Price", default=0.0),
                "discount": Field("float", "Discount (%)", default=0.0),
                "price_subtotal": Field("monetary", "Subtotal", compute=_line_subtotal),
                "price_tax": Field("float", "Total Tax", compute=_line_tax),
                "price_total": Field("monetary", "Total", compute=_line_total),
            },
            order="order_id, sequence, id",
            display=_line_display,
            complete=_complete_line,
            module="sale",
        ),
        Model(
            "crm.stage",
            "CRM Stages",
            {
                "name": Field("char", "Stage Name", required=True),
                "sequence": Field("integer", "Sequence", default=1),
                "is_won": Field("boolean", "Is Won Stage?", default=False),
            },
            order="sequence, name, id",
            module="crm",
        ),
        Model(
            "crm.tag",
            "CRM Tag",
            {"name": Field("char", "Tag Name", required=True), "color": Field("integer", "Color")},
            order="name",
            module="crm",
        ),
        Model(
            "crm.lead",
            "Lead/Opportunity",
            {
                "name": Field("char", "Opportunity", required=True),
                "type": Field(
                    "selection",
                    "Type",
                    required=True,
                    default="opportunity",
                    selection=(("lead", "Lead"), ("opportunity", "Opportunity")),
                ),
                "partner_id": Field("many2one", "Customer", relation="res.partner"),
                "contact_name": Field("char", "Contact Name"),
                "email_from": Field("char", "Email"),
                "phone": Field("char", "Phone"),
                "stage_id": Field("many2one", "Stage", relation="crm.stage", default=_first_stage),
                "user_id": Field("many2one", "Salesperson", relation="res.users"),
                "tag_ids": Field("many2many", "Tags", relation="crm.tag"),
                "expected_revenue": Field("monetary", "Expected Revenue", default=0.0),
                "probability": Field("float", "Probability", default=10.0, aggregator="avg"),
                "priority": Field(
                    "selection",
                    "Priority",
                    default="0",
                    selection=(("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High")),
                ),
                "date_deadline": Field("date", "Expected Closing"),
                "description": Field("html", "Notes"),
                "active": Field("boolean", "Active", default=True),
            },
            order="priority desc, id desc",
            methods={
                "action_set_won": ModelMethod(_action_set_won),
                "action_set_lost": ModelMethod(_action_set_lost),
            },
            module="crm",
        ),
        Model(
            "account.move",
            "Journal Entry",
            {
                "name": Field("char", "Number", readonly=True, default="/"),
                "move_type": Field(
                    "selection",
                    "Type",
                    required=True,
                    default="entry",
                    selection=(
                        ("entry", "Journal Entry"),
                        ("out_invoice", "Customer Invoice"),
                        ("out_refund", "Customer Credit Note"),
                        ("in_invoice", "Vendor Bill"),
                        ("in_refund", "Vendor Credit Note"),
                        ("out_receipt", "Sales Receipt"),
                        ("in_receipt", "Purchase Receipt"),
                    ),
                ),
                "partner_id": Field(
                    "many2one", "Partner", relation="res.partner", ondelete="restrict"
                ),
                "invoice_date": Field("date", "Invoice/Bill Date"),
                "invoice_date_due": Field("date", "Due Date"),
                "ref": Field("char", "Reference"),
                "state": Field(
                    "selection",
                    "Status",
                    required=True,
                    readonly=True,
                    default="draft",
                    selection=(("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")),
                ),
                "payment_state": Field(
                    "selection",
                    "Payment Status",
                    readonly=True,
                    default="not_paid",
                    selection=(
                        ("not_paid", "Not Paid"),
                        ("in_payment", "In Payment"),
                        ("paid", "Paid"),
                        ("partial", "Partially Paid"),
                        ("reversed", "Reversed"),
                        ("invoicing_legacy", "Invoicing App Legacy"),
                    ),
                ),
                "amount_untaxed": Field("monetary", "Untaxed Amount", default=0.0),
                "amount_tax": Field("monetary", "Tax", default=0.0),
                "amount_total": Field("monetary", "Total", default=0.0),
                "amount_residual": Field("monetary", "Amount Due", default=0.0),
            },
            order="invoice_date desc, name desc, id desc",
            display=_move_display,
            methods={
                "action_post": ModelMethod(_action_post),
                "button_draft": ModelMethod(_button_draft),
            },
            before_unlink=_move_unlink,
            module="account",
        ),
    ]


def meta_models() -> list[Model]:
    """``ir.model`` and ``ir.model.fields``: the models describing the models."""
    return [
        Model(
            "ir.model",
            "Models",
            {
                "name": Field("char", "Model Description", required=True),
                "model": Field("char", "Model", required=True),
                "info": Field("text", "Information"),
                "state": Field(
                    "selection",
                    "Type",
                    default="base",
                    selection=(("manual", "Custom Object"), ("base", "Base Object")),
                ),
                "transient": Field("boolean", "Transient Model"),
                "modules": Field("char", "In Apps", store=False),
                "field_id": Field(
                    "one2many", "Fields", relation="ir.model.fields", inverse_name="model_id"
                ),
            },
            order="model",
        ),
        Model(
            "ir.model.fields",
            "Fields",
            {
                "name": Field("char", "Field Name", required=True),
                "field_description": Field("char", "Field Label", required=True),
                "model": Field("char", "Model Name", required=True),
                "model_id": Field(
                    "many2one", "Model", relation="ir.model", required=True, ondelete="cascade"
                ),
                "ttype": Field("selection", "Field Type", required=True, selection=FIELD_TYPES),
                "relation": Field("char", "Related Model"),
                "relation_field": Field("char", "Relation Field"),
                "required": Field("boolean", "Required"),
                "readonly": Field("boolean", "Readonly"),
                "store": Field("boolean", "Stored"),
                "help": Field("text", "Field Help"),
                "state": Field(
                    "selection",
                    "Type",
                    default="base",
                    selection=(("manual", "Custom Field"), ("base", "Base Field")),
                ),
            },
            order="name",
            display=lambda orm, row: str(row.get("field_description") or row.get("name")),
        ),
    ]


def describe_models(orm: Orm) -> None:
    """Fill ``ir.model`` and ``ir.model.fields`` from the model definitions."""
    for model in orm.models.values():
        model_id = orm.next_id["ir.model"]
        orm.next_id["ir.model"] += 1
        orm.tables["ir.model"][model_id] = {
            "id": model_id,
            "name": model.description,
            "model": model.name,
            "info": model.info or model.description,
            "state": "base",
            "transient": False,
            "modules": model.module,
            "create_uid": 1,
            "create_date": "2024-01-01 08:00:00",
            "write_uid": 1,
            "write_date": "2024-01-01 08:00:00",
        }
        for name, definition in model.fields.items():
            field_id = orm.next_id["ir.model.fields"]
            orm.next_id["ir.model.fields"] += 1
            orm.tables["ir.model.fields"][field_id] = {
                "id": field_id,
                "name": name,
                "field_description": definition.string,
                "model": model.name,
                "model_id": model_id,
                "ttype": definition.type,
                "relation": definition.relation or False,
                "relation_field": definition.inverse_name or False,
                "required": definition.required,
                "readonly": definition.readonly or definition.compute is not None,
                "store": definition.store,
                "help": definition.help or False,
                "state": "base",
                "create_uid": 1,
                "create_date": "2024-01-01 08:00:00",
                "write_uid": 1,
                "write_date": "2024-01-01 08:00:00",
            }


SEED: dict[str, list[Row]] = {
    "res.partner": [
        {"id": 1, "name": "YourCompany", "is_company": True, "email": "info@yourcompany.com",
         "city": "Tracy", "street": "250 Executive Park Blvd, Suite 3400", "zip": "95376"},
        {"id": 3, "name": "Mitchell Admin", "email": "admin@yourcompany.example.com",
         "parent_id": 1, "city": "Tracy", "phone": "+1 555-555-5555"},
        {"id": 7, "name": "Marc Demo", "email": "mark.brown23@example.com", "parent_id": 1},
        {"id": 10, "name": "Azure Interior", "is_company": True,
         "email": "azure.Interior24@example.com", "phone": "(870)-931-0505", "city": "Fremont",
         "street": "4557 De Silva St", "zip": "94538",
         "website": "http://www.azure-interior.com", "customer_rank": 3, "user_id": 2,
         "vat": "US12345677", "credit_limit": 5000.0,
         "signup_token": "aZ9xQw2RtYu8IoP3sDfG"},
        {"id": 11, "name": "Brandon Freeman", "parent_id": 10,
         "email": "brandon.freeman55@example.com", "phone": "(355)-687-3262", "city": "Fremont"},
        {"id": 12, "name": "Colleen Diaz", "parent_id": 10, "email": "colleen.diaz83@example.com",
         "city": "Fremont"},
        {"id": 14, "name": "Deco Addict", "is_company": True, "email": "deco_addict@example.com",
         "phone": "(603)-996-3829", "city": "Pleasant Hill", "street": "77 Santa Barbara Rd",
         "customer_rank": 2, "supplier_rank": 1, "user_id": 6, "lang": "fr_FR"},
        {"id": 15, "name": "Addison Olson", "parent_id": 14,
         "email": "addison.olson28@example.com"},
        {"id": 16, "name": "Gemini Furniture", "is_company": True,
         "email": "gemini_furniture@fake.geminifurniture.com", "phone": "(941)-284-4875",
         "city": "Fairfield", "customer_rank": 1},
        {"id": 17, "name": "Ready Mat", "is_company": True, "email": "ready.mat28@example.com",
         "city": "Tracy", "supplier_rank": 2},
        {"id": 18, "name": "Wood Corner", "is_company": True, "email": "wood.corner26@example.com",
         "city": "Turlock", "active": False},
        {"id": 19, "name": "Lumber Inc", "is_company": True, "email": "lumber-inv92@example.com",
         "city": "Stockton", "supplier_rank": 1},
    ],
    "res.users": [
        {"id": 1, "name": "OdooBot", "login": "__system__", "partner_id": 1, "active": False,
         "share": False},
        {"id": 2, "name": "Mitchell Admin", "login": "admin", "partner_id": 3,
         "login_date": "2024-06-03 09:12:44", "tz": "Europe/Brussels"},
        {"id": 6, "name": "Marc Demo", "login": "demo", "partner_id": 7,
         "login_date": "2024-06-01 14:02:10", "tz": "America/New_York"},
    ],
    "product.product": [
        {"id": 5, "name": "Office Chair", "default_code": "FURN_7777", "list_price": 70.0,
         "standard_price": 55.0, "barcode": "601647855631"},
        {"id": 6, "name": "Office Lamp", "default_code": "FURN_8888", "list_price": 40.0,
         "standard_price": 35.0},
        {"id": 7, "name": "Large Desk", "default_code": "E-COM09", "list_price": 1799.0,
         "standard_price": 1299.0},
        {"id": 8, "name": "Cabinet with Doors", "default_code": "E-COM11", "list_price": 140.0,
         "standard_price": 120.5, "description_sale": "Solid oak, two doors."},
        {"id": 9, "name": "Customizable Desk", "default_code": "FURN_0096", "list_price": 750.0,
         "standard_price": 500.0},
        {"id": 10, "name": "Installation", "type": "service", "list_price": 50.0,
         "purchase_ok": False},
        {"id": 11, "name": "Old Stool", "default_code": "FURN_0001", "list_price": 12.0,
         "active": False},
    ],
    "sale.order": [
        {"id": 1, "name": "S00001", "partner_id": 10, "date_order": "2024-05-02 10:15:00",
         "validity_date": "2024-06-01", "state": "draft", "user_id": 2,
         "client_order_ref": "AZ-PO-118"},
        {"id": 2, "name": "S00002", "partner_id": 14, "date_order": "2024-05-10 16:40:00",
         "state": "sale", "user_id": 6},
        {"id": 3, "name": "S00003", "partner_id": 16, "date_order": "2024-05-21 08:05:00",
         "validity_date": "2024-06-20", "state": "sent", "user_id": 2},
        {"id": 4, "name": "S00004", "partner_id": 10, "date_order": "2024-04-11 12:00:00",
         "state": "cancel", "user_id": 2},
    ],
    "sale.order.line": [
        {"id": 1, "order_id": 1, "product_id": 5, "product_uom_qty": 4.0, "price_unit": 70.0},
        {"id": 2, "order_id": 1, "product_id": 7, "product_uom_qty": 1.0, "price_unit": 1799.0,
         "discount": 10.0},
        {"id": 3, "order_id": 2, "product_id": 9, "product_uom_qty": 2.0, "price_unit": 750.0},
        {"id": 4, "order_id": 2, "product_id": 10, "product_uom_qty": 3.0, "price_unit": 50.0},
        {"id": 5, "order_id": 3, "product_id": 8, "product_uom_qty": 5.0, "price_unit": 140.0},
        {"id": 6, "order_id": 4, "product_id": 6, "product_uom_qty": 2.0, "price_unit": 40.0},
    ],
    "crm.stage": [
        {"id": 1, "name": "New", "sequence": 1},
        {"id": 2, "name": "Qualified", "sequence": 2},
        {"id": 3, "name": "Proposition", "sequence": 3},
        {"id": 4, "name": "Won", "sequence": 70, "is_won": True},
    ],
    "crm.tag": [
        {"id": 1, "name": "Product", "color": 1},
        {"id": 2, "name": "Services", "color": 2},
        {"id": 3, "name": "Furniture", "color": 4},
    ],
    "crm.lead": [
        {"id": 1, "name": "Office Design Project", "partner_id": 10, "stage_id": 2,
         "expected_revenue": 24000.0, "probability": 30.0, "priority": "2", "user_id": 2,
         "date_deadline": "2024-07-15", "tag_ids": [1, 3],
         "email_from": "azure.Interior24@example.com"},
        {"id": 2, "name": "Quote for 12 Tables", "partner_id": 14, "stage_id": 3,
         "expected_revenue": 40000.0, "probability": 60.0, "priority": "1", "user_id": 6,
         "date_deadline": "2024-06-30", "tag_ids": [3]},
        {"id": 3, "name": "Distributor Contract", "partner_id": 16, "stage_id": 1,
         "expected_revenue": 19800.0, "probability": 10.0, "priority": "0", "user_id": 2,
         "tag_ids": [2]},
        {"id": 4, "name": "Need 20 Desks", "type": "lead", "contact_name": "Jane Doe",
         "email_from": "jane.doe@example.com", "stage_id": 1, "expected_revenue": 0.0,
         "probability": 5.0},
        {"id": 5, "name": "Furnish a 60m² office", "partner_id": 17, "stage_id": 4,
         "expected_revenue": 7500.0, "probability": 100.0, "priority": "3", "user_id": 2,
         "date_deadline": "2024-05-20"},
    ],
    "account.move": [
        {"id": 1, "name": "INV/2024/00001", "move_type": "out_invoice", "partner_id": 14,
         "invoice_date": "2024-05-11", "invoice_date_due": "2024-06-10", "state": "posted",
         "payment_state": "paid", "amount_untaxed": 1650.0, "amount_tax": 247.5,
         "amount_total": 1897.5, "amount_residual": 0.0},
        {"id": 2, "name": "INV/2024/00002", "move_type": "out_invoice", "partner_id": 10,
         "invoice_date": "2024-05-28", "invoice_date_due": "2024-06-27", "state": "posted",
         "payment_state": "not_paid", "amount_untaxed": 280.0, "amount_tax": 42.0,
         "amount_total": 322.0, "amount_residual": 322.0},
        {"id": 3, "name": "/", "move_type": "out_invoice", "partner_id": 16,
         "invoice_date": False, "state": "draft", "amount_untaxed": 700.0, "amount_tax": 105.0,
         "amount_total": 805.0, "amount_residual": 805.0},
        {"id": 4, "name": "BILL/2024/00001", "move_type": "in_invoice", "partner_id": 17,
         "invoice_date": "2024-04-30", "invoice_date_due": "2024-05-30", "state": "posted",
         "payment_state": "partial", "ref": "RM-2024-0412", "amount_untaxed": 1200.0,
         "amount_tax": 180.0, "amount_total": 1380.0, "amount_residual": 380.0},
    ],
}  # fmt: skip
"""The seed records, by model; fields left out take their defaults."""

SEED_STAMP = "2024-01-01 08:00:00"


def load_seed(orm: Orm) -> None:
    """Store the seed records (as the superuser), then the ``ir.model`` descriptions."""
    for model_name, rows in SEED.items():
        model = orm.models[model_name]
        for seed in rows:
            row: Row = {
                "create_uid": 1,
                "create_date": SEED_STAMP,
                "write_uid": 1,
                "write_date": SEED_STAMP,
            }
            for name, definition in model.fields.items():
                if name in row or definition.compute is not None or definition.type == "one2many":
                    continue
                if name in seed:
                    row[name] = seed[name]
                elif definition.default is not None and not callable(definition.default):
                    row[name] = definition.default
                else:
                    row[name] = [] if definition.type == "many2many" else False
            row["id"] = seed["id"]
            if model.complete is not None:
                model.complete(orm, row)
            orm.tables[model_name][seed["id"]] = row
            orm.next_id[model_name] = max(orm.next_id[model_name], seed["id"] + 1)
    describe_models(orm)
