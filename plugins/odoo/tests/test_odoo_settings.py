"""The settings: what is required, what is refused, and what the environment may set."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay_odoo import OdooSettings
from plugbay_odoo.access import AccessPolicy, is_sensitive_name

BASE = {
    "url": "https://erp.example.com/",
    "database": "prod",
    "username": "bot",
    "api_key": "s3cr3t-value",
}


def settings(**overrides: Any) -> OdooSettings:
    return OdooSettings.model_validate({**BASE, **overrides})


def test_defaults_are_the_safe_ones() -> None:
    current = settings()
    assert current.url == "https://erp.example.com"
    assert current.transport == "xmlrpc"
    assert current.models == {}
    assert current.allow_methods == []
    assert (current.cache_ttl, current.timeout, current.max_records) == (300.0, 30.0, 200)
    assert "s3cr3t-value" not in repr(current)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"url": "erp.example.com"}, "must start with https://"),
        ({"url": "https://bot:pw@erp.example.com"}, "leave credentials out of the URL"),
        ({"models": {"Res Partner": ["read"]}}, "is not a model name"),
        ({"models": {"res.partner": ["delete"]}}, "Input should be 'read', 'write'"),
        ({"allow_methods": ["action_confirm"]}, "is not a model.method entry"),
        ({"allow_methods": ["sale.order._private"]}, "is not a model.method entry"),
        ({"hidden_fields": ["Bad Field"]}, "is not a field name"),
        ({"transport": "json2"}, "Input should be 'xmlrpc' or 'jsonrpc'"),
        ({"max_records": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(**overrides)
    assert problem in str(caught.value)


def test_rights_are_deduplicated_in_a_stable_order() -> None:
    current = settings(models={"sale.order": ["unlink", "read", "read"]})
    assert current.models == {"sale.order": ["read", "unlink"]}


def test_the_environment_can_set_everything() -> None:
    import plugbay_odoo

    environ = {
        "PLUGBAY_ERP__URL": "http://127.0.0.1:8069",
        "PLUGBAY_ERP__DATABASE": "prod",
        "PLUGBAY_ERP__USERNAME": "bot",
        "PLUGBAY_ERP__API_KEY": "secret-key",
        "PLUGBAY_ERP__MODELS": '{"res.partner": ["read"], "*": ["read"]}',
        "PLUGBAY_ERP__ALLOW_METHODS": "sale.order.action_confirm, account.move.action_post",
        "PLUGBAY_ERP__TRANSPORT": "jsonrpc",
    }
    config = parse_config({"connectors": {"erp": {"plugin": "odoo"}}}, environ=environ)
    registry = load_plugins({}, extra={"odoo": plugbay_odoo}, entry_points=False)
    assembly = assemble(registry, config)
    assert not assembly.problems, assembly.problems
    connector = assembly.instances["erp"].obj
    assert connector is not None
    assert isinstance(connector.settings, OdooSettings)
    assert connector.settings.models == {"res.partner": ["read"], "*": ["read"]}
    assert connector.settings.allow_methods == [
        "sale.order.action_confirm",
        "account.move.action_post",
    ]
    assert connector.settings.api_key.get_secret_value() == "secret-key"


def test_a_missing_api_key_is_reported_not_fatal() -> None:
    import plugbay_odoo

    table = {"plugin": "odoo", **{k: v for k, v in BASE.items() if k != "api_key"}}
    config = parse_config({"connectors": {"erp": table}}, environ={})
    registry = load_plugins({}, extra={"odoo": plugbay_odoo}, entry_points=False)
    assembly = assemble(registry, config)
    assert any("api_key" in str(problem) for problem in assembly.problems)


@pytest.mark.parametrize(
    ("field", "sensitive"),
    [
        ("password", True),
        ("new_password", True),
        ("signup_token", True),
        ("access_token", True),
        ("api_key_ids", True),
        ("totp_secret", True),
        ("smtp_pass", True),
        ("oauth_access_token", True),
        ("passport_id", False),
        ("keyword", False),
        ("name", False),
        ("partner_id", False),
    ],
)
def test_sensitive_names(field: str, sensitive: bool) -> None:
    assert is_sensitive_name(field) is sensitive


def test_the_policy_grants_by_name_then_by_wildcard() -> None:
    policy = AccessPolicy(
        {"res.partner": ["read", "write"], "*": ["read"], "ir.config_parameter": ["read"]},
        ["vat", "crm.lead.expected_revenue"],
        "erp",
    )
    assert policy.permissions("res.partner") == {"read", "write"}
    assert policy.permissions("crm.lead") == {"read"}
    assert policy.permissions("res.users.apikeys") == frozenset()
    assert policy.permissions("ir.config_parameter") == {"read"}  # listed by name: granted
    assert policy.is_hidden("res.partner", "vat")
    assert policy.is_hidden("crm.lead", "expected_revenue")
    assert not policy.is_hidden("sale.order", "expected_revenue")
    assert policy.listed == ["ir.config_parameter", "res.partner"]
