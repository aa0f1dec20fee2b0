"""Security hooks fail closed; other hooks isolate their plugin; pluggy's order is the order.

In-process plugins here; tests/test_e2e_fail_closed.py does the same with pip-installed
distributions and real ``plugbay serve`` processes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel

from plugbay import Call, CallNext, CallRefused, ConfigError, ToolError, hookimpl
from plugbay.assembly import Assembly, assemble
from plugbay.config import parse_config
from plugbay.fail_closed import SecurityHookFailed, security_problems
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer

API_KEYS = '[[auth.api_keys]]\nname = "ops"\nkey = "a-key-that-is-long-enough-0123456789"\n'


def _assemble(
    plugins: dict[str, object], toml: str = "", environ: dict[str, str] | None = None
) -> Assembly:
    registry = load_plugins(environ or {}, extra=plugins, entry_points=False)
    return assemble(registry, parse_config(tomllib.loads(toml), environ={}))


def _problems(assembly: Assembly) -> list[str]:
    return security_problems(assembly.registry)


class BrokenAuth:
    @hookimpl
    def register_auth(self, register: Callable[..., None]) -> None:
        raise RuntimeError("the key store is unreachable")


class BrokenTools:
    @hookimpl
    def register_tools(self, register: Callable[..., None]) -> None:
        raise ValueError("tools exploded")

    @hookimpl
    def register_prompts(self, register: Callable[..., None]) -> None:
        def hello() -> str:
            return "hi"

        register(hello)


def test_a_raising_register_auth_stops_the_server_naming_plugin_and_reason() -> None:
    assembly = _assemble({"keystore": BrokenAuth()})
    (problem,) = _problems(assembly)
    assert problem.startswith("plugin 'keystore': register_auth: RuntimeError: ")
    assert "the key store is unreachable" in problem
    assert assembly.registry.plugins["keystore"].status == "failed"
    with pytest.raises(SecurityHookFailed) as refused:
        PlugbayServer(assembly)
    assert "keystore" in str(refused.value)
    assert "the key store is unreachable" in str(refused.value)


def test_unusable_security_registrations_are_security_failures() -> None:
    class Registers:
        @hookimpl
        def register_auth(self, register: Callable[..., None]) -> None:
            register("not a backend")

        @hookimpl
        def register_middleware(self, register: Callable[..., None]) -> None:
            register(42)

    assembly = _assemble({"sloppy": Registers()})
    assert assembly.auth_backends == []
    assert [layer for layer in assembly.middleware if layer == 42] == []
    assert _problems(assembly) == [
        "plugin 'sloppy': register_middleware: 42 is not a middleware callable",
        "plugin 'sloppy': register_auth: 'not a backend' is not an AuthBackend "
        "(it has no authenticate method)",
    ]


def test_a_plugin_with_a_security_hook_that_cannot_register_stops_the_server() -> None:
    plugin = SimpleNamespace(
        register_middleware=hookimpl(lambda register: None),
        register_midleware=hookimpl(lambda register: None),  # misspelled: check_pending fails
    )
    assembly = _assemble({"typo": plugin})
    (problem,) = _problems(assembly)
    assert problem.startswith("plugin 'typo' implements register_middleware but could not be")
    assert "register_midleware" in problem


def test_a_broken_ordinary_hook_is_isolated_and_the_server_builds() -> None:
    assembly = _assemble({"clumsy": BrokenTools()})
    assert _problems(assembly) == []
    (error,) = assembly.registry.plugins["clumsy"].errors
    assert error.startswith("register_tools: ValueError: tools exploded")
    assert list(assembly.catalog.prompts) == ["hello"]
    PlugbayServer(assembly)


def test_blocking_the_builtin_plugin_leaves_out_its_middleware() -> None:
    registry = load_plugins({"PLUGBAY_BLOCK_PLUGINS": "other, builtin"}, entry_points=False)
    assert registry.plugins["builtin"].status == "blocked"
    assert registry.manager.get_plugin("builtin") is None
    assembly = assemble(registry, parse_config({}, environ={}))
    assert assembly.middleware == []
    # PLUGBAY_PLUGINS selects installed plugins; it never drops the built-ins.
    assert load_plugins({"PLUGBAY_PLUGINS": "x"}, entry_points=False).plugins["builtin"].status == (
        "builtin"
    )


def test_a_plugin_table_whose_plugin_is_missing_refuses_to_assemble() -> None:
    # plugbay-auth is not loaded here: its [auth] table is nobody's, so nothing serves
    # as if it were not there.
    with pytest.raises(ConfigError) as refused:
        _assemble({}, API_KEYS)
    (problem,) = refused.value.problems
    assert problem == (
        "configuration: [auth] belongs to plugbay-auth, which is not installed: "
        "pip install plugbay-auth"
    )


class KeysSettings(BaseModel):
    key: str


class KeyAuth:
    """A third-party authentication plugin with a table of its own."""

    @hookimpl
    def register_config_tables(self, register: Callable[..., None]) -> None:
        register(KeysSettings, table="keys")

    @hookimpl
    def register_auth(self, register: Callable[..., None], config: Any) -> None:
        settings = config.table("keys")
        if settings is not None:
            register(SimpleNamespace(authenticate=lambda request: None, key=settings.key))


def test_a_plugin_table_and_its_backend_serve() -> None:
    assembly = _assemble({"keyauth": KeyAuth()}, '[keys]\nkey = "k"\n')
    (backend,) = assembly.auth_backends
    assert backend.key == "k"
    assert _problems(assembly) == []


@pytest.mark.parametrize(
    ("hook", "item", "expected"),
    [
        ("register_visibility", "not callable", "is not a visibility check"),
        ("register_asgi_wrappers", 7, "is not an ASGI wrapper"),
        ("register_message_middleware", None, "is not a message middleware callable"),
    ],
)
def test_unusable_registrations_of_the_other_security_hooks_stop_the_server(
    hook: str, item: object, expected: str
) -> None:
    plugin = SimpleNamespace(**{hook: hookimpl(lambda register: register(item))})
    assembly = _assemble({"sloppy": plugin})
    (problem,) = _problems(assembly)
    assert problem.startswith(f"plugin 'sloppy': {hook}: ")
    assert expected in problem
    with pytest.raises(SecurityHookFailed):
        PlugbayServer(assembly)


def test_a_raising_visibility_hook_stops_the_server() -> None:
    def register_visibility(register: Callable[..., None]) -> None:
        raise RuntimeError("no role store")

    assembly = _assemble(
        {"roles": SimpleNamespace(register_visibility=hookimpl(register_visibility))}
    )
    (problem,) = _problems(assembly)
    assert problem.startswith("plugin 'roles': register_visibility: RuntimeError: no role store")


def _layer(label: str, events: list[str]) -> Any:
    async def middleware(call: Call, call_next: CallNext) -> Any:
        events.append(f"{label} in")
        try:
            return await call_next(call)
        finally:
            events.append(f"{label} out")

    return middleware


async def test_tryfirst_middleware_is_outermost_and_trylast_innermost() -> None:
    events: list[str] = []

    def plugin(label: str, **order: bool) -> object:
        @hookimpl(**order)
        def register_middleware(register: Callable[..., None]) -> None:
            register(_layer(label, events))

        return SimpleNamespace(register_middleware=register_middleware)

    def record() -> str:
        events.append("tool")
        return "ok"

    tools = SimpleNamespace(register_tools=hookimpl(lambda register: register(record)))
    # Registered in an order that differs from the call order on purpose.
    assembly = _assemble(
        {
            "last": plugin("last", trylast=True),
            "first": plugin("first", tryfirst=True),
            "plain": plugin("plain"),
            "tools": tools,
        }
    )
    # "first" is tryfirst and registered after the built-ins (tryfirst too): outermost.
    # The built-in call log is alone in observe; in run, "first" wraps the timeout.
    assert [layer.__name__ for layer in assembly.middleware[:3]] == [
        "log_call",
        "middleware",
        "enforce_timeout",
    ]
    entry = assembly.catalog.tools["record"]
    result = await entry.handle(Call(kind="tool", name="record", arguments={}))
    assert result is not None
    assert events == [
        "first in",
        "plain in",
        "last in",
        "tool",
        "last out",
        "plain out",
        "first out",
    ]


async def test_call_refused_is_public_and_a_tool_error() -> None:
    refusal = CallRefused("not for you", outcome="denied", retry_after=2.0)
    assert isinstance(refusal, ToolError)
    assert (refusal.outcome, refusal.retry_after, str(refusal)) == ("denied", 2.0, "not for you")


async def test_a_visibility_check_that_raises_lists_nothing() -> None:
    def broken(principal: Any, kind: str, name: str, instance: str | None) -> bool:
        raise RuntimeError("the role store is unreachable")

    def secret() -> str:
        return "s"

    plugin = SimpleNamespace(
        register_visibility=hookimpl(lambda register: register(broken)),
        register_tools=hookimpl(lambda register: register(secret)),
    )
    server = PlugbayServer(_assemble({"roles": plugin}))
    async with Client(server.sdk, mode="legacy") as client:
        with pytest.raises(MCPError) as failed:
            await client.list_tools()
    assert "secret" not in str(failed.value)
    assert "role store" not in str(failed.value)
