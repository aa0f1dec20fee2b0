"""Commands plugins add through ``register_commands``, run in-process with in-process plugins."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from plugbay import hookimpl
from plugbay.cli import cli
from plugbay.cli_commands import PluginCommandGroup, plugin_commands
from plugbay.plugins import PluginRegistry, load_plugins


@click.command()
@click.argument("who", default="world")
def hello(who: str) -> None:
    """Say hello."""
    click.echo(f"hello, {who}")


@click.group()
def cache() -> None:
    """Manage the cache."""


@cache.command()
def clear() -> None:
    """Clear the cache."""
    click.echo("cleared")


@click.command("serve")
def fake_serve() -> None:
    """A plugin's own serve, which must not replace plugbay's."""
    raise AssertionError("never run")


@click.command("hello")
def other_hello() -> None:
    """A second hello."""
    raise AssertionError("never run")


class Greeter:
    @hookimpl
    def register_commands(self, register: Any) -> None:
        register(hello)
        register(cache)
        register(fake_serve)


class Copycat:
    @hookimpl
    def register_commands(self, register: Any) -> None:
        register(other_hello)
        register("not a command")


class Exploding:
    @hookimpl
    def register_commands(self, register: Any) -> None:
        raise RuntimeError("command hook bug")


def registry(**plugins: object) -> PluginRegistry:
    return load_plugins({}, extra=plugins, entry_points=False)


@pytest.fixture
def plugged(monkeypatch: pytest.MonkeyPatch) -> list[PluginRegistry]:
    """The CLI with Greeter, Copycat and Exploding loaded (Greeter first); records each load."""
    loads: list[PluginRegistry] = []

    def load() -> PluginRegistry:
        # Copycat registered after Greeter: pluggy calls it first, so register order is
        # tested by which of the two hellos wins.
        loaded = registry(greeter=Greeter(), exploding=Exploding(), copycat=Copycat())
        loads.append(loaded)
        return loaded

    monkeypatch.setattr(cli, "load_registry", load)
    return loads


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_plugin_command_and_group_run(plugged: list[PluginRegistry]) -> None:
    assert run("cache", "clear").stdout == "cleared\n"
    result = run("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    assert "cache" in commands
    assert "Manage the cache." in commands


def test_taken_names_are_left_out_with_a_warning_naming_the_plugin(
    plugged: list[PluginRegistry],
) -> None:
    result = run("--help")
    assert (
        "warning: plugin greeter: command 'serve' left out: plugbay has a command of that name"
    ) in result.stderr
    # Copycat's hook runs first (registered last), so its hello wins and Greeter's is
    # left out, naming both.
    assert (
        "warning: plugin greeter: command 'hello' left out: plugin copycat registered it first"
    ) in result.stderr
    assert "plugin copycat: register_commands registered 'not a command'" in result.stderr


def test_a_core_command_neither_loads_plugins_nor_is_replaced(
    plugged: list[PluginRegistry],
) -> None:
    result = run("serve", "--help")
    assert result.exit_code == 0
    assert "Serve the assembled MCP server" in result.stdout
    assert plugged == []  # `serve` resolved without loading any plugin


def test_plugins_are_loaded_once_per_command_line(plugged: list[PluginRegistry]) -> None:
    run("cache", "clear")
    assert len(plugged) == 1


def test_a_failing_hook_leaves_the_other_plugins_commands(
    plugged: list[PluginRegistry],
) -> None:
    result = run("cache", "clear")
    assert result.exit_code == 0
    assert result.stdout == "cleared\n"


def test_a_registry_that_cannot_load_leaves_the_core_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> PluginRegistry:
        raise RuntimeError("entry points unreadable")

    monkeypatch.setattr(cli, "load_registry", broken)
    result = run("--help")
    assert result.exit_code == 0
    assert "warning: plugin commands not loaded: entry points unreadable" in result.stderr
    assert "uninstall" in result.stdout


def test_an_unknown_command_suggests_a_plugin_command(plugged: list[PluginRegistry]) -> None:
    result = CliRunner().invoke(cli, ["cachee"])
    assert result.exit_code == 2
    assert "no such command 'cachee'; did you mean 'cache'?" in result.output


def test_plugin_commands_alone() -> None:
    group = PluginCommandGroup(load=lambda: registry(greeter=Greeter()))
    taken = {"serve": click.Command("serve")}
    added, warnings = plugin_commands(registry(greeter=Greeter()), taken)
    assert sorted(added) == ["cache", "hello"]
    assert warnings == [
        "plugin greeter: command 'serve' left out: plugbay has a command of that name"
    ]
    result = CliRunner().invoke(group, ["hello", "ada"])
    assert result.stdout == "hello, ada\n"
