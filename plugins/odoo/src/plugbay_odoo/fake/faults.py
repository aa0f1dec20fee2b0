"""Errors as Odoo answers them: XML-RPC faults (both endpoints) and JSON-RPC error objects."""

from __future__ import annotations

import traceback
import xmlrpc.client
from typing import Any

from starlette.responses import JSONResponse, Response

from plugbay_odoo.fake.orm import (
    AccessDenied,
    OdooError,
)

XMLRPC_CONTENT_TYPE = "text/xml; charset=utf-8"


# -- faults --------------------------------------------------------------------------------


def format_traceback(error: BaseException) -> str:
    """The formatted traceback Odoo puts in faults and ``debug``."""
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def qualified_name(error: BaseException) -> str:
    """The exception's dotted name as Odoo reports it (``odoo.exceptions.AccessError``)."""
    if isinstance(error, OdooError):
        return error.odoo_name
    kind = type(error)
    return f"{kind.__module__}.{kind.__name__}"


def _message(error: BaseException) -> str:
    return str(error.args[0]) if error.args else str(error)


def int_fault(error: BaseException | None) -> xmlrpc.client.Fault:
    """``xmlrpc_handle_exception_int``: the ``/xmlrpc/2`` fault of an exception."""
    assert error is not None
    if isinstance(error, OdooError):
        return xmlrpc.client.Fault(error.fault_code, _message(error))
    return xmlrpc.client.Fault(1, format_traceback(error))


def string_fault(error: BaseException | None) -> xmlrpc.client.Fault:
    # Odoo's legacy endpoint puts strings in faultCode, which typeshed types as int.
    """``xmlrpc_handle_exception_string``: the legacy ``/xmlrpc`` fault of an exception."""
    assert error is not None
    if isinstance(error, AccessDenied):
        return xmlrpc.client.Fault("AccessDenied", _message(error))  # type: ignore[arg-type]
    if isinstance(error, OdooError):
        kind = error.odoo_name.rsplit(".", 1)[-1]
        kind = "UserError" if kind == "ValidationError" else kind
        return xmlrpc.client.Fault(f"warning -- {kind}\n\n{_message(error)}", "")  # type: ignore[arg-type]
    return xmlrpc.client.Fault(str(error), format_traceback(error))  # type: ignore[arg-type]


def json_error(request_id: Any, error: BaseException) -> Response:
    """Odoo's JSON-RPC error object for an exception (HTTP 200, as Odoo answers)."""
    data = {
        "name": qualified_name(error),
        "debug": format_traceback(error),
        "message": _message(error),
        "arguments": [str(argument) for argument in error.args],
        "context": {},
    }
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": 200, "message": "Odoo Server Error", "data": data},
    }
    return JSONResponse(body)


def xml_response(text: str) -> Response:
    """An XML-RPC response body."""
    return Response(text.encode("utf-8"), media_type=XMLRPC_CONTENT_TYPE)
