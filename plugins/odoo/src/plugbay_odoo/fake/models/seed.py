"""The seed records, in the spirit of Odoo's demo database, and how they are stored."""

from __future__ import annotations

from plugbay_odoo.fake.models.meta import (
    describe_models,
)
from plugbay_odoo.fake.orm import (
    Orm,
    Row,
)

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
