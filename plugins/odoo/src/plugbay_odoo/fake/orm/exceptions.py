"""The exceptions of ``odoo.exceptions``, with the fault codes Odoo's dispatcher gives them."""

from __future__ import annotations

from collections.abc import Sequence

from plugbay_odoo.fake.orm.schema import (
    Model,
)

# -- odoo.exceptions ---------------------------------------------------------------------


class OdooError(Exception):
    """An exception of ``odoo.exceptions``: its qualified name and XML-RPC fault code."""

    odoo_name = "odoo.exceptions.UserError"
    fault_code = 2


class UserError(OdooError):
    """``odoo.exceptions.UserError``: the user asked for something the business rules refuse."""


class ValidationError(UserError):
    """``odoo.exceptions.ValidationError``: a constraint failed."""

    odoo_name = "odoo.exceptions.ValidationError"


class MissingError(UserError):
    """``odoo.exceptions.MissingError``: a record does not exist (any more)."""

    odoo_name = "odoo.exceptions.MissingError"


class AccessError(UserError):
    """``odoo.exceptions.AccessError``: the user lacks the access rights."""

    odoo_name = "odoo.exceptions.AccessError"
    fault_code = 4


class AccessDenied(UserError):
    """``odoo.exceptions.AccessDenied``: wrong login, password or API key."""

    odoo_name = "odoo.exceptions.AccessDenied"
    fault_code = 3

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


def missing_records(model: Model, ids: Sequence[int], uid: int) -> MissingError:
    """The ``MissingError`` Odoo raises for records that do not exist (any more)."""
    shown = ", ".join(str(i) for i in ids)
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model.name}({shown},), User: {uid})"
    )
