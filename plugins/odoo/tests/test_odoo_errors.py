"""Odoo's faults, over both protocols, become tool errors a person can act on; bad starts too."""

from __future__ import annotations

import pytest

from plugbay import AssemblyError
from plugbay_odoo import OdooConnector
from plugbay_odoo.errors import from_jsonrpc, from_xmlrpc, last_exception
from plugbay_odoo.fake import ADMIN_API_KEY, OdooFake
from plugbay_testing import serve
from plugbay_testing.fakes import free_port

from .conftest import FULL_ACCESS, ServeOdoo


async def test_user_errors_keep_odoo_s_message(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        message = await odoo.error("unlink", model="sale.order", ids=[2])
    assert message == (
        "Odoo refused sale.order.unlink: You can not delete a sent quotation or a confirmed "
        "sales order. You must first cancel it."
    )


async def test_validation_errors_name_the_field(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        message = await odoo.error("create", model="sale.order", values={"note": "no customer"})
    assert message.startswith("Odoo refused sale.order.create: The operation cannot be completed")
    assert "Field: Customer (partner_id)" in message


async def test_missing_records_say_to_search_again(serve_odoo: ServeOdoo) -> None:
    async with serve_odoo() as odoo:
        message = await odoo.error("read", model="res.partner", ids=[10, 999])
    assert message == (
        "Odoo could not find the records of res.partner.read: Record does not exist or has "
        "been deleted.\n(Record: res.partner(999,), User: 2) Search for them again to get "
        "current ids."
    )


async def test_application_errors_show_the_exception_not_the_traceback(
    serve_odoo: ServeOdoo,
) -> None:
    async with serve_odoo(allow_methods=["res.partner.frobnicate"]) as odoo:
        message = await odoo.error("call_method", model="res.partner", method="frobnicate")
    assert message == (
        "Odoo failed to run res.partner.frobnicate: AttributeError: The method "
        "'res.partner.frobnicate' does not exist Check the method's arguments against the "
        "model (erp_describe_model)."
    )
    assert "Traceback" not in message


async def test_a_revoked_key_is_reported_with_the_settings_to_check(
    serve_odoo: ServeOdoo, odoo_fake: OdooFake
) -> None:
    async with serve_odoo() as odoo:
        await odoo.ok("count", model="res.partner")
        odoo_fake.revoke_api_key(ADMIN_API_KEY)
        message = await odoo.error("count", model="res.partner")
    assert message == (
        "Odoo refused the credentials of user 'admin' on database 'odoo18' (Access Denied). "
        "Check the username and api_key settings of this instance ([connectors.erp] or "
        "PLUGBAY_ERP__API_KEY); an API key may have expired or been revoked (Odoo: "
        "Preferences > Account Security)."
    )
    assert ADMIN_API_KEY not in message


@pytest.mark.parametrize("transport", ["xmlrpc", "jsonrpc"])
async def test_a_wrong_key_fails_the_start_without_showing_it(
    odoo_fake: OdooFake, transport: str
) -> None:
    settings = odoo_fake.settings(models=FULL_ACCESS, transport=transport, api_key="0" * 40)
    with pytest.raises(AssemblyError) as caught:
        async with serve(OdooConnector, settings=settings, instance="erp"):
            pass
    assert "Odoo refused the credentials of user 'admin' on database 'odoo18'" in str(caught.value)
    assert "0" * 40 not in str(caught.value)
    assert odoo_fake.count("authenticate") == 1


async def test_a_wrong_database_is_named(odoo_fake: OdooFake) -> None:
    settings = odoo_fake.settings(models=FULL_ACCESS, database="prod")
    with pytest.raises(AssemblyError) as caught:
        async with serve(OdooConnector, settings=settings, instance="erp"):
            pass
    assert 'OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:' in (
        str(caught.value)
    )
    assert "Check the database setting ('prod')" in str(caught.value)


async def test_an_unreachable_server_is_named(odoo_fake: OdooFake) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = odoo_fake.settings(models=FULL_ACCESS, url=url, max_attempts=2)
    with pytest.raises(AssemblyError) as caught:
        async with serve(OdooConnector, settings=settings, instance="erp"):
            pass
    assert f"Odoo at {url} could not be reached (ConnectError) after 2 attempts." in str(
        caught.value
    )
    assert "Check the url setting and that Odoo is running" in str(caught.value)


async def test_a_url_that_is_not_odoo_s_root_is_explained(odoo_fake: OdooFake) -> None:
    settings = odoo_fake.settings(models=FULL_ACCESS, url=f"{odoo_fake.url}/odoo")
    with pytest.raises(AssemblyError) as caught:
        async with serve(OdooConnector, settings=settings, instance="erp"):
            pass
    assert "answered HTTP 404 to POST /xmlrpc/2/common" in str(caught.value)
    assert "root URL" in str(caught.value)


# -- reading faults, unit by unit ----------------------------------------------------------


def test_xmlrpc_fault_codes_map_to_kinds() -> None:
    assert from_xmlrpc(4, "You are not allowed").kind == "access_error"
    assert from_xmlrpc(3, "Access Denied").kind == "access_denied"
    assert from_xmlrpc(2, "Some orders are not in a state").kind == "user_error"
    missing = from_xmlrpc(2, "Record does not exist or has been deleted.\n(Record: x(1,))")
    assert missing.kind == "missing_error"
    assert missing.exception == "odoo.exceptions.MissingError"


def test_application_faults_are_read_from_the_traceback() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/odoo/odoo/service/model.py", line 156, in execute_kw\n'
        "    return method(*args, **kwargs)\n"
        "ValueError: Invalid field 'nme' on model 'res.partner'\n"
    )
    fault = from_xmlrpc(1, text)
    assert (fault.kind, fault.exception) == ("application_error", "ValueError")
    assert fault.message == "Invalid field 'nme' on model 'res.partner'"
    assert last_exception("just a message") == ("", "just a message")
    wrapped = "Traceback (most recent call last):\n  File x\nodoo.exceptions.UserError: Two\nlines"
    assert last_exception(wrapped) == ("odoo.exceptions.UserError", "Two\nlines")


def test_legacy_string_fault_codes_are_understood() -> None:
    fault = from_xmlrpc("warning -- AccessError\n\nNot for you", "")
    assert (fault.kind, fault.message) == ("access_error", "Not for you")
    assert from_xmlrpc("AccessDenied", "Access Denied").kind == "access_denied"
    assert from_xmlrpc("warning -- MissingError\n\nGone", "").kind == "missing_error"


def test_jsonrpc_errors_are_read_from_their_data() -> None:
    error = {
        "code": 200,
        "message": "Odoo Server Error",
        "data": {"name": "odoo.exceptions.ValidationError", "message": "Bad VAT", "debug": "..."},
    }
    fault = from_jsonrpc(error)
    assert (fault.kind, fault.message) == ("validation_error", "Bad VAT")
    assert from_jsonrpc({"code": 100, "message": "Odoo Session Expired"}).message == (
        "Odoo Session Expired"
    )
    builtin = from_jsonrpc({"data": {"name": "builtins.KeyError", "message": "'x'"}})
    assert (builtin.kind, builtin.exception) == ("application_error", "builtins.KeyError")
