"""Calling tools: validation, failures, threads, timeouts and middleware."""

import logging
import re
import threading
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from plugbay import Call, CallNext, Context, ToolError, resource, tool
from plugbay.assembly import assemble
from plugbay.config import Config, ServerConfig
from plugbay.middleware import compose
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer

pytestmark = pytest.mark.anyio


def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


def refuse(reason: str) -> str:
    raise ToolError(f"cannot do that: {reason}; ask an administrator")


def explode() -> str:
    raise RuntimeError("database password is hunter2")


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


async def _call(assembly: Any, name: str, arguments: dict[str, Any]) -> Any:
    entry = assembly.catalog.tools[name]
    return await entry.handle(
        Call(
            kind="tool",
            name=name,
            arguments=arguments,
            annotations=entry.annotations,
            timeout=entry.timeout,
        )
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "Invalid arguments for add: a: Field required"),
        ({"a": "three"}, "Invalid arguments for add: a: Input should be a valid integer"),
        ({"a": 1, "c": 2}, "Invalid arguments for add: c: Extra inputs are not permitted"),
    ],
)
@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_invalid_arguments_are_error_results(
    build, bundle, era: str, arguments: dict[str, Any], expected: str
) -> None:
    server = PlugbayServer(build(bundle(tools=[add])))
    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("add", arguments)
    assert result.is_error
    assert _text(result).startswith(expected)


async def test_every_invalid_field_is_reported(build, bundle) -> None:
    result = await _call(build(bundle(tools=[add])), "add", {"a": "x", "b": "y", "z": 0})
    assert result.is_error
    message = _text(result)
    assert message.startswith("Invalid arguments for add: ")
    assert all(f"{field}: " in message for field in ("a", "b", "z"))
    assert "'x'" not in message  # input values are not echoed back


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_tool_error_is_an_error_result(build, bundle, era: str) -> None:
    server = PlugbayServer(build(bundle(tools=[refuse])))
    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("refuse", {"reason": "read-only"})
    assert result.is_error
    assert _text(result) == "cannot do that: read-only; ask an administrator"


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_unexpected_exception_hides_details_and_logs_them(
    build, bundle, era: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = PlugbayServer(build(bundle(tools=[explode])))
    with caplog.at_level(logging.ERROR, logger="plugbay"):
        async with Client(server.sdk, mode=era) as client:
            result = await client.call_tool("explode", {})
    assert result.is_error
    message = _text(result)
    match = re.fullmatch(
        r"explode failed unexpectedly \(RuntimeError\); "
        r"the server log has the details under reference ([0-9a-f]{12})",
        message,
    )
    assert match, message
    assert "hunter2" not in message
    assert "Traceback" not in message
    (record,) = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


async def test_unknown_tool_is_a_protocol_error(build, bundle) -> None:
    server = PlugbayServer(build(bundle(tools=[add])))
    async with Client(server.sdk, mode="legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("subtract", {"a": 1})
    assert caught.value.code == INVALID_PARAMS
    assert "Unknown tool: subtract" in caught.value.message


async def test_sync_tools_run_in_a_worker_thread_async_ones_on_the_loop(build, bundle) -> None:
    def where_sync() -> bool:
        return threading.current_thread() is threading.main_thread()

    async def where_async() -> bool:
        return threading.current_thread() is threading.main_thread()

    assembly = build(bundle(tools=[where_sync, where_async]))
    assert threading.current_thread() is threading.main_thread()
    assert (await _call(assembly, "where_sync", {})).structured_content == {"result": False}
    assert (await _call(assembly, "where_async", {})).structured_content == {"result": True}


async def test_sync_tools_do_not_block_each_other(build, bundle) -> None:
    # Each call waits inside the tool until all three are in: only side by side can they pass.
    together = threading.Barrier(3, timeout=10)

    def nap() -> str:
        together.wait()
        return "rested"

    assembly = build(bundle(tools=[nap]))
    results: list[str] = []

    async def one() -> None:
        results.append(_text(await _call(assembly, "nap", {})))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(one)
    assert results == ["rested"] * 3


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_tool_timeout_is_a_clear_error(build, bundle, era: str) -> None:
    @tool(timeout=0.1, read_only=True)
    async def slow() -> str:
        await anyio.sleep(10)
        return "never"

    server = PlugbayServer(build(bundle(tools=[slow])))
    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("slow", {})
    assert result.is_error
    assert _text(result) == (
        "slow did not finish within 0.1 seconds and was cancelled; "
        "try a smaller request or raise the timeout"
    )


@pytest.mark.parametrize(
    "hints",
    [{"read_only": False, "idempotent": False}, {}],
    ids=["declared write", "undeclared"],
)
async def test_a_write_cut_short_by_its_timeout_says_it_may_have_happened(
    build, bundle, hints: dict[str, bool]
) -> None:
    # A create cancelled while its request is out may still have made the record.
    made: list[str] = []

    @tool(timeout=0.1, **hints)
    async def create_thing() -> str:
        made.append("thing")
        await anyio.sleep(10)
        return "created"

    result = await _call(build(bundle(tools=[create_thing])), "create_thing", {})
    assert result.is_error
    assert made == ["thing"]
    assert _text(result) == (
        "create_thing did not finish within 0.1 seconds and was cancelled. Its outcome is "
        "unknown: it may have made its changes before it was cancelled (or may still make "
        "them), so check whether it did before calling it again, so as not to do it twice."
    )


async def test_an_idempotent_write_cut_short_may_simply_be_sent_again(build, bundle) -> None:
    @tool(timeout=0.1, read_only=False, idempotent=True)
    async def set_title() -> str:
        await anyio.sleep(10)
        return "set"

    result = await _call(build(bundle(tools=[set_title])), "set_title", {})
    assert _text(result).endswith("; try a smaller request or raise the timeout")


async def test_server_call_timeout_applies_unless_the_tool_sets_one(build, bundle) -> None:
    async def sleepy() -> str:
        await anyio.sleep(10)
        return "never"

    @tool(timeout=30)
    async def patient() -> str:
        await anyio.sleep(0.3)
        return "done"

    assembly = build(bundle(tools=[sleepy, patient]), toml="[server]\ncall_timeout = 0.1\n")
    assert assembly.catalog.tools["sleepy"].timeout == 0.1
    assert assembly.catalog.tools["patient"].timeout == 30
    assert "within 0.1 seconds" in _text(await _call(assembly, "sleepy", {}))
    assert _text(await _call(assembly, "patient", {})) == "done"


async def test_sync_tool_timeout_does_not_wait_for_the_thread(build, bundle) -> None:
    release = threading.Event()
    returned = threading.Event()

    @tool(timeout=0.1)
    def stuck() -> str:
        release.wait(10)
        returned.set()
        return "late"

    assembly = build(bundle(tools=[stuck]))
    try:
        result = await _call(assembly, "stuck", {})
        # the answer came back while the thread was still stuck inside the tool
        assert not returned.is_set()
    finally:
        release.set()
    assert result.is_error
    assert "stuck did not finish within 0.1 seconds" in _text(result)


async def test_middleware_runs_in_pluggy_order_first_outermost(build, bundle) -> None:
    events: list[str] = []

    def layer(label: str) -> Any:
        async def middleware(call: Call, call_next: CallNext) -> Any:
            events.append(f"{label} in")
            result = await call_next(call)
            events.append(f"{label} out")
            return result

        return middleware

    def record() -> str:
        events.append("tool")
        return "ok"

    assembly = build(
        {
            "first": bundle(middleware=[layer("a"), layer("b")], tools=[record]),
            "second": bundle(middleware=[layer("c")]),
        }
    )
    # The built-in call log is the outermost observe layer and the built-in timeout the
    # outermost run layer (tryfirst); then, in the run stage, the plugin registered last
    # ("second") before the earlier one, each plugin's own layers in its order.
    assert [layer.__name__ for layer in assembly.middleware[:2]] == ["log_call", "enforce_timeout"]
    assert _text(await _call(assembly, "record", {})) == "ok"
    assert events == ["c in", "a in", "b in", "tool", "b out", "a out", "c out"]


async def test_middleware_sees_the_call_and_may_change_arguments(
    build, bundle, connector_cls
) -> None:
    seen: list[Call] = []

    async def double(call: Call, call_next: CallNext) -> Any:
        seen.append(call)
        if call.kind == "tool":
            call.arguments = {**call.arguments, "a": call.arguments["a"] * 2}
        return await call_next(call)

    server = PlugbayServer(
        build(bundle(middleware=[double], connectors=[connector_cls]), toml=connector_cls.TOML)
    )
    async with Client(server.sdk) as client:
        result = await client.call_tool("calc_add", {"a": 5})
    assert result.structured_content == {"result": 11}
    (call,) = seen
    assert call.kind == "tool"
    assert call.name == "calc_add"
    assert call.instance == "calc"
    assert call.plugin == "test"
    assert call.annotations == {
        "read_only": True,
        "destructive": None,
        "idempotent": True,
        "open_world": None,
    }
    assert call.principal.name == "local"
    assert call.timeout == 120.0
    assert call.request is not None


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_middleware_may_refuse_tools_resources_and_prompts(build, bundle, era: str) -> None:
    calls: list[str] = []

    async def deny(call: Call, call_next: CallNext) -> Any:
        if call.name.startswith("secret") or call.name.startswith("vault://"):
            raise ToolError(f"{call.kind} {call.name} is not allowed for {call.principal.name}")
        return await call_next(call)

    def secret_tool() -> str:
        calls.append("tool")
        return "classified"

    @resource("vault://key")
    def vault_key() -> str:
        calls.append("resource")
        return "k"

    def secret_prompt() -> str:
        calls.append("prompt")
        return "p"

    server = PlugbayServer(
        build(
            bundle(
                middleware=[deny],
                tools=[secret_tool, add],
                resources=[vault_key],
                prompts=[secret_prompt],
            )
        )
    )
    async with Client(server.sdk, mode=era) as client:
        result = await client.call_tool("secret_tool", {})
        assert result.is_error
        assert _text(result) == "tool secret_tool is not allowed for local"
        with pytest.raises(MCPError) as caught:
            await client.read_resource("vault://key")
        assert caught.value.code == INVALID_PARAMS
        assert caught.value.message == "resource vault://key is not allowed for local"
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("secret_prompt")
        assert caught.value.message == "prompt secret_prompt is not allowed for local"
        assert (await client.call_tool("add", {"a": 1})).structured_content == {"result": 2}
    assert calls == []


async def test_context_outside_mcp(build, bundle) -> None:
    async def introspect(ctx: Context) -> dict[str, Any]:
        await ctx.report_progress(1, 2, "quietly dropped")
        return {"principal": ctx.principal.name, "request_id": ctx.request_id}

    result = await _call(build(bundle(tools=[introspect])), "introspect", {})
    assert result.structured_content == {"principal": "local", "request_id": None}


async def test_compose_without_middleware_is_the_endpoint() -> None:
    async def endpoint(call: Call) -> str:
        return call.name

    assert compose([], endpoint) is endpoint
    assert await compose([], endpoint)(Call(kind="tool", name="x", arguments={})) == "x"


async def test_no_timeout_at_all(bundle) -> None:
    registry = load_plugins({}, extra={"test": bundle(tools=[add])}, entry_points=False)
    assembly = assemble(registry, Config(server=ServerConfig(call_timeout=None)))
    assert assembly.catalog.tools["add"].timeout is None
    assert (await _call(assembly, "add", {"a": 1})).structured_content == {"result": 2}
