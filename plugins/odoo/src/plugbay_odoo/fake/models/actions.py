"""Business methods: confirming orders, posting invoices, winning leads, with Odoo's errors."""

from __future__ import annotations

from plugbay_odoo.fake.models.computes import (
    _order_lines,
)
from plugbay_odoo.fake.orm import (
    Orm,
    Row,
    UserError,
    now_string,
)

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
