"""The entry ``plugbay clients add`` writes starts the server as a desktop app would start it."""

from __future__ import annotations

import json
from pathlib import Path

import mcp_types as types
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters

from plugbay.cli import cli

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_the_written_entry_serves_from_slash_with_a_bare_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filesystem_plugin: str
) -> None:
    # The reproduction: a GUI app starts servers in / with a PATH that has no
    # virtual environment on it, and the settings' relative root must still be found.
    home = tmp_path / "home"
    home.mkdir()
    site = tmp_path / "site"
    (site / "notes").mkdir(parents=True)
    (site / "notes" / "hello.txt").write_text("hello from the desktop\n")
    config = site / "plugbay.toml"
    config.write_text('[connectors.notes]\nplugin = "filesystem"\nroots = ["notes"]\n')
    monkeypatch.setenv("PLUGBAY_CLIENTS_HOME", str(home))
    monkeypatch.chdir(site)
    plugins = f"PLUGBAY_PLUGINS={filesystem_plugin}"
    args = ["clients", "add", "claude-desktop", "--config", "plugbay.toml", "--env", plugins]
    added = CliRunner().invoke(cli, args)
    assert added.exit_code == 0, added.output
    [written] = home.rglob("claude_desktop_config.json")
    entry = json.loads(written.read_text())["mcpServers"]["plugbay"]

    server = StdioServerParameters(
        command=entry["command"],
        args=entry["args"],
        cwd="/",
        env={**entry["env"], "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "notes_read_text_file" in names
        read = await client.call_tool("notes_read_text_file", {"path": "hello.txt"})
        assert not read.is_error
        text = "".join(b.text for b in read.content if isinstance(b, types.TextContent))
        assert text == "hello from the desktop\n"
