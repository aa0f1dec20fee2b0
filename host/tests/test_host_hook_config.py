"""Hooks may ask for the configuration; plugins that are not connectors read their own table."""

import pytest

from plugbay import hookimpl
from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.errors import ConfigError
from plugbay.plugins import load_plugins


class Greeter:
    """A freestanding-tool plugin configured through [plugins.greeter]."""

    @hookimpl
    def register_tools(self, register, config):
        greeting = config.plugin_table("greeter").get("greeting", "hello")

        def greet(who: str) -> str:
            """Greet someone."""
            return f"{greeting} {who}"

        register(greet, read_only=True)


class NoConfigWanted:
    @hookimpl
    def register_tools(self, register):
        register(lambda_free_tool)


def lambda_free_tool(x: int) -> int:
    """Double a number."""
    return 2 * x


async def test_a_hook_that_asks_for_config_gets_its_plugin_table_interpolated() -> None:
    config = parse_config(
        {"plugins": {"greeter": {"greeting": "${GREETING}"}}}, environ={"GREETING": "ahoy"}
    )
    registry = load_plugins(
        {}, extra={"greeter": Greeter(), "plain": NoConfigWanted()}, entry_points=False
    )
    assembly = assemble(registry, config)
    assert assembly.problems == []
    result = await assembly.catalog.tools["greet"].handle(_call("greet", {"who": "ann"}))
    assert result.content[0].text == "ahoy ann"
    assert "lambda_free_tool" in assembly.catalog.tools


def test_a_missing_plugin_table_is_empty() -> None:
    config = parse_config({}, environ={})
    assert config.plugin_table("anything") == {}


def test_plugins_must_be_tables_of_tables() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"plugins": {"greeter": "loud"}}, environ={})
    assert "[plugins.<name>]" in raised.value.problems[0]


def _call(name, arguments):
    from plugbay.middleware import Call

    return Call(kind="tool", name=name, arguments=arguments)
