"""``plugbay keys``: make API keys for ``[[auth.api_keys]]`` and hash existing ones.

The key is printed on standard error and the entry on standard output, so
``plugbay keys new >> plugbay.toml`` keeps the key out of the file: the file holds
only its hash, from which the key cannot be recovered.
"""

from __future__ import annotations

import json
import sys

import click

from plugbay_auth.api_keys import hash_api_key, new_api_key


@click.group("keys")
def keys_group() -> None:
    """Make API keys for [[auth.api_keys]] and hash existing ones."""


@keys_group.command("new")
@click.option("--name", default="my-client", show_default=True, help="Who will hold the key.")
@click.option("--scope", "scopes", multiple=True, help="A scope the key grants (repeatable).")
@click.option("--role", "roles", multiple=True, help="A role the key's holder has (repeatable).")
def keys_new(name: str, scopes: tuple[str, ...], roles: tuple[str, ...]) -> None:
    """Print a new random API key and the [[auth.api_keys]] entry that accepts it.

    Give the key to its holder once; keep only the entry (which holds its hash) in
    plugbay.toml. The key cannot be recovered from the hash.
    """
    key = new_api_key()
    click.echo(f"key:  {key}", err=True)
    click.echo("      (shown once: hand it to its holder; plugbay keeps only the hash)", err=True)
    click.echo("[[auth.api_keys]]")
    click.echo(f"name = {json.dumps(name)}")
    click.echo(f'hash = "{hash_api_key(key)}"')
    click.echo(f"scopes = {json.dumps(list(scopes))}")
    if roles:
        click.echo(f"roles = {json.dumps(list(roles))}")


@keys_group.command("hash")
def keys_hash() -> None:
    """Print the hash of a key read from standard input (so it stays out of shell history)."""
    key = sys.stdin.readline().strip()
    if not key:
        raise click.UsageError("pipe the key on standard input: plugbay keys hash < key.txt")
    click.echo(hash_api_key(key))
