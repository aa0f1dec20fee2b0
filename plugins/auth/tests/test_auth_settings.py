"""The ``[auth]`` table: claimed by plugbay-auth, validated, reported with locations."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plugbay.cli import cli
from plugbay.errors import ConfigError
from plugbay_auth import AuthConfig

FULL = """
[auth]
resource = "https://mcp.example.com/mcp"

[[auth.api_keys]]
name = "ci"
key = "${CI_KEY}"
scopes = ["tools"]

[auth.jwt]
jwks_url = "https://idp.example.com/jwks"
issuer = "https://idp.example.com"
"""


def test_without_the_table_nothing_is_configured(assembled) -> None:
    assembly = assembled("")
    assert assembly.config.table("auth") is None
    assert assembly.auth_backends == []


@pytest.mark.parametrize(
    "toml",
    ["[auth]\n", '[auth]\nresource = "https://mcp.example.com/mcp"\n'],
    ids=["empty", "no-backend"],
)
def test_an_auth_table_that_names_no_backend_is_refused(assembled, toml: str) -> None:
    # Asking for authentication and getting none would serve everyone as `local`.
    with pytest.raises(ConfigError) as caught:
        assembled(toml)
    (problem,) = caught.value.problems
    assert problem.startswith("configuration: [auth] names no backend: add [[auth.api_keys]]")


def test_a_full_auth_table_parses(assembled) -> None:
    assembly = assembled(FULL, environ={"CI_KEY": "k" * 30})
    auth = assembly.config.table("auth")
    assert isinstance(auth, AuthConfig)
    assert auth.api_keys[0].key is not None
    assert auth.jwt is not None
    assert auth.jwt.audience is None  # the resource URL is used
    assert auth.authorization_servers == ["https://idp.example.com"]
    assert [backend.name for backend in assembly.auth_backends] == ["jwt", "api-keys"]


def test_every_problem_is_reported_with_its_table_and_no_secret(assembled) -> None:
    toml = """
[auth]
[[auth.api_keys]]
name = "ci"
key = "tiny-secret-1"

[auth.jwt]
jwks_url = "http://idp.example.com/jwks"
issuer = "x"
algorithms = ["HS256"]
"""
    with pytest.raises(ConfigError) as caught:
        assembled(toml)
    text = "\n".join(caught.value.problems)
    for expected in (
        "[auth] api_keys.0.key: is shorter than 20 characters",
        "[auth] jwt.jwks_url: must be an https:// URL",
        "[auth] jwt.algorithms: HS256 cannot be verified with published keys",
    ):
        assert expected in text, text
    assert "tiny-secret-1" not in text


def test_an_unset_variable_in_the_table_is_an_error(assembled) -> None:
    toml = '[[auth.api_keys]]\nname = "ci"\nkey = "${CI_KEY}"\n'
    with pytest.raises(ConfigError, match=r"\[auth\] the environment variable CI_KEY is not set"):
        assembled(toml)


def test_config_check_reports_auth_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The installed plugbay-auth, found through its entry point as `plugbay` finds it.
    monkeypatch.setenv("PLUGBAY_PLUGINS", "auth")
    path = tmp_path / "plugbay.toml"
    path.write_text(
        '[auth]\n[auth.jwt]\njwks_url = "https://idp.example.com/jwks"\nissuer = "x"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert f"error: {path}: [auth] bearer tokens need 'resource'" in result.stderr
