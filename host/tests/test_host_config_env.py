"""PLUGBAY_* variables win over the file: [server] keys, and settings whose ${VAR} is unset."""

import pytest

from plugbay import ConfigError
from plugbay.config import InstanceConfig, parse_config

ERP = {"connectors": {"erp": {"plugin": "odoo", "url": "https://e", "api_key": "${ODOO_KEY}"}}}


def test_an_unset_variable_is_missing_without_an_override() -> None:
    (erp,) = parse_config(ERP, environ={}).instances or ()
    assert erp.missing_variables == ("ODOO_KEY",)


def test_a_plugbay_variable_rescues_a_setting_whose_variable_is_unset() -> None:
    config = parse_config(ERP, environ={"PLUGBAY_ERP__API_KEY": "k"})
    (erp,) = config.instances or ()
    assert erp.missing_variables == ()
    assert config.env_overrides("erp") == {"api_key": "k"}


def test_the_override_rescues_only_its_own_setting() -> None:
    document = {"connectors": {"erp": {"url": "${ERP_URL}", "api_key": "${ODOO_KEY}"}}}
    (erp,) = parse_config(document, environ={"PLUGBAY_ERP__API_KEY": "k"}).instances or ()
    assert erp == InstanceConfig("erp", "erp", {"url": "", "api_key": ""}, ("ERP_URL",))


def test_the_override_matches_settings_case_insensitively() -> None:
    document = {"connectors": {"my-erp": {"API_KEY": "${ODOO_KEY}"}}}
    config = parse_config(document, environ={"PLUGBAY_MY_ERP__API_KEY": "k"})
    assert (config.instances or ())[0].missing_variables == ()


def test_every_server_key_can_come_from_the_environment() -> None:
    environ = {
        "PLUGBAY_SERVER__PORT": "9123",
        "PLUGBAY_SERVER__HOST": "0.0.0.0",
        "PLUGBAY_SERVER__STATELESS": "true",
        "PLUGBAY_SERVER__CALL_TIMEOUT": "5.5",
        "PLUGBAY_SERVER__ALLOWED_HOSTS": "a.example.com, b.example.com:*",
        "PLUGBAY_SERVER__TRUSTED_PROXIES": '["10.0.0.0/8"]',
        "PLUGBAY_SERVER__INSTRUCTIONS": "Be brief.",
    }
    server = parse_config({"server": {"port": 8001, "name": "team"}}, environ=environ).server
    assert server.port == 9123  # the variable wins over the file
    assert server.name == "team"  # the file's other keys stay
    assert server.host == "0.0.0.0"
    assert server.stateless is True
    assert server.call_timeout == 5.5
    assert server.allowed_hosts == ["a.example.com", "b.example.com:*"]
    assert server.trusted_proxies == ["10.0.0.0/8"]
    assert server.instructions == "Be brief."


def test_server_variables_apply_without_a_server_table() -> None:
    assert parse_config({}, environ={"PLUGBAY_SERVER__PORT": "7000"}).server.port == 7000


def test_a_server_variable_rescues_an_unset_variable_in_the_file() -> None:
    document = {"server": {"port": "${PORT}"}}
    server = parse_config(document, environ={"PLUGBAY_SERVER__PORT": "7001"}).server
    assert server.port == 7001


def test_an_unset_variable_in_server_is_an_error() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"server": {"port": "${PORT}"}}, environ={})
    assert raised.value.problems[0] == (
        "configuration: [server] port: the environment variable PORT is not set"
    )


def test_a_bad_server_variable_is_named() -> None:
    environ = {"PLUGBAY_SERVER__PORT": "eighty", "PLUGBAY_SERVER__POTR": "1"}
    with pytest.raises(ConfigError) as raised:
        parse_config({"server": {"port": 8000}}, environ=environ)
    problems = raised.value.problems
    port = "PLUGBAY_SERVER__PORT: Input should be a valid integer"
    assert any(p.startswith(port) for p in problems)
    assert "PLUGBAY_SERVER__POTR: Extra inputs are not permitted" in problems
    assert not any("eighty" in p for p in problems)  # values may be secrets


def test_bad_file_values_still_name_the_file_table() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"server": {"port": "x"}}, environ={})
    assert raised.value.problems[0].startswith("configuration: [server] port: ")


def test_a_server_table_that_is_not_a_table() -> None:
    with pytest.raises(ConfigError, match=r"\[server\] must be a table"):
        parse_config({"server": 3}, environ={})


@pytest.mark.parametrize("name", ["server", "SERVER", "Server"])
def test_no_instance_may_be_called_server(name: str) -> None:
    with pytest.raises(ConfigError, match=f"the name '{name}' is reserved"):
        parse_config({"connectors": {name: {"plugin": "odoo"}}}, environ={})
