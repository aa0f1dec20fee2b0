"""Dynamic components: connectors that contribute tools, resources and prompts at run time."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import mcp_types as types
import pytest
from click.testing import CliRunner
from mcp import Client, MCPError

from plugbay import (
    Call,
    CallNext,
    Components,
    Connector,
    Context,
    DynamicPrompt,
    DynamicResource,
    DynamicTool,
    Settings,
    ToolError,
    hookimpl,
    tool,
)
from plugbay.assembly import Assembly, assemble
from plugbay.cli import cli
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer

SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "x-upstream": "kept as given"}},
    "required": ["text"],
}


class RelaySettings(Settings):
    """Settings of the relay."""

    names: list[str] = ["shout"]


class Relay(Connector[RelaySettings]):
    """Components from elsewhere, known after start."""

    name = "relay"

    def __init__(self, instance: str, settings: RelaySettings) -> None:
        super().__init__(instance, settings)
        self.names = list(settings.names)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_components = False
        self.state: dict[str, Any] | None = {"backend": "up"}

    @tool(read_only=True)
    async def static(self) -> str:
        """A declared tool beside the dynamic ones."""
        return "static"

    async def components(self) -> Components:
        if self.fail_components:
            raise RuntimeError("the backend's schema registry is down")
        return Components(
            tools=[self._tool(name) for name in self.names],
            resources=[
                DynamicResource(
                    definition=types.Resource(uri=f"relay://{self.instance}/readme", name="readme"),
                    read=self._read,
                ),
                DynamicResource(
                    definition=types.ResourceTemplate(
                        uri_template=f"relay://{self.instance}/items/{{item}}", name="item"
                    ),
                    read=self._read,
                    complete=self._complete,
                ),
            ],
            prompts=[
                DynamicPrompt(
                    definition=types.Prompt(
                        name="brief",
                        description="A brief.",
                        arguments=[types.PromptArgument(name="topic", required=True)],
                    ),
                    render=self._render,
                    complete=self._complete,
                )
            ],
        )

    def _tool(self, name: str) -> DynamicTool:
        async def call(arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
            self.calls.append((name, dict(arguments)))
            if arguments.get("text") == "fail":
                raise ToolError("the backend refused")
            await context.report_progress(1, 2, "half")
            await context.log("info", f"{name} ran", logger="relay")
            if arguments.get("text") == "slow":
                await anyio.sleep(5)
            return types.CallToolResult(content=[types.TextContent(text=str(arguments))])

        return DynamicTool(
            definition=types.Tool(
                name=name,
                description=f"{name} things",
                input_schema=SCHEMA,
                annotations=types.ToolAnnotations(read_only_hint=True, idempotent_hint=True),
            ),
            call=call,
        )

    async def _read(
        self, uri: str, context: Context
    ) -> Sequence[types.TextResourceContents | types.BlobResourceContents]:
        return [types.TextResourceContents(uri=uri, text=f"read {uri}", mime_type="text/plain")]

    async def _render(
        self, arguments: Mapping[str, str], context: Context
    ) -> types.GetPromptResult:
        text = f"brief on {arguments['topic']}"
        return types.GetPromptResult(
            messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))]
        )

    async def _complete(self, argument: str, value: str, other: Mapping[str, str]) -> list[str]:
        return [f"{argument}:{value}1", f"{argument}:{value}2"]

    def describe_state(self) -> Mapping[str, Any] | None:
        return self.state

    async def check_health(self) -> None:
        if self.state and self.state.get("backend") != "up":
            raise RuntimeError("backend down")


class RelayPlugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(Relay)


class Seen:
    """Middleware that records what passes."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    async def __call__(self, call: Call, call_next: CallNext) -> Any:
        self.calls.append(call)
        return await call_next(call)


def build(
    connectors: dict[str, Any] | None = None, middleware: Any = None, **server: Any
) -> Assembly:
    plugins: dict[str, object] = {"relay": RelayPlugin()}
    if middleware is not None:

        class Mw:
            @hookimpl
            def register_middleware(self, register: Any) -> None:
                register(middleware)

        plugins["mw"] = Mw()
    registry = load_plugins({}, extra=plugins, entry_points=False)
    table: dict[str, Any] = {"connectors": connectors or {"r": {"plugin": "relay"}}}
    if server:
        table["server"] = server
    return assemble(registry, parse_config(table, environ={}))


def relay(assembly: Assembly, name: str = "r") -> Relay:
    obj = assembly.instances[name].obj
    assert isinstance(obj, Relay)
    return obj


async def test_dynamic_components_are_served_beside_declared_ones() -> None:
    seen = Seen()
    assembly = build(middleware=seen)
    assert set(assembly.catalog.tools) == {"r_static"}  # nothing dynamic before start
    await assembly.start()
    try:
        progress: list[Any] = []
        logs: list[Any] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            logs.append(params.data)

        server = PlugbayServer(assembly)
        async with Client(
            server.sdk, mode="legacy", logging_callback=on_log, log_level="info"
        ) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"r_static", "r_shout"}
            assert tools["r_shout"].input_schema == SCHEMA  # unchanged, not regenerated
            # Not validated by the host: an undeclared argument reaches the tool.
            result = await client.call_tool(
                "r_shout", {"text": "hi", "extra": 1}, progress_callback=on_progress
            )
            assert not result.is_error
            assert relay(assembly).calls == [("shout", {"text": "hi", "extra": 1})]
            assert progress == [(1, 2, "half")]
            assert logs == ["shout ran"]
            failed = await client.call_tool("r_shout", {"text": "fail"})
            assert failed.is_error
            assert failed.content[0].text == "the backend refused"  # type: ignore[union-attr]

            read = await client.read_resource("relay://r/readme")
            assert read.contents[0].text == "read relay://r/readme"  # type: ignore[union-attr]
            item = await client.read_resource("relay://r/items/7")
            assert item.contents[0].text == "read relay://r/items/7"  # type: ignore[union-attr]
            templates = (await client.list_resource_templates()).resource_templates
            assert [(t.name, t.uri_template) for t in templates] == [
                ("r_item", "relay://r/items/{item}")
            ]
            completion = await client.complete(
                types.ResourceTemplateReference(uri="relay://r/items/{item}"),
                {"name": "item", "value": "a"},
            )
            assert completion.completion.values == ["item:a1", "item:a2"]

            prompt = await client.get_prompt("r_brief", {"topic": "cats"})
            assert prompt.messages[0].content.text == "brief on cats"  # type: ignore[union-attr]
            completion = await client.complete(
                types.PromptReference(name="r_brief"), {"name": "topic", "value": "c"}
            )
            assert completion.completion.values == ["topic:c1", "topic:c2"]
        kinds = [(call.kind, call.name) for call in seen.calls]
        assert ("tool", "r_shout") in kinds
        assert ("resource", "relay://r/items/7") in kinds
        assert ("prompt", "r_brief") in kinds
        shout = next(call for call in seen.calls if call.name == "r_shout")
        assert shout.annotations["read_only"] is True
        assert shout.annotations["idempotent"] is True
        assert shout.instance == "r"
    finally:
        await assembly.stop()


async def test_instance_call_timeout_applies() -> None:
    assembly = build({"r": {"plugin": "relay", "call_timeout": 0.2}})
    await assembly.start()
    try:
        async with Client(PlugbayServer(assembly).sdk) as client:
            result = await client.call_tool("r_shout", {"text": "slow"})
        assert result.is_error
        assert "did not finish within 0.2 seconds" in result.content[0].text  # type: ignore[union-attr]
    finally:
        await assembly.stop()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_components_changed_refreshes_and_notifies(mode: str) -> None:
    assembly = build()
    await assembly.start()
    heard = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            heard.set()

    try:
        server = PlugbayServer(assembly)
        async with Client(server.sdk, mode=mode, message_handler=on_message) as client:
            obj = relay(assembly)
            obj.names = ["whisper", "shout"]
            if mode == "legacy":
                await obj.components_changed()
                with anyio.fail_after(5):
                    await heard.wait()
            else:
                async with client.listen(tools_list_changed=True) as subscription:
                    await obj.components_changed()
                    with anyio.fail_after(5):
                        await subscription.__anext__()
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"r_static", "r_shout", "r_whisper"}
            obj.names = []
            await obj.components_changed()
            assert {t.name for t in (await client.list_tools()).tools} == {"r_static"}
    finally:
        await assembly.stop()
    # After stop the connector's calls go nowhere.
    await relay(assembly).components_changed()


async def test_bad_and_clashing_names_are_left_out_and_reported() -> None:
    assembly = build(
        {
            "r": {"plugin": "relay", "names": ["ok", "bad name", "x" * 70]},
            "r_ok": {"plugin": "relay", "names": []},
        }
    )
    await assembly.start()
    try:
        assert "r_ok" in assembly.catalog.tools
        assert "r_ok_static" in assembly.catalog.tools
        # Another instance's declared tool takes "r_ok_static"; clash it deliberately.
        obj = relay(assembly, "r")
        obj.names = ["ok", "ok_static"]
        await obj.components_changed()
        problems = assembly.instances["r"].problems
        assert any("may use only letters" in problem for problem in problems)
        assert any("characters" in problem for problem in problems)
        assert any("'r_ok_static' is registered twice" in problem for problem in problems)
        assert assembly.catalog.tools["r_ok_static"].owner.instance == "r_ok"
        assert "r_ok" in assembly.catalog.tools
    finally:
        await assembly.stop()


async def test_a_failing_components_call_fails_the_start_or_keeps_the_last() -> None:
    assembly = build()
    relay(assembly).fail_components = True
    await assembly.start()
    state = assembly.instances["r"]
    assert state.status == "failed"
    assert "schema registry is down" in state.problems[0]
    assert "r_static" not in assembly.catalog.tools
    await relay(assembly).components_changed()  # ignored: the instance is not serving

    assembly = build()
    await assembly.start()
    try:
        relay(assembly).fail_components = True
        relay(assembly).names = ["new"]
        await relay(assembly).components_changed()
        assert "r_shout" in assembly.catalog.tools  # the previous components stay
        assert "r_new" not in assembly.catalog.tools
    finally:
        await assembly.stop()


async def test_describe_state_shows_in_instance_documents() -> None:
    assembly = build()
    assert "state" not in assembly.instances["r"].as_dict()  # not serving yet
    await assembly.start()
    try:
        assert assembly.instances["r"].as_dict()["state"] == {"backend": "up"}
        relay(assembly).state = None
        assert "state" not in assembly.instances["r"].as_dict()

        def broken() -> Mapping[str, Any]:
            raise RuntimeError("no state")

        relay(assembly).describe_state = broken  # type: ignore[method-assign]
        assert "state" not in assembly.instances["r"].as_dict()
    finally:
        await assembly.stop()


def test_plugins_check_starts_reports_and_stops(tmp_path: Any, monkeypatch: Any) -> None:
    config = tmp_path / "plugbay.toml"
    config.write_text('[connectors.r]\nplugin = "relay"\n')
    monkeypatch.setattr(
        "plugbay.cli_common.load_plugins",
        lambda environ: load_plugins({}, extra={"relay": RelayPlugin()}, entry_points=False),
    )
    runner = CliRunner()
    done = runner.invoke(cli, ["plugins", "--check", "--json", "--config", str(config)])
    assert done.exit_code == 0, done.output
    (instance,) = json.loads(done.output)["instances"]
    assert instance["health"] == "ok"
    assert instance["state"] == {"backend": "up"}
    assert instance["status"] == "ready"  # as it was while checked; stopped after

    text = runner.invoke(cli, ["plugins", "--check", "--config", str(config)])
    assert "health: ok" in text.output
    assert 'state: {"backend": "up"}' in text.output


def test_plugins_check_reports_a_failing_health_check(tmp_path: Any, monkeypatch: Any) -> None:
    class DownRelay(Relay):
        """Down."""

        name = "relay"

        async def check_health(self) -> None:
            raise RuntimeError("backend down: retrying in 3 s")

    class DownPlugin:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            register(DownRelay)

    config = tmp_path / "plugbay.toml"
    config.write_text('[connectors.r]\nplugin = "relay"\n')
    monkeypatch.setattr(
        "plugbay.cli_common.load_plugins",
        lambda environ: load_plugins({}, extra={"relay": DownPlugin()}, entry_points=False),
    )
    done = CliRunner().invoke(cli, ["plugins", "--check", "--json", "--config", str(config)])
    (instance,) = json.loads(done.output)["instances"]
    assert instance["health"] == "RuntimeError: backend down: retrying in 3 s"


def test_listings_start_instances_with_run_time_components(tmp_path: Any, monkeypatch: Any) -> None:
    config = tmp_path / "plugbay.toml"
    config.write_text('[connectors.r]\nplugin = "relay"\n')
    started: list[Relay] = []

    class Recorded(Relay):
        """Remembers its instances."""

        name = "relay"

        async def start(self) -> None:
            started.append(self)

        async def stop(self) -> None:
            self.state = None  # stopped

    class Plugin:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            register(Recorded)

    monkeypatch.setattr(
        "plugbay.cli_common.load_plugins",
        lambda environ: load_plugins({}, extra={"relay": Plugin()}, entry_points=False),
    )
    runner = CliRunner()
    tools = runner.invoke(cli, ["tools", "--config", str(config)])
    resources = runner.invoke(cli, ["resources", "--json", "--config", str(config)])
    prompts = runner.invoke(cli, ["prompts", "--config", str(config)])
    assert tools.exit_code == 0, tools.output
    # A header line, then one line per tool.
    assert [line.split()[0] for line in tools.output.splitlines()] == [
        "TOOL",
        "r_static",
        "r_shout",
    ]
    uris = [item.get("uri") or item.get("uriTemplate") for item in json.loads(resources.output)]
    assert uris == ["relay://r/readme", "relay://r/items/{item}"]
    assert prompts.output.splitlines()[1].split()[0] == "r_brief"  # under the header
    # Each listing started the instance and stopped it again.
    assert len(started) == 3
    assert all(instance.state is None for instance in started)


def test_listings_say_which_instances_did_not_start(tmp_path: Any, monkeypatch: Any) -> None:
    class Broken(Relay):
        """Cannot reach its backend."""

        name = "relay"

        async def start(self) -> None:
            raise ConnectionError("registry unreachable")

    class Plugin:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            register(Broken)

    config = tmp_path / "plugbay.toml"
    config.write_text('[connectors.r]\nplugin = "relay"\n')
    monkeypatch.setattr(
        "plugbay.cli_common.load_plugins",
        lambda environ: load_plugins({}, extra={"relay": Plugin()}, entry_points=False),
    )
    done = CliRunner().invoke(cli, ["tools", "--json", "--config", str(config)])
    assert done.exit_code == 0
    assert json.loads(done.stdout) == []
    assert "instance 'r' did not start" in done.stderr
    assert "registry unreachable" in done.stderr


async def test_context_log_outside_a_request_is_a_no_op() -> None:
    await Context().log("info", "nobody listens")


async def test_unknown_instance_refresh_is_ignored() -> None:
    assembly = build()
    await assembly.refresh_components("nope")


async def test_malformed_template_is_left_out() -> None:
    class OddRelay(Relay):
        """Odd."""

        name = "relay"

        async def components(self) -> Components:
            return Components(
                resources=[
                    DynamicResource(
                        definition=types.ResourceTemplate(
                            uri_template="relay://r/{unclosed", name="odd"
                        ),
                        read=self._read,
                    )
                ]
            )

    class OddPlugin:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            register(OddRelay)

    registry = load_plugins({}, extra={"relay": OddPlugin()}, entry_points=False)
    config = parse_config({"connectors": {"r": {"plugin": "relay"}}}, environ={})
    assembly = assemble(registry, config)
    await assembly.start()
    try:
        assert assembly.catalog.templates == []
        assert any("relay://r/{unclosed" in p for p in assembly.instances["r"].problems)
        async with Client(PlugbayServer(assembly).sdk) as client:
            with pytest.raises(MCPError, match="Resource not found"):
                await client.read_resource("relay://r/x")
    finally:
        await assembly.stop()
