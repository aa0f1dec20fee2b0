"""The ``plugbay`` command line, run in-process with click's CliRunner."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr

from plugbay import (
    Connector,
    Image,
    Settings,
    ToolError,
    __version__,
    hookimpl,
    prompt,
    resource,
    tool,
)
from plugbay.cli import cli


class DeskSettings(Settings):
    token: SecretStr
    greeting: str = "hello"


class Desk(Connector[DeskSettings]):
    """A help desk.

    Details nobody reads.
    """

    name = "desk"

    @tool(read_only=True)
    def greet(self, who: str) -> str:
        """Greet someone.

        Args:
            who: Their name.
        """
        return f"{self.settings.greeting}, {who}"

    @resource("tickets/{ticket_id}")
    def ticket(self, ticket_id: str) -> str:
        """One ticket."""
        return ticket_id

    @resource("status")
    def status(self) -> str:
        return "ok"


def repeat(text: str, times: int = 1, sep: str = " ") -> str:
    """Repeat text.

    More lines.
    """
    return sep.join([text] * times)


def stats(values: list[float]) -> dict[str, float]:
    """Sum and count numbers."""
    return {"sum": sum(values), "count": len(values)}


def refuse() -> str:
    raise ToolError("refused: the desk is closed")


def logo() -> Image:
    return Image(b"\x89PNG", "image/png")


@prompt
def summarize(topic: str) -> str:
    """Summarize a topic.

    Second line.
    """
    return f"Summarize {topic}"


@resource("memo://pinned")
def pinned() -> str:
    return "pinned"


class DeskPlugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(Desk)

    @hookimpl
    def register_tools(self, register: Any) -> None:
        for function in (repeat, stats, refuse, logo):
            register(function)

    @hookimpl
    def register_prompts(self, register: Any) -> None:
        register(summarize)

    @hookimpl
    def register_resources(self, register: Any) -> None:
        register(pinned)


class Exploding:
    @hookimpl
    def register_tools(self, register: Any) -> None:
        raise RuntimeError("plugin bug")


class Unmarked:
    def register_tools(self, register: Any) -> None:  # no @hookimpl
        raise AssertionError("never called")


@dataclass
class Dist:
    name: str
    version: str


class EntryPoint:
    def __init__(self, name: str, plugin: Any) -> None:
        self.name = name
        self.value = f"plugbay_{name}"
        self.dist = Dist(f"plugbay-{name}", "0.9.1")
        self._plugin = plugin

    def load(self) -> Any:
        if isinstance(self._plugin, BaseException):
            raise self._plugin
        return self._plugin


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Installed plugins (by name) for the CLI to find; runs in an empty directory."""
    plugins: dict[str, Any] = {"desk": DeskPlugin()}
    monkeypatch.setattr(
        "plugbay.plugins.metadata.entry_points",
        lambda *, group: [EntryPoint(name, plugin) for name, plugin in plugins.items()],
    )
    for key in list(os.environ):
        if key.startswith("PLUGBAY_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return plugins


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_version(installed: dict[str, Any]) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_plugins(installed: dict[str, Any]) -> None:
    installed["broken"] = ImportError("No module named 'requests'")
    installed["exploding"] = Exploding()
    installed["unmarked"] = Unmarked()
    result = run("plugins")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PLUGIN", "VERSION", "STATUS", "HOOKS"]
    builtin = next(line for line in lines if line.startswith("builtin"))
    assert builtin.split() == ["builtin", "-", "builtin", "register_middleware"]
    desk = next(line for line in lines if line.startswith("desk"))
    assert desk.split()[:3] == ["desk", "0.9.1", "loaded"]
    assert "register_connectors," in desk
    assert "    error: import failed: ImportError: No module named 'requests'" in result.stdout
    assert "    error: register_tools: RuntimeError: plugin bug" in result.stdout
    unmarked = next(line for line in lines if line.startswith("unmarked"))
    assert unmarked.split() == ["unmarked", "0.9.1", "loaded", "-"]
    assert "    warning: Unmarked implements no plugbay hook" in result.stdout
    assert ["INSTANCE", "CONNECTOR", "STATUS"] in [line.split() for line in lines]
    desk_instance = next(
        line for line in lines if line.startswith("desk ") and "not configured" in line
    )
    assert desk_instance.split()[:2] == ["desk", "desk"]
    assert (
        "    token is required: set 'token' in [connectors.desk] or the environment variable "
        "PLUGBAY_DESK__TOKEN"
    ) in lines


def test_plugins_json(installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGBAY_DESK__TOKEN", "t0ken")
    result = run("plugins", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    plugins = {p["name"]: p for p in document["plugins"]}
    assert plugins["desk"] == {
        "name": "desk",
        "status": "loaded",
        "version": "0.9.1",
        "distribution": "plugbay-desk",
        "module": "DeskPlugin",
        "hooks": [
            "register_connectors",
            "register_prompts",
            "register_resources",
            "register_tools",
        ],
        "errors": [],
        "warnings": [],
    }
    assert document["instances"] == [
        {
            "name": "desk",
            "connector": "desk",
            "plugin": "desk",
            "status": "configured",
            "problems": [],
        }
    ]
    assert "t0ken" not in result.stdout


def test_plugins_respects_the_block_variable(installed: dict[str, Any], monkeypatch) -> None:
    monkeypatch.setenv("PLUGBAY_BLOCK_PLUGINS", "desk")
    document = json.loads(run("plugins", "--json").stdout)
    assert {p["name"]: p["status"] for p in document["plugins"]} == {
        "builtin": "builtin",
        "desk": "blocked",
    }
    assert document["instances"] == []


def test_tools(installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGBAY_DESK__TOKEN", "t")
    result = run("tools")
    assert result.exit_code == 0
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["TOOL", "DESCRIPTION"]
    rows = {line.split()[0]: line for line in lines}
    assert set(rows) == {"desk_greet", "repeat", "stats", "refuse", "logo"}
    assert rows["desk_greet"].split(None, 1)[1] == "Greet someone."
    assert rows["repeat"].split(None, 1)[1] == "Repeat text."
    assert rows["refuse"].strip() == "refuse"

    tools = json.loads(run("tools", "--json").stdout)
    greet = next(t for t in tools if t["name"] == "desk_greet")
    assert greet["inputSchema"]["properties"]["who"] == {
        "type": "string",
        "description": "Their name.",
    }
    assert greet["annotations"] == {"readOnlyHint": True}
    stats_tool = next(t for t in tools if t["name"] == "stats")
    assert stats_tool["outputSchema"]["type"] == "object"


def test_resources(installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGBAY_DESK__TOKEN", "t")
    header, *lines = run("resources").stdout.splitlines()
    assert header.split() == ["URI", "DESCRIPTION"]
    assert [line.split()[0] for line in lines] == [
        "desk://desk/status",
        "memo://pinned",
        "desk://desk/tickets/{ticket_id}",
    ]
    assert lines[2].split(None, 1)[1] == "One ticket."
    assert lines[0].rstrip() == "desk://desk/status"
    items = json.loads(run("resources", "--json").stdout)
    assert items[2] == {
        "uriTemplate": "desk://desk/tickets/{ticket_id}",
        "name": "desk_ticket",
        "description": "One ticket.",
    }


def test_prompts(installed: dict[str, Any]) -> None:
    lines = run("prompts").stdout.splitlines()
    assert [line.split(None, 1) for line in lines] == [
        ["PROMPT", "DESCRIPTION"],
        ["summarize", "Summarize a topic."],
    ]
    (item,) = json.loads(run("prompts", "--json").stdout)
    assert item["arguments"] == [{"name": "topic", "required": True}]


def test_call_with_key_value_pairs(installed: dict[str, Any]) -> None:
    result = run("call", "repeat", "text=hi", "times=3", "sep=-")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hi-hi-hi\n"
    # Values that parse as JSON are JSON; "3" becomes 3, a bare word stays a string.
    result = run("call", "repeat", "text=42", "times=2")
    assert result.exit_code == 1
    assert "Invalid arguments for repeat: text: Input should be a valid string" in result.stdout
    result = run("call", "repeat", 'text="42"', "times=2", "sep==")
    assert result.stdout == "42=42\n"


def test_call_with_json_arguments(installed: dict[str, Any]) -> None:
    result = run("call", "stats", "--args", '{"values": [1, 2.5]}')
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"sum": 3.5, "count": 2}
    result = run("call", "repeat", "--args", '{"text": "a", "times": 2}', "times=3")
    assert result.stdout == "a a a\n"  # pairs win over --args


def test_call_on_a_connector_instance(installed: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "plugbay.toml").write_text(
        '[connectors.help]\nplugin = "desk"\ntoken = "${DESK_TOKEN}"\ngreeting = "Hi"\n',
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text("DESK_TOKEN=from-dotenv\n", encoding="utf-8")
    result = run("call", "help_greet", "who=Ada")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hi, Ada\n"


def test_call_non_text_content_prints_json(installed: dict[str, Any]) -> None:
    result = run("call", "logo")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "type": "image",
        "data": "iVBORw==",
        "mimeType": "image/png",
    }


def test_call_errors(installed: dict[str, Any]) -> None:
    result = run("call", "refuse")
    assert result.exit_code == 1
    assert result.stdout == "refused: the desk is closed\n"

    result = run("call", "nothing")
    assert result.exit_code == 2
    assert "unknown tool 'nothing' (the tools are: logo, refuse, repeat, stats)" in result.output
    result = run("call", "repaet")
    assert result.exit_code == 2
    assert "unknown tool 'repaet'; did you mean 'repeat'?" in result.output

    result = run("call", "repeat", "novalue")
    assert result.exit_code == 2
    assert "'novalue' is not key=value" in result.output
    result = run("call", "repeat", "=x")
    assert result.exit_code == 2
    result = run("call", "repeat", "--args", "{not json")
    assert result.exit_code == 2
    assert "not JSON" in result.output
    result = run("call", "repeat", "--args", "[1]")
    assert result.exit_code == 2
    assert "must be a JSON object" in result.output


def test_config_check_ok(installed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(
        '[connectors.a]\nplugin = "desk"\ntoken = "x"\n'
        '[connectors.b]\nplugin = "desk"\ntoken = "y"\n',
        encoding="utf-8",
    )
    result = run("config", "check", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"configuration OK: {path}",
        "  plugins loaded: desk",
        "  connector instances: 2 (a, b), 6 tool(s) declared",
    ]
    # It says what it did not do.
    assert "Nothing was started and nothing was connected to" in result.stdout
    assert "plugbay check" in result.stdout


def test_config_check_reports_every_problem(installed: dict[str, Any], tmp_path: Path) -> None:
    installed["exploding"] = Exploding()
    path = tmp_path / "plugbay.toml"
    path.write_text(
        '[connectors.a]\nplugin = "desk"\n[connectors.b]\nplugin = "nope"\n'
        '[connectors.c]\nplugin = "desk"\ntoken = "${UNSET_TOKEN}"\n',
        encoding="utf-8",
    )
    result = run("config", "check")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: [connectors.a]: token is required: set 'token' in [connectors.a] or the "
        "environment variable PLUGBAY_A__TOKEN",
        "error: [connectors.b]: no installed plugin provides the connector 'nope' (is its "
        "package installed? see `plugbay plugins`)",
        "error: [connectors.c]: the environment variable UNSET_TOKEN is not set",
        "error: plugin 'exploding': register_tools: RuntimeError: plugin bug (at "
        f"{__file__}:{Exploding.register_tools.__code__.co_firstlineno + 2})",
    ]


def test_config_check_without_a_file_lists_unconfigured_connectors(
    installed: dict[str, Any],
) -> None:
    result = run("config", "check")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        "error: desk is not configured: token is required: set 'token' in [connectors.desk] or "
        "the environment variable PLUGBAY_DESK__TOKEN"
    ]


def test_config_check_with_no_instances(installed: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "plugbay.toml").write_text("[connectors]\n", encoding="utf-8")
    result = run("config", "check")
    assert result.exit_code == 0
    assert "  connector instances: 0 (none), 4 tool(s) declared" in result.stdout.splitlines()


def test_bad_config_file(installed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[server]\nport = \n", encoding="utf-8")
    for command in (["tools"], ["plugins"], ["call", "repeat", "text=x"]):
        result = run(*command, "--config", str(path))
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: {path}: not valid TOML: ")
    # The checks exit 1 on any problem, as the guide says, an unreadable file included.
    for command in (["config", "check"], ["check"]):
        result = run(*command, "--config", str(path))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {path}: not valid TOML: ")
    result = run("tools", "--config", str(tmp_path / "absent.toml"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'absent.toml'}: no such configuration file\n"
    path.write_text("[server]\nport = -1\nbogus = true\n", encoding="utf-8")
    result = run("config", "check", "--config", str(path))
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 2


def test_verbose_flag_is_accepted(installed: dict[str, Any]) -> None:
    result = run("-v", "prompts")
    assert result.exit_code == 0
    assert "summarize" in result.stdout


def test_plugins_without_instances(installed: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "plugbay.toml").write_text("[connectors]\n", encoding="utf-8")
    result = run("plugins")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "no connector instances"


def test_serve_warnings_for_instances_and_plugins(
    installed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from plugbay.banner import banner_lines
    from plugbay.cli import _assemble, _report_plugins

    installed["exploding"] = Exploding()
    assembly = _assemble(None)
    _report_plugins(assembly)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warn")]
    assert lines[0].startswith(
        "warning: plugin exploding failed: register_tools: RuntimeError: plugin bug"
    )
    # With no configuration file the connectors that lack settings share one banner line.
    assert banner_lines(assembly, "stdio")[-1] == (
        "plugbay: not configured: desk (run `plugbay init` to write a plugbay.toml for them)"
    )


def test_main_and_python_dash_m(installed: dict[str, Any], monkeypatch, capsys) -> None:
    import runpy
    import sys

    from plugbay.cli import main

    monkeypatch.setattr(sys, "argv", ["plugbay", "--version"])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 0
    with pytest.raises(SystemExit) as caught:
        runpy.run_module("plugbay", run_name="__main__")
    assert caught.value.code == 0
    assert capsys.readouterr().out.count(f"plugbay {__version__}\n") == 2


def _commands(command: click.Command, path: str = "plugbay") -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _commands(sub, f"{path} {name}")
    return found


@pytest.mark.parametrize(("path", "command"), _commands(cli)[1:], ids=lambda v: str(v))
def test_every_command_has_a_short_summary_and_an_example(
    path: str, command: click.Command
) -> None:
    # An explicit short_help is shown whole in the parent's --help listing.
    assert command.short_help, f"{path} has no short_help (its summary would be cut)"
    assert len(command.short_help) <= 50, path
    assert "Example" in (command.help or ""), f"{path}'s --help has no example"


def test_a_misspelled_plugin_selection_is_named(
    installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLUGBAY_PLUGINS", "dsk")
    result = run("plugins")
    assert (
        "warning: PLUGBAY_PLUGINS names 'dsk', which is not an installed plugin; "
        "did you mean 'desk'?"
    ) in result.stderr


def test_empty_listings_say_so(installed: dict[str, Any], tmp_path: Path) -> None:
    installed.clear()
    (tmp_path / "plugbay.toml").write_text("[connectors]\n", encoding="utf-8")
    assert run("tools").stdout == "no tools\n"
    assert run("resources").stdout == "no resources\n"
    assert run("prompts").stdout == "no prompts\n"
    result = run("call", "anything")
    assert result.exit_code == 2
    assert "the server has no tools (see `plugbay check`)" in result.output


def test_check_reports_each_instance_and_exits_1_on_a_failure(
    installed: dict[str, Any], tmp_path: Path
) -> None:
    installed["sick"] = SickPlugin()
    (tmp_path / "plugbay.toml").write_text(
        '[connectors.a]\nplugin = "desk"\ntoken = "x"\n'
        '[connectors.b]\nplugin = "desk"\n'
        '[connectors.ill]\nplugin = "sick"\n',
        encoding="utf-8",
    )
    result = run("check", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    rows = {row["name"]: row for row in report["results"]}
    assert rows["a"] == {"name": "a", "kind": "instance (desk)", "status": "ready", "reason": ""}
    assert rows["b"]["status"] == "failed"
    assert rows["b"]["reason"].startswith("not configured: token is required")
    assert rows["ill"]["status"] == "failed"
    assert rows["ill"]["reason"] == "health check: ConnectionError: the backend is down"

    table = run("check")
    assert table.exit_code == 1
    assert table.stdout.splitlines()[0].split() == ["NAME", "KIND", "STATUS", "REASON"]


def test_check_without_a_file_skips_the_unconfigured(installed: dict[str, Any]) -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    (row,) = result.stdout.splitlines()[1:]
    assert row.split()[:4] == ["desk", "instance", "(desk)", "skipped"]


class Sick(Connector[Settings]):
    """Starts, but its backend does not answer."""

    name = "sick"

    @tool(read_only=True)
    def ping(self) -> str:
        """Ping."""
        return "pong"

    async def check_health(self) -> None:
        raise ConnectionError("the backend is down")


class SickPlugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(Sick)
