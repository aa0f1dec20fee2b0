"""Settings, configuration, lifecycle and discovery through the entry point."""

from __future__ import annotations

import os
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from mcp import Client
from pydantic import ValidationError

import plugbay_filesystem
from plugbay.assembly import assemble
from plugbay.config import Config, parse_config
from plugbay.plugins import load_plugins
from plugbay.server import PlugbayServer
from plugbay_filesystem import FilesystemConnector, FilesystemSettings
from plugbay_filesystem.deny import DEFAULT_DENY

pytestmark = pytest.mark.anyio


def test_defaults_are_read_only_on_the_working_directory() -> None:
    settings = FilesystemSettings()
    assert settings.roots == [Path(".")]
    assert settings.allow_writes is False
    assert settings.max_read_bytes == 10 * 1024 * 1024
    assert settings.max_entries == 10_000


def test_roots_from_an_environment_string() -> None:
    expected = [Path("/srv/a"), Path("/srv/b")]
    assert FilesystemSettings(roots="/srv/a:/srv/b").roots == expected  # type: ignore[arg-type]
    assert FilesystemSettings(roots='["/srv/a", "/srv/b"]').roots == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        {"roots": []},
        {"roots": [""]},
        {"roots": ["/tmp\x00/x"]},
        {"max_read_bytes": 0},
        {"max_entries": 0},
        {"allow_write": True},
    ],
)
def test_invalid_settings_are_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FilesystemSettings.model_validate(values)


async def test_settings_from_environment_variables(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    environ = {
        "PLUGBAY_FILES__ROOTS": f"{first}:{second}",
        "PLUGBAY_FILES__ALLOW_WRITES": "true",
    }
    registry = load_plugins({}, extra={"filesystem": plugbay_filesystem}, entry_points=False)
    config = parse_config({"connectors": {"files": {"plugin": "filesystem"}}}, environ=environ)
    assembly = assemble(registry, config)
    await assembly.start()
    try:
        async with Client(PlugbayServer(assembly).sdk) as client:
            result = await client.call_tool("files_list_allowed_directories", {})
        assert result.structured_content == {
            "directories": [str(first.resolve()), str(second.resolve())],
            "writable": True,
            "denied": list(DEFAULT_DENY),
        }
    finally:
        await assembly.stop()


async def test_a_missing_root_fails_only_its_instance(tmp_path: Path) -> None:
    registry = load_plugins({}, extra={"filesystem": plugbay_filesystem}, entry_points=False)
    config = parse_config(
        {
            "connectors": {
                "good": {"plugin": "filesystem", "roots": [str(tmp_path)]},
                "bad": {"plugin": "filesystem", "roots": [str(tmp_path / "missing")]},
            }
        },
        environ={},
    )
    assembly = assemble(registry, config)
    await assembly.start()
    try:
        bad = assembly.instances["bad"]
        assert bad.status == "failed"
        assert any(
            "missing" in problem and "not an existing directory" in problem
            for problem in bad.problems
        )
        assert assembly.instances["good"].status == "ready"
        assert "good_list_directory" in assembly.catalog.tools
        assert "bad_list_directory" not in assembly.catalog.tools
    finally:
        await assembly.stop()


async def test_check_health_notices_a_vanished_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    connector = FilesystemConnector("fs", FilesystemSettings(roots=[str(root)]))
    with pytest.raises(RuntimeError, match="not been started"):
        connector.list_allowed_directories()
    await connector.start()
    await connector.check_health()
    shutil.rmtree(root)
    with pytest.raises(RuntimeError, match="no longer exist"):
        await connector.check_health()


def test_the_entry_point_is_installed() -> None:
    (entry,) = [entry for entry in entry_points(group="plugbay") if entry.name == "filesystem"]
    assert entry.value == "plugbay_filesystem"
    assert entry.load() is plugbay_filesystem


async def test_discovered_and_run_with_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hello.txt").write_text("hi")
    monkeypatch.chdir(tmp_path)
    registry = load_plugins({"PLUGBAY_PLUGINS": "filesystem"})
    assert registry.plugins["filesystem"].status == "loaded"
    assembly = assemble(registry, Config())
    await assembly.start()
    try:
        assert assembly.instances["filesystem"].status == "ready"
        async with Client(PlugbayServer(assembly).sdk) as client:
            listing = await client.call_tool("filesystem_list_directory", {})
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "[FILE] hello.txt" in listing.content[0].text  # type: ignore[union-attr]
        # Read-only by default: the write tools are not listed, and each tool says so.
        assert "filesystem_write_file" not in tools
        facts = f"This instance: directories {os.getcwd()}; read-only."
        assert tools["filesystem_list_directory"].description.endswith(facts)
        assert not (tmp_path / "x.txt").exists()
    finally:
        await assembly.stop()
