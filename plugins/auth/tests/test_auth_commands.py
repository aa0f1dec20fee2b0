"""``plugbay keys``: new keys printed once with the entry that holds only their hash."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from plugbay_auth import hash_api_key, register_commands

KEY = "pbk_" + "k" * 43


@pytest.fixture
def cli() -> click.Group:
    """A command line with what plugbay-auth's ``register_commands`` adds, as the host adds it."""
    group = click.Group("plugbay")
    register_commands(group.add_command)
    return group


def test_keys_new_prints_a_key_once_and_an_entry_with_its_hash(cli: click.Group) -> None:
    result = CliRunner().invoke(cli, ["keys", "new", "--name", "ci-bot", "--scope", "tools"])
    assert result.exit_code == 0, result.output
    key = next(line.split()[1] for line in result.stderr.splitlines() if line.startswith("key:"))
    assert key.startswith("pbk_")
    assert key not in result.stdout
    assert result.stdout.splitlines() == [
        "[[auth.api_keys]]",
        'name = "ci-bot"',
        f'hash = "{hash_api_key(key)}"',
        'scopes = ["tools"]',
    ]


def test_keys_hash_reads_the_key_from_standard_input(cli: click.Group) -> None:
    result = CliRunner().invoke(cli, ["keys", "hash"], input=KEY + "\n")
    assert result.exit_code == 0
    assert result.stdout.strip() == hash_api_key(KEY)
    empty = CliRunner().invoke(cli, ["keys", "hash"], input="")
    assert empty.exit_code != 0


def test_plugbay_keys_comes_from_the_installed_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real ``plugbay`` command line, which finds plugbay-auth by its entry point."""
    from plugbay.cli import cli as plugbay

    monkeypatch.setenv("PLUGBAY_PLUGINS", "auth")
    made = CliRunner().invoke(plugbay, ["keys", "new", "--name", "ops", "--role", "admin"])
    assert made.exit_code == 0, made.output
    assert 'roles = ["admin"]' in made.stdout
    hashed = CliRunner().invoke(plugbay, ["keys", "hash"], input=KEY + "\n")
    assert hashed.stdout.strip() == hash_api_key(KEY)
    monkeypatch.setenv("PLUGBAY_BLOCK_PLUGINS", "auth")
    blocked = CliRunner().invoke(plugbay, ["keys", "new"])
    assert blocked.exit_code == 2
    assert "no such command 'keys'" in blocked.stderr.lower()
