"""The hosting tables in plugbay.toml: parsed, defaulted, and reported with locations."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plugbay.cli import cli
from plugbay.config import Config, parse_config
from plugbay.errors import ConfigError


def test_without_the_tables_everything_is_off() -> None:
    config = Config()
    assert not config.auth.enabled
    assert not config.policy.enabled
    assert not config.limits.rate_limited
    assert config.limits.max_concurrent_calls is None
    assert not config.audit.enabled


def test_a_full_hosting_configuration_parses() -> None:
    document = {
        "auth": {
            "resource": "https://mcp.example.com/mcp",
            "api_keys": [{"name": "ci", "key": "${CI_KEY}", "scopes": ["tools"]}],
            "jwt": {
                "jwks_url": "https://idp.example.com/jwks",
                "issuer": "https://idp.example.com",
            },
        },
        "policy": {"ip_allow": ["10.0.0.0/8"], "rules": [{"scopes": ["tools"], "tools": ["*"]}]},
        "limits": {"per_principal": "600/minute", "max_concurrent_calls": 32},
        "audit": {"output": "/var/log/plugbay/audit.jsonl"},
    }
    config = parse_config(document, environ={"CI_KEY": "k" * 30})
    assert config.auth.api_keys[0].key is not None
    assert config.auth.jwt is not None
    assert config.auth.jwt.audience is None  # the resource URL is used
    assert config.auth.authorization_servers == ["https://idp.example.com"]
    assert config.policy.default == "deny"
    assert config.limits.per_principal == "600/minute"
    assert config.audit.output == "/var/log/plugbay/audit.jsonl"


def test_every_problem_is_reported_with_its_table_and_no_secret() -> None:
    document = {
        "auth": {
            "api_keys": [{"name": "ci", "key": "tiny-secret-1"}],
            "jwt": {
                "jwks_url": "http://idp.example.com/jwks",
                "issuer": "x",
                "algorithms": ["HS256"],
            },
        },
        "policy": {"rules": [{"effect": "perhaps"}]},
        "limits": {"per_tool": "very often", "storage": "memcached://x"},
        "audit": {"kinds": ["tools"]},
        "connectors": {"crm": {"plugin": "crm", "call_timeout": -1}},
        "secrets": {},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(document, environ={})
    problems = caught.value.problems
    text = "\n".join(problems)
    for expected in (
        "unknown table [secrets]",
        "[auth] api_keys.0.key: is shorter than 20 characters",
        "[auth] jwt.jwks_url: must be an https:// URL",
        "[auth] jwt.algorithms: HS256 cannot be verified with published keys",
        "[policy] rules.0.effect:",
        "[limits] per_tool: 'very often' is not a rate",
        "[limits] storage: must be 'memory' or a redis://",
        "[audit] kinds.0:",
        "[connectors.crm]: 'call_timeout' must be a number of seconds above 0",
    ):
        assert expected in text, text
    assert "tiny-secret-1" not in text


def test_an_unset_variable_in_a_hosting_table_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"\[auth\] the environment variable CI_KEY is not set"):
        parse_config({"auth": {"api_keys": [{"name": "ci", "key": "${CI_KEY}"}]}}, environ={})


def test_config_check_reports_hosting_problems(tmp_path: Path) -> None:
    path = tmp_path / "plugbay.toml"
    path.write_text(
        '[auth]\n[auth.jwt]\njwks_url = "https://idp.example.com/jwks"\nissuer = "x"\n'
        '[limits]\nper_principal = "10/fortnight"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert f"error: {path}: [auth] bearer tokens need 'resource'" in result.stderr
    assert f"error: {path}: [limits] per_principal: '10/fortnight' is not a rate" in result.stderr
