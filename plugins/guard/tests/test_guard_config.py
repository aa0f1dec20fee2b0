"""The guard's tables in plugbay.toml, read by the real host: parsed, defaulted, and every
problem reported at once with its table and no secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plugbay.cli import cli
from plugbay.errors import ConfigError
from plugbay_guard import AuditConfig, LimitsConfig, PolicyConfig
from plugbay_testing.harness import build_assembly


def test_without_the_tables_the_guard_adds_nothing(build, extras) -> None:
    assembly = build(extras())
    assert assembly.problems == []
    for name in ("policy", "limits", "audit"):
        assert assembly.config.table(name) is None
    assert assembly.visibility == []
    assert assembly.extensions.asgi_wrappers == []
    assert [getattr(layer, "__module__", "") for layer in assembly.middleware] == [
        "plugbay.call_log",  # the host's own call log and per-call timeout,
        "plugbay.builtin",  # nothing of the guard's
    ]


def test_a_full_guard_configuration_parses(build, extras) -> None:
    config = {
        "policy": {"ip_allow": ["10.0.0.0/8"], "rules": [{"scopes": ["tools"], "tools": ["*"]}]},
        "limits": {"per_principal": "600/minute", "max_concurrent_calls": 32},
        "audit": {"output": "/var/log/plugbay/audit.jsonl"},
    }
    tables = build(extras(), config=config).config
    policy, limits, audit = (tables.table(name) for name in ("policy", "limits", "audit"))
    assert isinstance(policy, PolicyConfig)
    assert policy.default == "deny"
    assert isinstance(limits, LimitsConfig)
    assert limits.per_principal == "600/minute"
    assert limits.strategy == "sliding-window-counter"
    assert isinstance(audit, AuditConfig)
    assert audit.output == "/var/log/plugbay/audit.jsonl"


def test_every_problem_is_reported_with_its_table_and_no_secret(build, extras) -> None:
    config = {
        "policy": {"rules": [{"effect": "perhaps"}], "ip_allow": ["10.0.0.0/33"]},
        "limits": {
            "per_tool": "very often",
            "storage": "memcached://:hunter2@cache",
            "shutdown_grace": 5,
        },
        "audit": {"kinds": ["tools"], "max_value_chars": 3},
    }
    with pytest.raises(ConfigError) as caught:
        build(extras(), config=config)
    text = "\n".join(caught.value.problems)
    for expected in (
        "[policy] rules.0.effect:",
        "[policy] ip_allow.0:",
        "[limits] shutdown_grace is no longer a [limits] setting: "
        "set it as [server] shutdown_grace",
        "[audit] kinds.0:",
        "[audit] max_value_chars:",
    ):
        assert expected in text, text
    del config["limits"]["shutdown_grace"]
    with pytest.raises(ConfigError) as caught:
        build(extras(), config=config)
    text = "\n".join(caught.value.problems)
    assert "[limits] per_tool: 'very often' is not a rate" in text, text
    assert "[limits] storage: must be 'memory' or a redis://" in text, text
    assert "hunter2" not in text


def test_an_unset_variable_in_a_guard_table_is_an_error(build, extras) -> None:
    with pytest.raises(ConfigError, match=r"\[audit\].*AUDIT_FILE"):
        build(extras(), config={"audit": {"output": "${AUDIT_FILE}"}}, environ={})
    assembly = build(
        extras(), config={"audit": {"output": "${AUDIT_FILE}"}}, environ={"AUDIT_FILE": "/a.log"}
    )
    assert assembly.config.table("audit").output == "/a.log"


def test_config_check_reports_guard_problems(tmp_path: Path) -> None:
    path = tmp_path / "plugbay.toml"
    path.write_text(
        '[limits]\nper_principal = "10/fortnight"\n[policy]\ndefault = "sometimes"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert f"error: {path}: [limits] per_principal: '10/fortnight' is not a rate" in result.stderr
    assert f"error: {path}: [policy] default:" in result.stderr


@pytest.mark.parametrize("table", ["policy", "limits", "audit"])
def test_a_guard_table_with_the_guard_blocked_is_refused_naming_it(table: str) -> None:
    environ = {"PLUGBAY_PLUGINS": "guard", "PLUGBAY_BLOCK_PLUGINS": "guard"}
    with pytest.raises(ConfigError) as caught:
        build_assembly(config={table: {}}, environ=environ, entry_points=True)
    (problem,) = caught.value.problems
    assert f"[{table}] belongs to plugbay-guard, which is blocked" in problem


def test_the_installed_guard_is_found_by_its_entry_point() -> None:
    assembly = build_assembly(
        config={"policy": {"default": "deny"}},
        environ={"PLUGBAY_PLUGINS": "guard"},
        entry_points=True,
    )
    info = assembly.registry.plugins["guard"]
    assert (info.status, info.distribution) == ("loaded", "plugbay-guard")
    assert [type(layer).__name__ for layer in assembly.middleware] == [
        "function",  # the host's call log (observe)
        "Policy",  # admit
        "function",  # the host's per-call timeout (run)
    ]
