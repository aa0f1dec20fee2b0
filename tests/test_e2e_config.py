"""``plugbay config check`` and ``plugbay plugins`` as subprocesses: every problem at
once, with where it is and what to set, and never a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SECRET = "sk-e2e-do-not-print-me-7f3a"

BAD_CONFIG = """
[connectors.good]
plugin = "echo"

[connectors.loud]
plugin = "echo"
prefix = 5
volume = 11

[connectors.safe]
plugin = "vault"
api_key = "${E2E_VAULT_KEY}"
url = ["not", "a", "url"]

[connectors.keyless]
plugin = "vault"
api_key = "${E2E_MISSING_KEY}"

[connectors.ghost]
plugin = "nonexistent"
"""


@pytest.fixture
def env(e2e: Any, echo_site: Path) -> dict[str, str]:
    return e2e.child_env(["e2e_echo", "e2e_vault"], [echo_site], E2E_VAULT_KEY=SECRET)


def test_default_configuration_is_ok(e2e: Any, echo_site: Path, tmp_path: Path) -> None:
    done = e2e.run_plugbay(
        ["config", "check"], cwd=tmp_path, env=e2e.child_env(["e2e_echo"], [echo_site])
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == [
        "configuration OK: no file (the defaults)",
        "  plugins loaded: e2e_echo",
        "  connector instances: 1 (echo), 3 tool(s) declared",
    ]
    # It says what it checked, and that it started nothing and connected nowhere.
    assert "Nothing was started and nothing was connected to" in done.stdout


def test_every_problem_is_reported_at_once_without_secrets(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "plugbay.toml").write_text(BAD_CONFIG)
    done = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: [connectors.loud]: prefix: Input should be a valid string",
        "error: [connectors.loud]: volume: Extra inputs are not permitted",
        "error: [connectors.safe]: url: Input should be a valid string",
        "error: [connectors.keyless]: the environment variable E2E_MISSING_KEY is not set",
        "error: [connectors.ghost]: no installed plugin provides the connector 'nonexistent' "
        "(is its package installed? see `plugbay plugins`)",
    ]
    assert SECRET not in done.stdout + done.stderr


def test_explicit_config_file_and_syntax_errors(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "elsewhere.toml"
    broken.write_text("[connectors.good\nplugin = 'echo'\n")
    done = e2e.run_plugbay(["config", "check", "--config", str(broken)], cwd=tmp_path, env=env)
    assert done.returncode == 1  # as for every other problem
    assert f"{broken}: not valid TOML" in done.stderr


def test_missing_credentials_are_listed_with_the_variable_to_set(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    report = e2e.run_json(["plugins", "--json"], cwd=tmp_path, env=env)
    instances = {state["name"]: state for state in report["instances"]}
    assert instances["echo"]["status"] == "configured"
    vault = instances["vault"]
    assert vault["status"] == "not configured"
    assert vault["problems"] == [
        "api_key is required: set 'api_key' in [connectors.vault] or the environment "
        "variable PLUGBAY_VAULT__API_KEY"
    ]

    checked = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert checked.returncode == 1
    assert "PLUGBAY_VAULT__API_KEY" in checked.stderr


def test_credentials_from_the_environment_configure_it_and_stay_secret(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    env = {**env, "PLUGBAY_VAULT__API_KEY": SECRET}
    checked = e2e.run_plugbay(["-v", "config", "check"], cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "  connector instances: 2 (echo, vault), 4 tool(s) declared" in checked.stdout
    called = e2e.run_plugbay(["-v", "call", "vault_whoami"], cwd=tmp_path, env=env)
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip() == "http://127.0.0.1:9/vault"
    for output in (checked.stdout, checked.stderr, called.stdout, called.stderr):
        assert SECRET not in output
