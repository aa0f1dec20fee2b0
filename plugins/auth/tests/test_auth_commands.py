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
