"""The testing kit at work on a small, well-behaved connector: fixtures, harness, suite.

The connector below passes the whole conformance suite; the harness and fixture
tests show what an author's own tests look like.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, ClassVar

import pytest
from mcp import Client
from pydantic import BaseModel, Field, SecretStr

from plugbay import (
    AssemblyError,
    Connector,
    Settings,
    ToolError,
    hookimpl,
    prompt,
    resource,
    tool,
)
from plugbay_testing import (
    PROTOCOL_MODES,
    ConformanceSetup,
    ConnectorConformance,
    Harness,
    build_assembly,
    result_text,
    serve,
)


class NotesSettings(Settings):
    """Where the notes live."""

    directory: str = Field(description="Directory holding one .md file per note.")
    api_token: SecretStr | None = Field(default=None, description="Token for a sync service.")


class Note(BaseModel):
    """One note."""

    name: str
    text: str


class NotesConnector(Connector[NotesSettings]):
    """Read and write Markdown notes in a directory."""

    name = "notes"

    async def start(self) -> None:
        self.root = Path(self.settings.directory)
        if not self.root.is_dir():
            raise RuntimeError(f"{self.root} is not a directory")
        self.open_handles = 1

    async def stop(self) -> None:
        self.open_handles = 0

    def _path(self, name: str) -> Path:
        path = self.root / f"{name}.md"
        if not path.is_file():
            raise ToolError(
                f"There is no note called {name!r}; list_notes shows the notes there are."
            )
        return path

    @tool(read_only=True)
    def list_notes(self) -> list[str]:
        """List the names of all notes."""
        return sorted(path.stem for path in self.root.glob("*.md"))

    @tool(read_only=True, idempotent=True)
    def read_note(self, name: Annotated[str, Field(min_length=1)]) -> Note:
        """Read one note.

        Args:
            name: The note's name, without the .md extension.
        """
        return Note(name=name, text=self._path(name).read_text())

    @tool(read_only=False, destructive=True, idempotent=True)
    def write_note(self, name: str, text: str, overwrite: bool = False) -> Note:
        """Create a note, or replace one when overwrite is set.

        Args:
            name: The note's name, without the .md extension.
            text: The Markdown text.
            overwrite: Replace an existing note of that name.
        """
        path = self.root / f"{name}.md"
        if path.exists() and not overwrite:
            raise ToolError(f"The note {name!r} exists; pass overwrite=true to replace it.")
        path.write_text(text)
        return Note(name=name, text=text)

    @resource("index", mime_type="text/plain")
    def index(self) -> str:
        """The names of all notes, one per line."""
        return "\n".join(self.list_notes())

    @resource("notes/{name}", mime_type="text/markdown")
    def note(self, name: str) -> str:
        """The text of one note.

        Args:
            name: The note's name.
        """
        return self._path(name).read_text()

    @prompt
    def summarize(self, name: str) -> str:
        """Ask for a summary of a note.

        Args:
            name: The note to summarize.
        """
        return f"Summarize this note:\n\n{self._path(name).read_text()}"


def notes_plugin_module() -> ModuleType:
    """A plugin module, as ``plugbay_notes`` would be once installed."""
    module = ModuleType("plugbay_notes")

    @hookimpl
    def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
        register(NotesConnector)

    module.register_connectors = register_connectors  # type: ignore[attr-defined]
    return module


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    (tmp_path / "hello.md").write_text("# Hello\n\nFirst note.")
    return tmp_path


# -- the whole suite passes --------------------------------------------------------------


class TestNotesConformance(ConnectorConformance):
    connector = NotesConnector
    entry_point = False  # no distribution: test_testing_installed checks installed plugins
    sample_calls: ClassVar[dict[str, dict[str, Any]]] = {
        "list_notes": {},
        "read_note": {"name": "hello"},
    }
    sample_prompts: ClassVar[dict[str, dict[str, str]]] = {"summarize": {"name": "hello"}}
    resource_uris: ClassVar[list[str]] = ["notes/hello"]

    def config(self, tmp_path: Path) -> dict[str, Any]:
        (tmp_path / "hello.md").write_text("# Hello\n\nFirst note.")
        return {"directory": str(tmp_path)}


class TestNotesConformanceTomlAndNamedInstance(ConnectorConformance):
    """The suite with TOML settings, a custom instance name and absolute URIs."""

    connector = NotesConnector
    entry_point = False
    instance = "team-notes"
    config = 'directory = "${NOTES_DIR}"'
    sample_calls: ClassVar[dict[str, dict[str, Any]]] = {"team-notes_list_notes": {}}
    sample_prompts: ClassVar[dict[str, dict[str, str]]] = {
        "team-notes_summarize": {"name": "hello"}
    }
    resource_uris: ClassVar[list[str]] = ["notes://team-notes/index", "notes/hello"]

    def environ(self, notes_dir: Path) -> dict[str, str]:
        return {"NOTES_DIR": str(notes_dir)}

    def test_setup_is_resolved_once_per_test(self, conformance_setup: ConformanceSetup) -> None:
        assert conformance_setup.environ is not None
        assert Path(conformance_setup.environ["NOTES_DIR"], "hello.md").is_file()
        assert conformance_setup.resource_uris == ("notes://team-notes/index", "notes/hello")


# -- the harness -------------------------------------------------------------------------


async def test_serve_calls_tools_by_short_or_full_name(notes_dir: Path) -> None:
    async with serve(NotesConnector, settings={"directory": str(notes_dir)}) as h:
        assert h.protocol_version == "2026-07-28"
        assert await h.call_ok("list_notes") == {"result": ["hello"]}
        assert await h.call_ok("notes_read_note", name="hello") == {
            "name": "hello",
            "text": "# Hello\n\nFirst note.",
        }
        refused = await h.call("write_note", name="hello", text="again")
        assert refused.is_error
        assert "pass overwrite=true" in result_text(refused)
        assert h.connector.open_handles == 1  # type: ignore[attr-defined]
        connector = h.connector
    assert connector.open_handles == 0  # type: ignore[attr-defined]  # stopped after the block


async def test_a_failed_assert_in_the_block_is_raised_as_itself(notes_dir: Path) -> None:
    # Not wrapped in the exception groups of the client's task groups.
    with pytest.raises(AssertionError, match=r"^the test's own failure$"):
        async with serve(NotesConnector, settings={"directory": str(notes_dir)}):
            raise AssertionError("the test's own failure")


async def test_call_ok_raises_with_the_error_text(notes_dir: Path) -> None:
    async with serve(NotesConnector, settings={"directory": str(notes_dir)}) as h:
        with pytest.raises(
            AssertionError, match="notes_read_note returned an error: There is no note"
        ):
            await h.call_ok("read_note", name="missing")


async def test_serve_a_plugin_module_with_toml_config_and_two_instances(
    notes_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "b.md").write_text("b")
    config = f"""
        [server]
        page_size = 1

        [connectors.home]
        plugin = "notes"
        directory = "{notes_dir}"

        [connectors.work]
        plugin = "notes"
        directory = "${{WORK_DIR}}"
    """
    async with serve(notes_plugin_module(), config=config, environ={"WORK_DIR": str(other)}) as h:
        assert h.registry.plugins["notes"].status == "loaded"
        names = [tool.name for tool in await h.list_tools()]  # paged one at a time
        assert names == [
            "home_list_notes",
            "home_read_note",
            "home_write_note",
            "work_list_notes",
            "work_read_note",
            "work_write_note",
        ]
        assert await h.call_ok("work_list_notes") == {"result": ["b"]}
        assert [c.text for c in await h.read("notes://home/index")] == ["hello"]  # type: ignore[union-attr]
        prompt_result = await h.get_prompt("work_summarize", name="b")
        assert "Summarize this note" in prompt_result.messages[0].content.text  # type: ignore[union-attr]
        with pytest.raises(LookupError, match="2 connector instances are running"):
            _ = h.connector
        assert h.instance("work").settings.directory == str(other)  # type: ignore[attr-defined]
    assert "notes" not in h.registry.plugins  # unregistered after


async def test_legacy_mode_uses_the_handshake_era(notes_dir: Path) -> None:
    async with serve(NotesConnector, settings={"directory": str(notes_dir)}, mode="legacy") as h:
        assert h.protocol_version == "2025-11-25"
        assert await h.call_ok("list_notes") == {"result": ["hello"]}


async def test_environment_overrides_reach_the_settings(notes_dir: Path) -> None:
    environ = {"PLUGBAY_NOTES__DIRECTORY": str(notes_dir)}
    async with serve(NotesConnector, environ=environ) as h:
        assert h.instance("notes").settings.directory == str(notes_dir)  # type: ignore[attr-defined]


async def test_strict_serve_reports_missing_settings() -> None:
    with pytest.raises(AssemblyError, match=r"directory is required: set 'directory'"):
        async with serve(NotesConnector):
            pass


async def test_strict_serve_reports_a_failed_start(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(
        AssemblyError, match=r"failed to start: RuntimeError: .*nowhere is not a dir"
    ):
        async with serve(NotesConnector, settings={"directory": str(missing)}):
            pass


async def test_lenient_serve_serves_what_assembled(tmp_path: Path) -> None:
    async with serve(
        NotesConnector, settings={"directory": str(tmp_path / "x")}, strict=False
    ) as h:
        assert await h.list_tools() == []
        assert h.assembly.instances["notes"].status == "failed"


async def test_settings_need_exactly_one_connector_class() -> None:
    with pytest.raises(TypeError, match="exactly one connector class"):
        async with serve(notes_plugin_module(), settings={"directory": "."}):
            pass


def test_build_assembly_names_plugins_uniquely(notes_dir: Path) -> None:
    assembly = build_assembly(
        NotesConnector, notes_plugin_module(), settings={"directory": str(notes_dir)}
    )
    assert set(assembly.registry.plugins) == {"builtin", "notes", "notes-2"}
    # Both register the same connector class: the second is reported, not fatal.
    assert any("already registered" in problem for problem in assembly.problems)


# -- the pytest fixtures -----------------------------------------------------------------


async def test_plugbay_server_fixture(plugbay_server: Any, notes_dir: Path) -> None:
    async with plugbay_server(NotesConnector, settings={"directory": str(notes_dir)}) as h:
        assert isinstance(h, Harness)
        assert await h.call_ok("list_notes") == {"result": ["hello"]}


@pytest.mark.parametrize("mcp_mode", PROTOCOL_MODES)
async def test_plugbay_server_follows_mcp_mode(
    plugbay_server: Any, mcp_mode: str, notes_dir: Path
) -> None:
    async with plugbay_server(NotesConnector, settings={"directory": str(notes_dir)}) as h:
        expected = "2025-11-25" if mcp_mode == "legacy" else "2026-07-28"
        assert h.protocol_version == expected


class TestHarnessFixtures:
    @pytest.fixture
    def plugbay_plugins(self) -> list[Any]:
        return [NotesConnector]

    @pytest.fixture
    def plugbay_config(self, notes_dir: Path) -> dict[str, Any]:
        return {"connectors": {"mine": {"plugin": "notes", "directory": str(notes_dir)}}}

    @pytest.mark.parametrize("mcp_mode", PROTOCOL_MODES)
    async def test_mcp_client(self, mcp_client: Client, mcp_mode: str) -> None:
        assert mcp_client.protocol_version == (
            "2025-11-25" if mcp_mode == "legacy" else "2026-07-28"
        )
        result = await mcp_client.call_tool("mine_list_notes", {})
        assert result.structured_content == {"result": ["hello"]}

    async def test_plugbay_harness(self, plugbay_harness: Harness) -> None:
        assert sorted(plugbay_harness.assembly.catalog.tools) == [
            "mine_list_notes",
            "mine_read_note",
            "mine_write_note",
        ]
