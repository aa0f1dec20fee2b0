"""The business models, shaped like Odoo 18's: partners, users, products, sales, CRM, invoices."""

from __future__ import annotations

from plugbay_odoo.fake.models.actions import (
    _action_cancel,
    _action_confirm,
    _action_draft,
    _action_post,
    _action_set_lost,
    _action_set_won,
    _button_draft,
    _move_unlink,
    _order_unlink,
)
from plugbay_odoo.fake.models.computes import (
    LANGUAGES,
    _company_type,
    _complete_line,
    _complete_order,
    _first_stage,
    _line_display,
    _line_subtotal,
    _line_tax,
    _line_total,
    _move_display,
    _order_tax,
    _order_total,
    _order_untaxed,
    _partner_name,
    _user_email,
)
from plugbay_odoo.fake.orm import (
    Field,
    Model,
    ModelMethod,
    now_string,
)

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
